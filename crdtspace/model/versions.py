"""Versions: what a reader saw, so that a later write applies only the writer's own change.

A version is a yrs snapshot of the whole document (its state vector and delete set), named by a
short id (``v`` + 16 hex digits of its hash): every replica holding the same state gives the same
id. A write made from a version is applied on a *fork*: a fresh document restored to that
snapshot, with a client id of its own, edited by the writer and merged back. Its items sit
where the writer saw the text, its deletions delete only what the writer saw, and its log
entries have the parents and state vector of the version, so the conflict layer judges it
against everything that happened since, exactly as if a replica had been parked at that
version, made the edit and synced.

Restoring a snapshot needs the deleted content it shows: every workspace document is made with
``skip_gc`` (`new_doc`), so nothing it ever held is garbage-collected. The restore is ours
(`crdtspace.model.restore`), with yrs's as the fallback (see `fork`).

The store keeps snapshots by id, and per agent and file the version last handed out (so that an
agent's write, with no version given, is based on its own last read). A durable workspace keeps
both in ``versions.jsonl`` beside its update log, one JSON object a line, read back whole on
open (a torn last line is skipped): a version stays usable across processes and gate commits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from pycrdt import Doc, Snapshot

from crdtspace.errors import VersionError
from crdtspace.model.collect import read_snapshot
from crdtspace.model.restore import restore_doc

__all__ = ["VersionError", "VersionStore", "fork", "new_doc", "snapshot", "version_id"]

STORE_NAME = "versions.jsonl"
KEEP_VERSIONS = 4096
"""Snapshots a store keeps at most (beyond those an agent's last read names); the oldest go."""


def new_doc(client_id: int | None = None) -> Doc[Any]:
    """A document that keeps deleted content, so that every version of it can be restored."""
    return Doc(client_id=client_id, skip_gc=True)


def fresh_client_id() -> int:
    """A random client id for a fork (53 bits, as Yjs uses; never 0)."""
    return secrets.randbits(53) or 1


def snapshot(doc: Doc[Any]) -> bytes:
    """The encoded snapshot of a document's current state."""
    return bytes(Snapshot.from_doc(doc).encode())


def version_id(snap: bytes) -> str:
    """The id of a snapshot: the same on every replica for the same state."""
    return "v" + hashlib.blake2b(snap, digest_size=8).hexdigest()


def fork(doc: Doc[Any], snap: bytes) -> Doc[Any]:
    """A new document restored to `snap` of `doc`, with a client id of its own.

    Our restore (`crdtspace.model.restore`: the document's update cut to the snapshot) is
    tried first; yrs's ``Doc.from_snapshot`` when ours cannot be made (an update it does not
    know). Either is kept only if it gives the snapshot back (its state vector and delete set):
    yrs panics on some snapshots and restores others with text typed after them, which a write
    from there would delete. Neither: a `VersionError` (the agent reads again)."""
    reasons = []
    for restored in (_ours, _yrs):
        try:
            return _checked(restored(doc, snap), snap)
        except ValueError as exc:
            reasons.append(str(exc))
    raise VersionError(
        f"This version cannot be restored: {'; '.join(reasons)}",
        hint="read the file again and write from the new version",
    )


def _ours(doc: Doc[Any], snap: bytes) -> Doc[Any]:
    return _loaded(restore_doc(doc, snap))


def _yrs(doc: Doc[Any], snap: bytes) -> Doc[Any]:
    """(yrs restores into a doc with the original's client id; edits made there would reuse
    clocks the original already spent and be dropped silently, so the restored state is moved
    into a doc with a fresh id.)"""
    try:
        restored = Doc.from_snapshot(Snapshot.decode(snap), doc)
    except BaseException as exc:  # pyo3 panics are BaseExceptions
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError(f"yrs cannot restore it ({exc})") from None
    return _loaded(bytes(restored.get_update()))


def _loaded(update: bytes) -> Doc[Any]:
    """A doc with a fresh client id holding `update`."""
    out = new_doc(fresh_client_id())
    try:
        out.apply_update(update)
    except BaseException as exc:  # a pyo3 panic on an update yrs cannot read
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError(f"the restored update does not apply ({exc})") from None
    return out


def _checked(out: Doc[Any], snap: bytes) -> Doc[Any]:
    """`out` if it is at `snap` (the same state vector and delete set), else `ValueError`."""
    deleted, state = read_snapshot(snap)
    if read_snapshot(snapshot(out)) != (deleted, {c: k for c, k in state.items() if k}):
        raise ValueError("the restored document is not at the version")
    return out


class VersionStore:
    """Snapshots by id and the version each agent last read of each file.

    In memory for an in-memory replica; with `directory`, kept in ``versions.jsonl`` there."""

    def __init__(self, directory: Path | None = None) -> None:
        self._snaps: dict[str, bytes] = {}
        self._reads: dict[tuple[str, str], str] = {}
        self._ages: dict[str, int] = {}  # snapshot -> the squash count when it was added
        self._squashes = 0
        self._path = directory / STORE_NAME if directory is not None else None
        if self._path is not None:
            self._load(self._path)

    def add(self, snap: bytes) -> str:
        """Keep a snapshot; returns its id."""
        vid = version_id(snap)
        if vid not in self._snaps:
            self._snaps[vid] = snap
            self._ages[vid] = self._squashes
            self._append({"v": vid, "s": base64.b64encode(snap).decode("ascii")})
            if len(self._snaps) > KEEP_VERSIONS * 2:
                self._prune()
        return vid

    def get(self, vid: str) -> bytes:
        snap = self._snaps.get(vid.strip())
        if snap is None:
            raise VersionError(
                f"The version {vid!r} is not known to this workspace.",
                hint="read the file again (show --json gives its version) and write from that",
            )
        return snap

    def kept(self) -> list[bytes]:
        """Every snapshot kept (a write may still be based on any of them)."""
        return list(self._snaps.values())

    def __contains__(self, vid: str) -> bool:
        return vid in self._snaps

    def note_read(self, agent: str, path: str, vid: str) -> None:
        """`agent` was handed `path` as of version `vid`."""
        if self._reads.get((agent, path)) == vid:
            return
        self._reads[(agent, path)] = vid
        self._append({"r": [agent, path, vid]})

    def last_read(self, agent: str, path: str) -> str | None:
        return self._reads.get((agent, path))

    def forget_read(self, agent: str, path: str) -> None:
        """`agent`'s next write of `path` is not based on its last read."""
        if self._reads.pop((agent, path), None) is not None:
            self._append({"f": [agent, path]})

    # -- the file ----------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        try:
            lines = path.read_bytes().splitlines()
        except FileNotFoundError:
            return
        except OSError:
            return  # unreadable: versions are an aid; a write from one says it is unknown
        for line in lines:
            try:
                record = json.loads(line)
                if "v" in record:
                    self._snaps[str(record["v"])] = base64.b64decode(record["s"])
                    self._ages[str(record["v"])] = int(record.get("a", self._squashes))
                elif "g" in record:
                    self._squashes = int(record["g"])
                elif "r" in record:
                    agent, file, vid = record["r"]
                    self._reads[(str(agent), str(file))] = str(vid)
                elif "f" in record:
                    self._reads.pop((str(record["f"][0]), str(record["f"][1])), None)
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line (a crash mid-append): skipped
        if len(self._snaps) > KEEP_VERSIONS * 2:
            self._prune()

    def _append(self, record: dict[str, Any]) -> None:
        if self._path is None:
            return
        line = json.dumps(record, separators=(",", ":")) + "\n"
        try:
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError:
            return  # a version not kept is reported as unknown when used, never guessed

    def squashed(self) -> None:
        """A squash of settled history is about to be planned (`Replica.squash_history`): the
        snapshots no agent's last read names and that were added before the previous squash
        are dropped (a write from one is refused as unknown: read again). So a version handed
        out lives through at least one squash, and the one an agent last read as long as
        that stays so."""
        self._squashes += 1
        self._append({"g": self._squashes})
        named = set(self._reads.values())
        limit = self._squashes - 1
        old = [v for v in self._snaps if v not in named and self._ages.get(v, 0) < limit]
        if old:
            for vid in old:
                del self._snaps[vid]
            self._prune()

    def _prune(self) -> None:
        """Keep the newest KEEP_VERSIONS snapshots and every one an agent's last read names."""
        named = set(self._reads.values())
        ids = list(self._snaps)
        keep = set(ids[-KEEP_VERSIONS:]) | named
        self._snaps = {v: s for v, s in self._snaps.items() if v in keep}
        self._ages = {v: a for v, a in self._ages.items() if v in keep}
        if self._path is None:
            return
        lines = [json.dumps({"g": self._squashes})] if self._squashes else []
        lines += [
            json.dumps(
                {"v": v, "s": base64.b64encode(s).decode("ascii"), "a": self._ages.get(v, 0)},
                separators=(",", ":"),
            )
            for v, s in self._snaps.items()
        ]
        lines += [
            json.dumps({"r": [a, p, v]}, separators=(",", ":")) for (a, p), v in self._reads.items()
        ]
        tmp = self._path.with_suffix(".tmp")
        try:
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            os.replace(tmp, self._path)
        except OSError:
            return
