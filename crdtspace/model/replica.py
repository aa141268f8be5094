"""The workspace: one replica of the document, its agent, its durable log, and the node API."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pycrdt import Doc

from crdtspace.conflicts import resolution
from crdtspace.conflicts.analysis import Analyzer, duplicate_units, grown_logs, identical_folds
from crdtspace.conflicts.findings import Analysis, Conflict
from crdtspace.errors import (
    CrdtspaceWarning,
    DocumentError,
    StorageError,
)
from crdtspace.git import gitio
from crdtspace.git.gate import GateReport
from crdtspace.git.gitsync import SyncReport
from crdtspace.model.core import COMPACT_AFTER, replay
from crdtspace.model.document import import_commit
from crdtspace.model.sessions import Sessions
from crdtspace.model.storage import UpdateLog
from crdtspace.model.versions import VersionStore, new_doc, snapshot


class Workspace(Sessions):
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
        repo = gitio.open_repo(Path(repo_path))
        commit = gitio.resolve_commit(repo, rev)
        update = import_commit(
            commit.hexsha, gitio.read_tree(commit, size_limit=size_limit), progress=progress
        )
        doc = new_doc()
        doc.apply_update(update)
        return cls(doc, agent=agent, root=gitio.repo_root(repo))

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
    ) -> Workspace:
        """Create the durable workspace of a repository from a commit."""
        repo = gitio.open_repo(Path(repo_path))
        log = UpdateLog(gitio.state_dir(repo, workspace))
        if log.path.exists() and log.path.stat().st_size > 0 and not force:
            raise StorageError(
                f"A workspace {workspace!r} already exists in this repository.",
                hint="open it, or run init with --force to start over from the commit",
            )
        try:
            commit = gitio.resolve_commit(repo, rev)
            update = import_commit(
                commit.hexsha, gitio.read_tree(commit, size_limit=size_limit), progress=progress
            )
            log.compact(update)
        except BaseException:
            log.close()
            raise
        doc = new_doc()
        doc.apply_update(update)
        name = agent or gitio.user_name(repo)
        return cls.durable(doc, name, log, gitio.repo_root(repo))

    @classmethod
    def open(
        cls,
        repo_path: Path | str = ".",
        *,
        agent: str | None = None,
        workspace: str = "default",
    ) -> Workspace:
        """Open a durable workspace: every recorded update is applied (a torn tail is dropped)."""
        repo = gitio.open_repo(Path(repo_path))
        log = UpdateLog(gitio.state_dir(repo, workspace))
        try:
            loaded = log.load()
            if not loaded.records:
                raise StorageError(
                    "This repository has no crdtspace workspace yet.",
                    hint="run `crdtspace init` first",
                )
            doc = new_doc()
            replay(
                doc,
                loaded.records,
                log.path,
                hint="the log is damaged: `crdtspace repair` keeps every sound record (and a copy)",
            )
            if len(loaded.records) > COMPACT_AFTER:
                log.compact(doc.get_update())
        except BaseException:
            log.close()
            raise
        name = agent or gitio.user_name(repo)
        return cls.durable(doc, name, log, gitio.repo_root(repo))

    @classmethod
    def durable(cls, doc: Doc[Any], agent: str, log: UpdateLog, root: Path) -> Workspace:
        """The shared workspace of a repository: its log, its versions, writes with no known
        base based on the last commit."""
        versions = VersionStore(log.path.parent)
        ws = cls(doc, agent=agent, log=log, root=root, versions=versions, unread_base="commit")
        if ws.document.meta.get("base") and ws.document.meta.get("base_version") is None:
            # Made before versions: its base commit's state was not recorded. From now on, its
            # current state stands for it (as every write was based on before), said aloud.
            warnings.warn(
                "This workspace predates versions: writes with no known base are based on its "
                "state now until the next commit through the gate or sync-git.",
                CrdtspaceWarning,
                stacklevel=3,
            )
            state = snapshot(doc)
            with ws.transaction("versions"):
                ws.document.meta["base_version"] = state
        return ws

    @classmethod
    def connect(cls, url: str, token: str, *, agent: str, **options: Any) -> Workspace:
        """A replica synced live with a server: a `crdtspace.live.netreplica.NetworkReplica`
        (see `crdtspace.live.netreplica.connect` for the options)."""
        from crdtspace.live import netreplica

        return netreplica.connect(url, token, agent=agent, **options)

    def replica(self, agent: str) -> Workspace:
        """A new in-memory replica holding this one's current state, edited by `agent`."""
        self.flush()
        doc = new_doc()
        doc.apply_update(self.doc.get_update())
        return Workspace(doc, agent=agent, root=self.root)

    # -- updates in and out --------------------------------------------------------------

    def _fold_identical(self) -> None:
        """Make concurrent identical changes count once, as git would.

        Two sides making the same edit (or adding the same unit) merge in a CRDT as two
        insertions: the text comes out doubled. When every head of a node holds the same
        texts and the merged node does not, the node is set to them, as an edit that has seen
        all heads; of two identical units created at once in one container, the one with the
        larger id is deleted. Replicas doing this at the same time start from the same state
        (the node's text is a function of the entries seen), so their edits delete the same
        items and merge cleanly."""
        if self._folding:
            return
        self._folding = True
        try:
            grown = grown_logs(self.document, self._fold_seen)
            for nid, texts in identical_folds(self.document, grown):
                self.set_node_texts(nid, texts)
            for nid in duplicate_units(self.document, grown):
                if self.document.path_of(nid) is not None:
                    self._delete(nid, "fold an identical addition")
        finally:
            self._folding = False

    # -- conflicts -------------------------------------------------------------------------

    def analysis(self) -> Analysis:
        """Conflicts, notices and single-side breakage of the current state (incremental)."""
        self.flush()
        if self._analyzer is None:
            self._analyzer = Analyzer(self.document)
        return self._analyzer.analyse()

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
        for its node. The resolution is a CRDT edit every replica sees; returns the conflict.
        A text made from a read of the node (`base`: that read's version) is applied from it:
        what changed the node since stays, concurrent with the resolution."""
        if (take is None) == (text is None):
            raise DocumentError("Resolve a conflict either by taking a side or with a text.")
        conflict = self.analysis().find(conflict_id)
        if conflict is None:
            raise DocumentError(
                f"There is no open conflict {conflict_id!r}.",
                hint="`crdtspace conflicts` lists them",
            )
        if text is not None and base is not None and base.strip() != self.version():
            forked = self.fork_at(base.strip())
            try:
                seen = forked.analysis().find(conflict.id)
                if seen is None:
                    raise DocumentError(
                        f"Conflict {conflict.id} was not open at version {base.strip()}."
                    )
                with forked.transaction(f"resolve {conflict.id}"):
                    resolution.apply_text(forked, seen, text)
                    resolution.record(forked, seen, "edit")
            except BaseException:
                forked.close()
                raise
            self.merge_fork(forked)
            return conflict
        with self.transaction(f"resolve {conflict.id}"):
            if take is not None:
                agent = resolution.pick_agent(self, conflict, take)
                resolution.apply_take(self, conflict, agent)
                resolution.record(self, conflict, f"take {agent}")
            else:
                resolution.apply_text(self, conflict, text or "")
                resolution.record(self, conflict, "edit")
        return conflict

    # -- the gate ---------------------------------------------------------------------------

    def commit(
        self,
        message: str,
        *,
        check: str | None = None,
        wait: float = 0.0,
        allow_behind: bool = False,
        run_check: bool = True,
    ) -> GateReport:
        """Commit the current state to the branch through the gate (see `crdtspace.git.gate`)."""
        from crdtspace.git import gate

        options = gate.GateOptions(message, check, wait, allow_behind, run_check)
        return gate.commit(self, options)

    def sync_git(self) -> SyncReport:
        """Apply commits that arrived on the branch from outside (see `crdtspace.git.gitsync`)."""
        from crdtspace.git.gitsync import sync_git

        return sync_git(self)
