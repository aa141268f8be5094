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
files it touched, not of the workspace). Every tick holds `Watcher.lock`: the ``lock`` it was
given, else the workspace's own ``lock`` when it has one (a networked replica merges incoming
updates under it), else one of its own. From `start()` to `stop()` the public methods of a plain
workspace take that lock too (`watchstate.serialize_calls`; a networked replica's always take
its own), so other threads may call it, one call at a time: pycrdt lets no other thread use a
transaction, and one running observers is visible to all (a read from another thread during
a save's commit crashed in pycrdt). A block (`transaction()`, `acting_as()`) or the document
reached directly (`workspace.document`) must still be held under `Watcher.lock`. A pycrdt
panic in a tick is kept in `errors` like any error, not the end of the thread. A save merged
from a fork reaches the workspace's listeners as a local update (`Workspace.adopt`), so
in-memory `Link`s and a networked replica's sender forward it at once. `stop()` scans the tree
once more, so no save is lost. `tick()` does one synchronous pass, for tests and for callers
with their own loop.

Here: the `Watcher`'s threads, its passes and how it reconciles the two sides. What it keeps of
each path and how it reads both sides is `crdtspace.live.watchstate`; writing files, telling
text from binary and `WatchEvent`, `crdtspace.live.disk`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import watchfiles

from crdtspace.conflicts.analysis import analysis_of
from crdtspace.conflicts.findings import Conflict
from crdtspace.errors import DocumentError, PathError
from crdtspace.git import gitio
from crdtspace.live.disk import Binary, WatchEvent, atomic_write, not_ours
from crdtspace.live.watchstate import WatchState, release_calls, serialize_calls
from crdtspace.model.versions import VersionError

__all__ = ["Watcher"]


class Watcher(WatchState):
    """Keeps a workspace and its working tree in sync, both ways."""

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Reconcile once, then follow the disk and the workspace in background threads."""
        # From now on other threads may call the workspace while a tick runs: its methods
        # take the lock (two watchers of one workspace share the first one's).
        if not self._serialized:
            self.lock = serialize_calls(self.workspace, self.lock)
            self._serialized = True
        try:
            with self.lock:
                self.tick()
        except BaseException:
            self._release_calls()
            raise
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
            try:
                self.tick(None)
                self.close()
            finally:
                self._release_calls()

    def _release_calls(self) -> None:
        if self._serialized:
            self._serialized = False
            release_calls(self.workspace)

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _follow_disk(self) -> None:
        try:
            self._watch_files()
        except Exception as exc:  # e.g. the root removed: say so; stop() still scans the tree
            self.errors.append(f"watchfiles stopped: {type(exc).__name__}: {exc}")

    def _watch_files(self) -> None:
        changes_seen = watchfiles.watch(
            self.root,
            watch_filter=not_ours,
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
        except BaseException as exc:
            if not _is_panic(exc):
                raise
            # pycrdt's Rust code panicked (pyo3's PanicException is a BaseException): the
            # document is as the transaction left it; kept, and the next tick retries too.
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
                atomic_write(target, text, self.workspace.document.mode(relative))
            return self.events[first:]

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
            atomic_write(target, text, self.workspace.document.mode(path))
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


def _is_panic(exc: BaseException) -> bool:
    """Whether `exc` is a Rust panic raised through pyo3 (not importable: pyo3 makes the type
    at run time, in its ``pyo3_runtime`` module)."""
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def _concerns(conflict: Conflict, path: str) -> bool:
    return any(place.path == path for place in conflict.places)
