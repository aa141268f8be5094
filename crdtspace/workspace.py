"""The public workspace: a replica with the conveniences of every layer.

`Workspace` is a `crdtspace.model.replica.Replica` (the document, its agent, its log, the node
API) to which the layers above the model add what users reach for: a durable workspace made or
opened in a repository (`crdtspace.git.workspaces`), its conflicts (`crdtspace.conflicts`), the
commit gate and commits from outside (`crdtspace.git`), and a networked replica
(`crdtspace.live.netreplica`). The layers themselves never import this module: each works on a
`Replica`, so the model knows nothing of the layers above it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crdtspace.conflicts import resolution
from crdtspace.conflicts.analysis import analysis_of
from crdtspace.conflicts.findings import Analysis, Conflict
from crdtspace.git import gitio, workspaces
from crdtspace.model.replica import Replica

if TYPE_CHECKING:
    from crdtspace.git.gate import GateReport
    from crdtspace.git.gitsync import SyncReport
    from crdtspace.live.netreplica import NetworkReplica


class Workspace(Replica):
    """One replica: a pycrdt Doc with the crdtspace schema, edited by one agent."""

    # -- creating and opening ------------------------------------------------------------

    @classmethod
    def from_commit(
        cls,
        repo_path: Path | str = ".",
        rev: str = "HEAD",
        *,
        agent: str,
        size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
        progress: Callable[[int, int], None] | None = None,
    ) -> Workspace:
        """An in-memory replica importing a commit (deterministically: see `import_commit`)."""
        return workspaces.from_commit(
            cls, repo_path, rev, agent=agent, size_limit=size_limit, progress=progress
        )

    @classmethod
    def init(
        cls,
        repo_path: Path | str = ".",
        rev: str = "HEAD",
        *,
        agent: str | None = None,
        workspace: str = "default",
        size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
        progress: Callable[[int, int], None] | None = None,
        force: bool = False,
        lock_wait: float = 0.0,
    ) -> Workspace:
        """Create the durable workspace of a repository from a commit (`lock_wait`: seconds
        to queue while another process holds it)."""
        return workspaces.init_workspace(
            cls,
            repo_path,
            rev,
            agent=agent,
            workspace=workspace,
            size_limit=size_limit,
            progress=progress,
            force=force,
            lock_wait=lock_wait,
        )

    @classmethod
    def open(
        cls,
        repo_path: Path | str = ".",
        *,
        agent: str | None = None,
        workspace: str = "default",
        lock_wait: float = 0.0,
    ) -> Workspace:
        """Open a durable workspace: every recorded update is applied (a torn tail is dropped).
        `lock_wait`: seconds to queue while another process holds it."""
        return workspaces.open_workspace(
            cls, repo_path, agent=agent, workspace=workspace, lock_wait=lock_wait
        )

    @classmethod
    def connect(cls, url: str, token: str, *, agent: str, **options: Any) -> Workspace:
        """A replica synced live with a server: a `crdtspace.live.netreplica.NetworkReplica`
        that is also a `Workspace` (see `crdtspace.live.netreplica.connect` for the options)."""
        from crdtspace.live import netreplica

        replica = netreplica.connect(
            url, token, agent=agent, replica_class=_networked_workspace(), **options
        )
        assert isinstance(replica, Workspace)
        return replica

    def replica(self, agent: str) -> Workspace:
        """A new in-memory replica holding this one's current state, edited by `agent`."""
        return Workspace(self.copy_doc(), agent=agent, root=self.root)

    # -- conflicts -------------------------------------------------------------------------

    def analysis(self) -> Analysis:
        """Conflicts, notices and single-side breakage of the current state (incremental)."""
        return analysis_of(self)

    def conflicts(self) -> list[Conflict]:
        """The open conflicts (see `analysis()` for notices and broken code too)."""
        return list(self.analysis().conflicts)

    def resolve_conflict(
        self,
        conflict_id: str,
        take: str | None = None,
        text: str | None = None,
        *,
        base: str | None = None,
    ) -> Conflict:
        """Resolve a conflict by taking a side (an agent, "ours" or "theirs") or with a text
        for its node (see `crdtspace.conflicts.resolution.resolve`)."""
        return resolution.resolve(self, conflict_id, take, text, base=base)

    # -- the gate and git ------------------------------------------------------------------

    def commit(
        self,
        message: str,
        *,
        check: str | None = None,
        wait: float = 0.0,
        allow_behind: bool = False,
        run_check: bool = True,
        silent_after: float | None = None,
    ) -> GateReport:
        """Commit the current state to the branch through the gate (see `crdtspace.git.gate`);
        `silent_after`: seconds after which a replica not heard of stops blocking (default
        `crdtspace.git.presence.SILENT_AFTER`)."""
        from crdtspace.git import gate, presence

        quiet = presence.SILENT_AFTER if silent_after is None else silent_after
        options = gate.GateOptions(
            message, check, wait, allow_behind, run_check, silent_after=quiet
        )
        return gate.commit(self, options)

    def sync_git(self) -> SyncReport:
        """Apply commits that arrived on the branch from outside (see `crdtspace.git.gitsync`)."""
        from crdtspace.git.gitsync import sync_git

        return sync_git(self)


@functools.cache
def _networked_workspace() -> type[NetworkReplica]:
    """A networked replica that is also a `Workspace` (made on first use: the network layer is
    imported only by those who connect)."""
    from crdtspace.live.netreplica import NetworkReplica

    class NetworkWorkspace(NetworkReplica, Workspace):
        """A `Workspace` synced live with a server (see `NetworkReplica`)."""

    return NetworkWorkspace
