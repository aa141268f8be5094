"""The working tree mirrored both ways: editor saves become edits, remote edits become files.

A `Watcher` keeps one workspace (durable or networked) and the files of its repository in
step, following the jupyter_ydoc recipe: skip when unchanged, let the re-keyer turn a save into
small per-node edits, treat a file changed on disk behind our back as a first-class event.

The workspace's text of a file, for the watcher, is what `Workspace.render` shows: the
*materialized* view (`crdtspace.model.materialize`), the document's text except that a node in an
open overlap (the same lines changed concurrently) shows both sides and their base between
git-style markers naming the agents, never the CRDT's interleaving of the two. That is what the
disk mirrors, as git leaves conflict markers in the working tree after a conflicted merge. The
watcher computes it without noting it as anybody's read.

Per path the watcher remembers the **base**: the text it last read from or wrote to disk (None
for a file that does not exist), and the **version** of the base (`crdtspace.model.versions`): a
version at which the workspace rendered that text. That is the version the watcher wrote the
text at, or the editor's view after a save (`Workspace.write` notes it as the writer's last
read: its base plus its change, without what it had not seen); it is noted as the editor's
read of the file too, which keeps it from being pruned. A tick compares, for every candidate
path, the disk and the workspace's text with the base:

- neither changed: nothing (this is also how our own writes are not echoed back: when
  watchfiles reports a file we wrote, its bytes equal the base);
- only the disk changed: an editor save, written to the workspace by the agent
  ``editor:<user>`` as a re-keyed whole-file edit made from the base's version (the workspace
  still renders the base, so its current version is one), or `remove` for a deleted file;
- only the workspace changed: a remote edit, written to disk atomically (a temporary file in
  the same folder, then `os.replace`, keeping the file's mode), or the file deleted;
- both changed (a save racing a remote edit): the save is written the same way,
  ``write(path, disk, base=<the base's version>)``, so only the editor's change from the base
  is applied, as an edit concurrent with everything since (`Workspace.write` runs it on a fork
  restored to that version and merges it back). Edits to different nodes both stay; the same
  lines changed on both sides stay too (the CRDT keeps both insertions) and the conflict layer
  reports an ``overlap`` in `Workspace.conflicts()`; identical changes count once. The merge
  is written back to disk, an overlap as a marker block, and becomes the new base. A
  `WatchEvent` says what happened (``merged``, or ``conflict`` with the conflicts). A file
  deleted on one side and edited on the other is kept, with the edit (a delete would drop the
  other side's work).

While an overlap is open the file holds its conflict block, and the person's saves go through
`Workspace.write`, which never lets markers into the document: the block given back unchanged
(another function edited) leaves the node as it is and the overlap open; the lines written
without markers are an edit that has seen both sides and resolves it; a block changed but with
its markers kept is refused (`DocumentError`). A refused save changes nothing, in the workspace
or on disk: the file is left as saved, a ``refused`` event says why, and the file is not tried
again (nor overwritten by remote edits) until it changes on disk; a later save is made from the
same base as the refused one. An agent that resolves the overlap elsewhere reaches the disk like
any remote edit: the block is replaced by the resolved lines.

Two editor sessions that loaded the same file and save one after the other cannot be told
apart on disk (the second looks like an edit of the first's save); one that knows what it
loaded says so: `Watcher.version(path)` when it loads, `Watcher.save(path, text, base=...)`
when it saves, and the second session's save undoes nothing of the first's. (Two working trees
of one workspace, each with its own watcher, need nothing of the kind.)

Which files: the workspace's files, plus every file git does not ignore (``git ls-files
--others --exclude-standard`` for a full scan, ``git check-ignore`` for reported changes);
never ``.git/``. A binary, non-UTF-8 or huge file (`gitio.classify`) is left to git: the
watcher does not add it, and a workspace file that becomes binary on disk is left alone (not
edited, not overwritten) until it is text again. Git-only files of the workspace are never
touched.

Start-up: the disk may hold edits made while nothing watched, and the workspace edits made by
agents meanwhile. For a file where they differ the base is the file in the workspace's base
commit, with its version (`Workspace.commit_version`), so the side that did not change wins and
two changed sides are merged as above. (A workspace that records no version of its base commit
cannot merge two changed sides: the save is written over the workspace's text, whose edits stay
in its history, and a ``conflict`` event says so.)

Threads: `start()` runs two daemon threads, one fed by watchfiles (disk changes, debounced by
its ``step``, then a short settle delay) and one woken when a transaction not ours changes
nodes or files of the workspace (observers note which, so a remote edit costs a render of the
files it touched, not of the workspace). Every tick holds `Watcher.lock`, which is the workspace's
own ``lock`` when it has one (a networked replica merges incoming updates under it); code that
touches a plain workspace from another thread while the watcher runs (applying updates,
editing) must hold it too. A save merged from a fork reaches the workspace's listeners as a
local update (`Workspace.adopt`), so in-memory `Link`s and a networked replica's sender forward
it at once. `stop()` scans the tree once more, so no save is lost. `tick()` does one
synchronous pass, for tests and for callers with their own loop.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import watchfiles

from crdtspace.conflicts.analysis import analysis_of
from crdtspace.conflicts.findings import Conflict
from crdtspace.errors import CrdtspaceError, DocumentError, PathError
from crdtspace.git import gitio
from crdtspace.model import materialize
from crdtspace.model.replica import Replica
from crdtspace.model.versions import VersionError

__all__ = ["Binary", "WatchEvent", "Watcher"]

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, at import (os.umask has no read-only form)

EMPTY_QUIET = 0.25
"""Seconds a file found empty must stay so before the emptying counts as a save."""

TEMP_MARK = ".crdtspace-tmp"
"""In the name of the temporary files of atomic writes (never mirrored)."""


@dataclass(frozen=True)
class Binary:
    """A file on disk that stays git-only: why."""

    reason: str


@dataclass(frozen=True)
class WatchEvent:
    """One thing the watcher did or noticed.

    `kind` is one of: ``saved`` (an editor save became an edit), ``created``, ``removed`` (a
    file new or deleted on disk, now in or out of the workspace), ``written`` and ``deleted``
    (a remote change written to disk; also the merge of a save written back), ``merged`` (a
    save made from a version the workspace has changed the file since, merged with those
    remote edits cleanly), ``conflict`` (the same, with overlapping changes: `conflicts`, the
    new open conflicts the editor is part of; or, with `method` ``keep``, a file deleted on
    one side and edited on the other, kept), ``refused`` (a save the workspace did not take,
    e.g. one that changed an open overlap's conflict block but kept its markers: `detail` says
    why; the file is left as saved), ``skipped`` (a file left to git: `detail` says why).
    """

    kind: str
    path: str
    detail: str = ""
    method: str = ""
    conflicts: tuple[Conflict, ...] = ()
    at: float = field(default_factory=time.monotonic, compare=False)


Disk = str | None | Binary


class Watcher:
    """Keeps a workspace and its working tree in sync, both ways."""

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
    ) -> None:
        if root is None:
            if workspace.root is None:
                raise PathError("The workspace has no repository root; give the watcher one.")
            root = workspace.root
        self.workspace = workspace
        self.root = Path(root).resolve()
        self.agent = agent or f"editor:{_user_name(self.root)}"
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.settle = settle
        self.size_limit = size_limit
        # A networked replica merges incoming updates under its own lock: share it, so that a
        # tick (read disk, render, write) is atomic with respect to them.
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
        self._own = False
        self._primed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._subscriptions: list[tuple[Any, Any]] = []
        self._touched_nodes: set[str] = set()
        self._touched_files: set[str] = set()

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Reconcile once, then follow the disk and the workspace in background threads."""
        with self.lock:
            self.tick()
        self._stop.clear()
        self._live = True
        for target, name in ((self._follow_disk, "disk"), (self._follow_doc, "doc")):
            thread = threading.Thread(target=target, name=f"crdtspace-watch-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the threads, then scan the tree once more, so that no save is lost."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._live = False
        with self.lock:
            self.tick(None)
            self.close()

    def close(self) -> None:
        """Stop observing the workspace (a later `tick` starts over, as the first one)."""
        with self.lock:
            for shared, subscription in self._subscriptions:
                shared.unobserve(subscription)
            self._subscriptions.clear()
            self._primed = False

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _observe(self) -> None:
        """Note which nodes and files a transaction changes (resolved to paths in a tick): a
        remote edit costs a render of its own files, not of the whole workspace."""
        document = self.workspace.document
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

    def _follow_disk(self) -> None:
        try:
            self._watch_files()
        except Exception as exc:  # e.g. the root removed: say so; stop() still scans the tree
            self.errors.append(f"watchfiles stopped: {type(exc).__name__}: {exc}")

    def _watch_files(self) -> None:
        changes_seen = watchfiles.watch(
            self.root,
            watch_filter=_not_ours,
            debounce=self.debounce_ms,
            step=self.step_ms,
            stop_event=self._stop,
            rust_timeout=200,
            yield_on_timeout=True,
            raise_interrupt=False,
        )
        ready = False
        for changes in changes_seen:
            if not ready:
                # watchfiles yields first once its watcher runs; a save made between start()'s
                # pass and then would only be seen by the next event: scan the tree once.
                ready = True
                self._guarded(None)
            if not changes:
                continue
            if self.settle:
                time.sleep(self.settle)
            self._guarded({path for _, path in changes})

    def _follow_doc(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if not self._stop.is_set():
                self._guarded(())

    def _guarded(self, paths: Iterable[str] | None) -> None:
        # A background thread must survive anything one tick runs into (a file vanishing,
        # git failing); the error is kept for the caller, and the next tick retries.
        try:
            with self.lock:
                self.tick(paths)
            while self._retry and not self._stop.is_set():  # files that were being written
                time.sleep(self.step_ms / 1000)
                with self.lock:
                    self.tick(())
        except Exception as exc:  # a watcher thread must not die of one bad tick: kept, retried
            self.errors.append(f"{type(exc).__name__}: {exc}")

    # -- one pass --------------------------------------------------------------------------

    def tick(self, paths: Iterable[str | Path] | None = None) -> list[WatchEvent]:
        """One synchronous pass; returns the new events.

        `paths` are files reported changed on disk (absolute, or relative to the root); None
        scans the whole working tree. Paths whose workspace text changed since the last pass
        are always looked at."""
        with self.lock:
            first = len(self.events)
            if not self._primed:
                self._prime()
                paths = None
            candidates = self._scan() if paths is None else self._reported(paths)
            candidates |= self._changed_in_workspace() | self._retry
            self._retry = set()
            self._reconcile(sorted(candidates))
            return self.events[first:]

    sync_once = tick

    def version(self, path: str | Path) -> str | None:
        """The version of the workspace the file on disk is in step with, after a pass over it
        (None: not in step, e.g. binary, or half written): an editor or an agent that loads
        the file now gives it back as the `base` of its `save`."""
        with self.lock:
            relative = self._relative(path)
            self.tick([relative])
            known = self._known.get(relative)
            if relative in self._retry or self._read(relative) != known:
                return None
            if self._text(relative) == known:
                return self.workspace.version()  # (in step: the freshest version of it)
            return self._base_version(relative)

    def save(self, path: str | Path, text: str, *, base: str) -> list[WatchEvent]:
        """Save `text` to the file as an editor session that loaded it at version `base` (from
        `version`): what the disk holds now is saved first, then `text` is written to disk and
        to the workspace as a change made from `base`, so a second session saving from the
        same version as the first undoes none of the first's changes. Returns the events."""
        with self.lock:
            first = len(self.events)
            relative = self._relative(path)
            self.workspace.versions.get(base)  # an unknown version: an error, before any write
            self.tick([relative])
            self._save(relative, text, base)  # (the merge is written to disk when it differs)
            if text in (self._known[relative], self._refused.get(relative)):
                # (refused: the file holds what the session saved, as a refused disk save does)
                target = gitio.safe_target(self.root, relative)
                _atomic_write(target, text, self.workspace.document.mode(relative))
            return self.events[first:]

    def _relative(self, path: str | Path) -> str:
        relative = gitio.safe_relpath(self.root, str(path))
        if relative in self.workspace.document.gitonly:
            raise PathError(f"{relative!r} is kept in git only; the watcher leaves it alone.")
        return relative

    def _prime(self) -> None:
        workspace = self.workspace
        workspace.flush()
        # A file the watcher meets later was not in the workspace at this version.
        self._origin = workspace.version()
        renders = self._texts()
        base_text = self._base_reader()
        commit: str | None = None
        for path, text in renders.items():
            disk = self._read(path)
            if disk == text or isinstance(disk, Binary):
                self._known[path] = text
                self._versions[path] = self._origin
            else:  # changed on disk, in the workspace or both since the base commit
                if commit is None:
                    commit = self._commit_version()
                self._known[path] = base_text(path)
                self._versions[path] = commit or None
        self._primed = True
        self._observe()

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

    def _scan(self) -> set[str]:
        listed = _git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
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
        ignored = _git(self.root, "check-ignore", "--stdin", "-z", stdin="\0".join(paths) + "\0")
        return paths - set(ignored.split("\0"))

    def _changed_in_workspace(self) -> set[str]:
        """Files a transaction not ours touched since the last tick (their texts are compared
        with the bases in `_reconcile`)."""
        nodes, self._touched_nodes = self._touched_nodes, set()
        files, self._touched_files = self._touched_files, set()
        path_of = self.workspace.document.path_of
        return files | {p for p in map(path_of, nodes) if p is not None}

    # -- reconciling -----------------------------------------------------------------------

    def _reconcile(self, paths: list[str]) -> None:
        workspace = self.workspace
        git_only = set(workspace.document.gitonly.keys())
        for path in paths:
            if path in git_only:
                continue
            disk = self._read(path)
            if isinstance(disk, Binary):
                self._hold(path, disk)
                continue
            self._held.discard(path)
            refused = self._refused.get(path)
            if refused is not None:
                if disk == refused:  # left as saved, not retried, until the disk changes
                    continue
                del self._refused[path]
            crdt = self._text(path)
            base = self._known.get(path)
            if disk == base and crdt == base:
                continue
            if disk != base and disk is not None and self._maybe_mid_write(path, disk):
                continue
            if crdt == base:
                # The workspace still renders the base: the current state is a version of it.
                self._save(path, disk, workspace.version())
            elif disk == base:
                self._put(path, crdt, "written" if crdt is not None else "deleted")
            elif disk == crdt:
                self._known[path] = disk
                self._note_version(path, workspace.version())
            elif disk is None or crdt is None:
                self._keep(path, crdt, disk)
            else:
                self._race(path, disk)

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

    def _save(self, path: str, disk: str | None, base: str, *, raced: bool = False) -> bool:
        """An editor save made from the version `base` of the workspace: only the editor's
        change from the text there is applied (`Workspace.write`), as an edit concurrent with
        whatever the workspace did since. `raced`: the workspace changed the file since (the
        event says the save was merged). When the merge is not what the disk holds, it is
        written back to disk (as the materialized view, `_text`).

        A save the workspace refuses (`DocumentError`: a conflict block changed with its
        markers kept) changes nothing, here or on disk: a ``refused`` event says why, and the
        file is left as saved and not looked at again until it changes. Returns whether the
        save was taken."""
        workspace = self.workspace
        files = workspace.document.files
        kind = "saved" if path in files else "created"
        self._own = True
        try:
            if disk is None:
                with workspace.acting_as(self.agent):
                    workspace.remove(path, description="deleted in the editor")
                kind = "removed"
            else:
                workspace.write(
                    path, disk, description="saved in the editor", base=base, agent=self.agent
                )
        except VersionError:  # (a DocumentError) a base not restorable here: `_race` falls back
            raise
        except DocumentError as exc:
            if disk is None:
                raise
            self._refused[path] = disk
            hint = f" ({exc.hint})" if exc.hint else ""
            because = exc.message.rstrip(".")
            because = because[:1].lower() + because[1:]
            self.events.append(
                WatchEvent(
                    "refused",
                    path,
                    f"not saved: {because}; the file is left as it is until it is saved "
                    f"again{hint}",
                )
            )
            return False
        finally:
            self._own = False
        merged = self._text(path)
        if merged == disk:
            self._known[path] = disk
            # The editor's view: its base plus its change (`Workspace.write`).
            view = workspace.versions.last_read(self.agent, path) if disk is not None else None
            self._note_version(path, view or workspace.version())
        else:
            self._put(path, merged, "written" if merged is not None else "deleted")
        if not raced and merged == disk:
            self.events.append(WatchEvent(kind, path))
            return True
        found = tuple(
            c
            for c in analysis_of(workspace).conflicts
            if self.agent in c.agents and _concerns(c, path) and c.id not in self._named
        )
        self._named.update(c.id for c in found)
        kind = "conflict" if found else "merged"
        self.events.append(WatchEvent(kind, path, "with remote edits", "crdt", found))
        return True

    def _put(self, path: str, text: str | None, kind: str) -> None:
        """Write the workspace's text of `path` (`_text`; None: delete the file) to disk."""
        try:
            target = gitio.safe_target(self.root, path)  # never through a link or into .git
        except PathError as error:
            self.events.append(WatchEvent("refused", path, error.message))
            return
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        else:
            _atomic_write(target, text, self.workspace.document.mode(path))
        self._known[path] = text
        self._note_version(path, self.workspace.version())
        self.events.append(WatchEvent(kind, path))

    def _race(self, path: str, disk: str) -> None:
        """A save made from the base while the workspace changed the file: written from the
        base's version, so the CRDT merges it with the remote edits as a concurrent edit and
        the conflict layer judges the two; the merged text goes to disk."""
        version = self._base_version(path)
        if version is not None:
            try:
                self._save(path, disk, version, raced=True)
                return
            except VersionError:  # not restorable here (a document that was not made to)
                pass
        # A base with no usable version (a workspace that predates versions, at start-up): the
        # save is written over the workspace's text, whose edits stay in its history.
        if not self._save(path, disk, self.workspace.version()):
            return
        self.events.append(
            WatchEvent(
                "conflict",
                path,
                "no version of the save's base is known: the save replaced the workspace's "
                "text (its edits are in `crdtspace log`)",
                "replace",
            )
        )

    def _keep(self, path: str, crdt: str | None, disk: str | None) -> None:
        """Deleted on one side, edited on the other: the file is kept, with the edit (a delete
        would drop the other side's work)."""
        if disk is None:
            self._put(path, crdt, "written")
            detail = "deleted on disk, edited in the workspace: kept"
        else:  # removed from the workspace: the save brings the file back, as it is on disk
            self._save(path, disk, self.workspace.version())
            detail = "removed from the workspace, edited on disk: kept"
        self.events.append(WatchEvent("conflict", path, detail, "keep"))


def _concerns(conflict: Conflict, path: str) -> bool:
    return any(place.path == path for place in conflict.places)


def _atomic_write(target: Path, text: str, git_mode: str) -> None:
    """Write through a temporary file in the same folder and `os.replace` (keeping the mode)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o755 if git_mode == gitio.MODE_EXECUTABLE else 0o644
        mode &= ~_UMASK
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_MARK, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _not_ours(change: watchfiles.Change, path: str) -> bool:
    """watchfiles filter: nothing under .git, none of our temporary files."""
    parts = Path(path).parts
    return ".git" not in parts and TEMP_MARK not in parts[-1]


def _git(root: Path, *args: str, stdin: str | None = None) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), *args],
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        check=False,
    )
    if completed.returncode not in (0, 1):  # check-ignore: 1 means "nothing ignored"
        stderr = completed.stderr.decode("utf-8", "replace").strip()
        raise OSError(f"git {args[0]} failed: {stderr}")
    return completed.stdout.decode("utf-8", "surrogateescape")


def _user_name(root: Path) -> str:
    try:
        return gitio.user_name(gitio.open_repo(root))
    except CrdtspaceError:
        return os.environ.get("USER", "") or "anonymous"
