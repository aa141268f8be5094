"""What a watcher keeps and sees: each path's base and version, the disk's text and the workspace's.

`WatchState` holds a `crdtspace.live.watch.Watcher`'s memory of every path (the base and its
version), notes which nodes and files a transaction not its own touched, reads the disk and
renders the workspace's text, and finds the files a tick looks at. The watcher
(`crdtspace.live.watch`) decides what to do with a difference.

`serialize_calls` makes a plain workspace's public methods take the watcher's lock while its
threads run, as a networked replica's always do (`crdtspace.live.netreplica`): pycrdt lets
only the thread in a transaction use it, and a transaction running observers is visible to
every thread (a read made then from another thread crashed in pycrdt's Rust code, "Object
accessed from a different thread").
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from crdtspace.errors import CrdtspaceError, PathError
from crdtspace.git import gitio
from crdtspace.live.disk import TEMP_MARK, Binary, Disk, WatchEvent, git, user_name
from crdtspace.live.locking import public_methods
from crdtspace.model import materialize
from crdtspace.model.replica import Replica

__all__ = ["EMPTY_QUIET", "WatchState", "release_calls", "serialize_calls"]

EMPTY_QUIET = 0.25
"""Seconds a file found empty must stay so before the emptying counts as a save."""

UNSERIALIZED = frozenset({"transaction", "acting_as"})
"""Context managers: a lock held while one is made would not cover its block; hold the lock
around such a block."""

_SERIALIZED = "_serialized_calls"  # (the instance attribute: [lock, users, lock installed])


def serialize_calls(workspace: Replica, lock: Any) -> Any:
    """Make every public method of `workspace` take `lock` (re-entrant) until as many
    `release_calls` as calls of this; returns the lock its calls take: `lock`, or the one
    they took already (another watcher's), or none needed (a networked replica's methods take
    its own). The lock is also set as ``workspace.lock``, where watchers and runners made
    meanwhile find it."""
    if getattr(getattr(type(workspace), "render", None), "_takes_the_lock", False):
        return lock  # (a networked replica: its class locks every call)
    state = vars(workspace).get(_SERIALIZED)
    if state is not None:
        state[1] += 1
        return state[0]
    for name in public_methods(type(workspace), UNSERIALIZED):
        setattr(workspace, name, _locked(getattr(workspace, name), lock))
    installed = getattr(workspace, "lock", None) is None
    if installed:
        workspace.lock = lock  # type: ignore[attr-defined]  # (as a networked replica has)
    setattr(workspace, _SERIALIZED, [lock, 1, installed])
    return lock


def release_calls(workspace: Replica) -> None:
    """Undo one `serialize_calls`; the last one leaves the methods as they were."""
    state = vars(workspace).get(_SERIALIZED)
    if state is None:
        return
    state[1] -= 1
    if state[1]:
        return
    for name, value in list(vars(workspace).items()):
        if getattr(value, "_serializes", False):
            delattr(workspace, name)
    if state[2]:
        del workspace.lock  # type: ignore[attr-defined]
    delattr(workspace, _SERIALIZED)


def _locked(method: Callable[..., Any], lock: Any) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    locked._serializes = True  # type: ignore[attr-defined]  # (a marker: what to undo)
    return locked


class WatchState:
    """A watcher's memory of each path and its view of the disk and the workspace."""

    def __init__(
        self,
        workspace: Replica,
        root: Path | str | None = None,
        *,
        agent: str | None = None,
        step_ms: int = 15,
        debounce_ms: int = 400,
        settle: float = 0.005,
        size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
        lock: Any = None,
    ) -> None:
        if root is None:
            if workspace.root is None:
                raise PathError("The workspace has no repository root; give the watcher one.")
            root = workspace.root
        self.workspace = workspace
        self.root = Path(root).resolve()
        self.agent = agent or f"editor:{user_name(self.root)}"
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.settle = settle
        self.size_limit = size_limit
        # A networked replica merges incoming updates under its own lock: share it, so that a
        # tick (read disk, render, write) is atomic with respect to them. A caller that uses
        # the workspace from other threads (`crdtspace.agents.runner`) gives its own.
        if lock is None:
            lock = getattr(workspace, "lock", None)
        self.lock: Any = lock if lock is not None else threading.RLock()
        self.events: list[WatchEvent] = []
        self.errors: list[str] = []
        self._known: dict[str, str | None] = {}
        self._versions: dict[str, str | None] = {}
        self._origin: str | None = None
        self._named: set[str] = set()  # conflicts a `conflict` event named
        self._held: set[str] = set()
        self._retry: set[str] = set()
        self._refused: dict[str, str] = {}  # path -> the saved text the workspace refused
        self._live = False
        self._serialized = False  # (the workspace's calls take the lock: `serialize_calls`)
        self._own = False
        self._primed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._subscriptions: list[tuple[Any, Any]] = []
        self._touched_nodes: set[str] = set()
        self._touched_files: set[str] = set()

    # -- observing the workspace -----------------------------------------------------------

    def close(self) -> None:
        """Stop observing the workspace (a later `tick` starts over, as the first one)."""
        with self.lock:
            for shared, subscription in self._subscriptions:
                shared.unobserve(subscription)
            if self._subscriptions:
                self.workspace.live_observers -= 1
                self.workspace.versions.release(self.agent)
            self._subscriptions.clear()
            self._primed = False

    def _observe(self) -> None:
        """Note which nodes and files a transaction changes (resolved to paths in a tick): a
        remote edit costs a render of its own files, not of the whole workspace."""
        document = self.workspace.document
        self.workspace.live_observers += 1  # (typing is written at each transaction's end)
        # The editor's reads are the bases of its saves, noted again whenever the workspace
        # changes a file: they do not expire while it is watched (`VersionStore.hold`).
        self.workspace.versions.hold(self.agent)
        self._subscriptions = [
            (document.nodes, document.nodes.observe_deep(self._on_nodes)),
            (document.files, document.files.observe(self._on_files)),
        ]

    def _on_nodes(self, events: list[Any]) -> None:
        if self._own:  # a save of ours: the texts it wrote are known already
            return
        for event in events:
            if event.path:
                self._touched_nodes.add(str(event.path[0]))
            else:
                self._touched_nodes.update(str(key) for key in event.keys)
        self._wake.set()

    def _on_files(self, event: Any) -> None:
        if self._own:
            return
        self._touched_files.update(str(key) for key in event.keys)
        self._wake.set()

    def _changed_in_workspace(self) -> set[str]:
        """Files a transaction not ours touched since the last tick (their texts are compared
        with the bases in `_reconcile`)."""
        nodes, self._touched_nodes = self._touched_nodes, set()
        files, self._touched_files = self._touched_files, set()
        path_of = self.workspace.document.path_of
        return files | {p for p in map(path_of, nodes) if p is not None}

    # -- the workspace's side --------------------------------------------------------------

    def _relative(self, path: str | Path) -> str:
        relative = gitio.safe_relpath(self.root, str(path))
        if relative in self.workspace.document.gitonly:
            raise PathError(f"{relative!r} is kept in git only; the watcher leaves it alone.")
        return relative

    def _text(self, path: str) -> str | None:
        """The workspace's text of `path` as the disk mirrors it (None: not a file of the
        workspace): the materialized view, where a node in an open overlap shows both sides
        and their base between git-style markers (`crdtspace.model.materialize`), as `render` reads
        it, but not noted as anybody's read."""
        document = self.workspace.document
        if path not in document.files:
            return None
        return materialize.render(document, path, materialize.in_file(document, path))

    def _texts(self) -> dict[str, str]:
        """`_text` of every file of the workspace (only the files with a node that has
        concurrent heads are looked at for overlaps)."""
        document = self.workspace.document
        contested = {
            document.path_of(nid)
            for nid in document.edited_nodes()
            if document.has_node(nid) and len(document.heads(nid)) > 1
        }
        return {
            path: materialize.render(document, path, materialize.in_file(document, path))
            if path in contested
            else document.render(path)
            for path in self.workspace.paths()
        }

    def _commit_version(self) -> str:
        """The version of the workspace's base commit ("" when it records none)."""
        try:
            return self.workspace.commit_version()
        except CrdtspaceError:
            return ""

    def _base_reader(self) -> Callable[[str], str | None]:
        """The text of a file in the workspace's base commit (None: absent, or not text)."""
        base = str(self.workspace.document.meta.get("base", ""))
        try:
            repo = gitio.open_repo(self.root)
            entries = gitio.tree_entries(repo, base) if base else {}
        except CrdtspaceError:
            entries = {}

        def read(path: str) -> str | None:
            if path not in entries:
                return None
            return gitio.classify(gitio.blob_text(repo, entries[path][1]))[0]

        return read

    def _note_version(self, path: str, version: str) -> None:
        """`version` is a version at which the workspace rendered the base of `path`. Noted as
        the editor's read of the file too: that is what it is, and a version an agent's last
        read names is never pruned from the store."""
        self._versions[path] = version
        self.workspace.versions.note_read(self.agent, path, version)

    def _base_version(self, path: str) -> str | None:
        """The version of the base of `path` (None: not known, or no longer kept)."""
        version = self._versions.get(path, self._origin)
        return version if version is not None and version in self.workspace.versions else None

    # -- the disk's side -------------------------------------------------------------------

    def _scan(self) -> set[str]:
        listed = git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        found = {p for p in listed.split("\0") if p}
        return found | set(self.workspace.paths()) | set(self._known)

    def _reported(self, paths: Iterable[str | Path]) -> set[str]:
        relative: set[str] = set()
        for path in paths:
            absolute = path if os.path.isabs(path) else str(self.root / path)
            if TEMP_MARK in os.path.basename(absolute):
                continue
            try:
                rel = gitio.safe_relpath(self.root, str(absolute))
            except PathError:
                continue
            if os.path.isdir(absolute):
                relative |= self._files_under(rel)
            else:
                relative.add(rel)
                prefix = rel + "/"  # a folder deleted or renamed away
                relative |= {p for p in self._known if p.startswith(prefix)}
        known = set(self.workspace.paths()) | set(self._known)
        return (relative & known) | self._not_ignored(relative - known)

    def _files_under(self, folder: str) -> set[str]:
        found: set[str] = set()
        for directory, dirs, files in os.walk(self.root / folder):
            dirs[:] = [d for d in dirs if d != ".git"]
            for name in files:
                if TEMP_MARK not in name:
                    found.add(Path(directory, name).relative_to(self.root).as_posix())
        prefix = folder + "/"
        return found | {p for p in self._known if p.startswith(prefix)}

    def _not_ignored(self, paths: set[str]) -> set[str]:
        if not paths:
            return set()
        ignored = git(self.root, "check-ignore", "--stdin", "-z", stdin="\0".join(paths) + "\0")
        return paths - set(ignored.split("\0"))

    def _maybe_mid_write(self, path: str, disk: str) -> bool:
        """In background mode, a file modified less than a step ago may be half written (an
        editor truncating, then writing): it is looked at again a step later, not read now.
        (A batch from watchfiles comes a step after the last change; this guards the reads
        the other thread makes in between.) A file found empty waits longer, EMPTY_QUIET: a
        writer that truncated it may be stalled before its write (seen with a writer thread
        starved of the GIL for 50 ms), and a file emptied on purpose is rare."""
        if not self._live:
            return False
        try:
            age = time.time() - (self.root / path).stat().st_mtime
        except OSError:
            return False
        quiet = self.step_ms / 1000 if disk else max(EMPTY_QUIET, self.step_ms / 1000)
        if age < quiet:  # (a time in the future: a clock step; recent too)
            self._retry.add(path)
            return True
        return False

    def _read(self, path: str) -> Disk:
        target = self.root / path
        try:
            if target.is_symlink() or not target.is_file():
                return Binary("not a regular file") if target.exists() else None
            data = target.read_bytes()
        except FileNotFoundError:
            return None
        text, reason = gitio.classify(data, self.size_limit)
        return Binary(reason or "not text") if text is None else text

    def _hold(self, path: str, disk: Binary) -> None:
        if path not in self._held:
            self._held.add(path)
            self.events.append(WatchEvent("skipped", path, disk.reason))
