"""A repository's workspaces: replicas made from a commit, durable ones created and opened.

A durable workspace lives under `.git/crdtspace/<name>/` (its update log, versions, sessions).
Each function takes the class to make (`Replica`, or the `Workspace` façade).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pycrdt import Map

from crdtspace.errors import StorageError
from crdtspace.git import gitio, summary
from crdtspace.model.core import COMPACT_AFTER, replay
from crdtspace.model.importing import import_commit
from crdtspace.model.replica import Replica
from crdtspace.model.storage import UpdateLog
from crdtspace.model.versions import new_doc

R = TypeVar("R", bound=Replica)


def from_commit(
    cls: type[R],
    repo_path: Path | str = ".",
    rev: str = "HEAD",
    *,
    agent: str,
    size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
    progress: Callable[[int, int], None] | None = None,
) -> R:
    """An in-memory replica importing a commit (deterministically: see `import_commit`)."""
    repo = gitio.open_repo(Path(repo_path))
    commit = gitio.resolve_commit(repo, rev)
    update = import_commit(
        commit.hexsha, gitio.read_tree(commit, size_limit=size_limit), progress=progress
    )
    doc = new_doc()
    doc.apply_update(update)
    return cls(doc, agent=agent, root=gitio.repo_root(repo))


def init_workspace(
    cls: type[R],
    repo_path: Path | str = ".",
    rev: str = "HEAD",
    *,
    agent: str | None = None,
    workspace: str = "default",
    size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
    lock_wait: float = 0.0,
) -> R:
    """Create the durable workspace of a repository from a commit (`lock_wait`: seconds to
    queue while another process holds the workspace)."""
    repo = gitio.open_repo(Path(repo_path))
    log = UpdateLog(gitio.state_dir(repo, workspace), wait=lock_wait)
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
    ws = cls.durable(doc, name, log, gitio.repo_root(repo))
    _summarised(ws, log.path.parent, workspace, None)
    return ws


def open_workspace(
    cls: type[R],
    repo_path: Path | str = ".",
    *,
    agent: str | None = None,
    workspace: str = "default",
    lock_wait: float = 0.0,
) -> R:
    """Open a durable workspace: every recorded update is applied (a torn tail is dropped).
    `lock_wait`: seconds to queue while another process holds it."""
    repo = gitio.open_repo(Path(repo_path))
    log = UpdateLog(gitio.state_dir(repo, workspace), wait=lock_wait)
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
        root = gitio.repo_root(repo)
        directory = log.path.parent
        torn = summary.fingerprint(directory) if loaded.dropped_bytes else None
        base = str(doc.get("meta", type=Map).get("base", ""))
        pending = summary.take_pending(directory, base, root)
        name = agent or gitio.user_name(repo)
        ws = cls.durable(doc, name, log, root)
        if len(loaded.records) > COMPACT_AFTER:
            ws.compact_log()
    except BaseException:
        log.close()
        raise
    if pending is not None:
        # A `git commit` of exactly this state, on top of its base (the post-commit shim checked
        # it): recorded as the gate records its own commits. See crdtspace.git.summary.
        ws.committed(pending)
        summary.drop_pending(directory)
    _summarised(ws, directory, workspace, torn.size if torn is not None else None)
    return ws


def _summarised(ws: Replica, directory: Path, workspace: str, torn: int | None) -> None:
    """Have `ws` bring the summary the hooks and `status` read up to date when it closes (held
    weakly: a workspace dropped unclosed still frees its log, and its lock, at once)."""
    held = weakref.ref(ws)

    def refresh() -> None:
        replica = held()
        if replica is not None:
            summary.refresh(replica, directory, workspace, torn=torn)

    ws.on_close(refresh)
