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

The store keeps snapshots by id, and per agent and file the version last handed out and when
(so that an agent's write, with no version given, is based on its own last read). A durable
workspace keeps both in ``versions.jsonl`` beside its update log, one JSON object a line, read
back whole on open (a torn last line is skipped): a version stays usable across processes and
gate commits. Records: ``v`` a snapshot (``a``: the squash count when added), ``r`` a read
(``t``: its time), ``f`` a read forgotten, ``x`` a read expired, ``g`` the squash count.

A last read pins the history its version had not seen (a squash cannot fold what a write from
it must be judged against). So a read older than the TTL (`read_ttl`, $CRDTSPACE_READ_TTL,
default an hour) expires at the next squash: its version is dropped and the read is remembered
as expired, so that a write by that agent of that file with no version given is refused
(`refuse_expired`), never based on something else (the commit's version or the current state
would revert what others wrote since). A new read, or a write from a version given, clears it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycrdt import Doc, Snapshot

from crdtspace.errors import CrdtspaceError, VersionError
from crdtspace.model.collect import encode_ranges, read_version
from crdtspace.model.restore import held_past_gaps, restore_doc

__all__ = [
    "DEFAULT_READ_TTL",
    "READ_TTL_ENV",
    "ExpiredRead",
    "VersionError",
    "VersionStore",
    "fork",
    "new_doc",
    "read_ttl",
    "snapshot",
    "version_id",
]

STORE_NAME = "versions.jsonl"
KEEP_VERSIONS = 4096
"""Snapshots a store keeps at most (beyond those an agent's last read names); the oldest go."""

READ_TTL_ENV = "CRDTSPACE_READ_TTL"
DEFAULT_READ_TTL = 3600.0
"""Seconds after which a last read expires (at the next squash). An LLM agent writes minutes
after it reads; an hour leaves it a wide margin, while a human or a paused agent coming back
later is told to read again (redoing one edit) rather than holding history unfolded forever."""
REFRESH = 60.0
"""A read of the version already noted is written down again (its time renewed) at most this
often: repeated reads of an unchanged file do not grow the store a line each."""
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def read_ttl(raw: str | None = None) -> float:
    """The read TTL in seconds (0: reads never expire) from `raw`, else $CRDTSPACE_READ_TTL,
    else DEFAULT_READ_TTL. Seconds, or a number with s, m, h or d; "0", "never" or "off":
    never."""
    if raw is None:
        raw = os.environ.get(READ_TTL_ENV, "")
    value = raw.strip().lower()
    if not value:
        return DEFAULT_READ_TTL
    if value in ("never", "off", "no", "false", "inf"):
        return 0.0
    scale = _UNITS.get(value[-1], 0.0)
    try:
        seconds = float(value[:-1] if scale else value) * (scale or 1.0)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise CrdtspaceError(
            f"${READ_TTL_ENV} is {raw!r}, not a number of seconds.",
            hint=f"e.g. {READ_TTL_ENV}=3600, {READ_TTL_ENV}=2h, or {READ_TTL_ENV}=never",
        )
    return seconds


def _duration(seconds: float) -> str:
    """A TTL as a person says it: "1 h", "90 min", "45 s"."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    if seconds >= 120:
        return f"{round(seconds / 60)} min"
    return f"{seconds:g} s"


def _clock_time(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


@dataclass(frozen=True)
class ExpiredRead:
    """An agent's last read of a file that expired: its version, when it was read, the TTL."""

    path: str
    version: str
    at: float
    ttl: float

    def message(self) -> str:
        return (
            f"Your read of {self.path} (version {self.version}, at {_clock_time(self.at)}) "
            f"expired after {_duration(self.ttl)} without a write; read the file again and "
            "redo your edit from it."
        )

    def error(self) -> VersionError:
        """The refusal of a write from this read (or naming its version): nothing written."""
        return VersionError(
            self.message(),
            hint=f"reads expire after ${READ_TTL_ENV} seconds, at the next commit; "
            "nothing was written",
        )


def new_doc(client_id: int | None = None) -> Doc[Any]:
    """A document that keeps deleted content, so that every version of it can be restored."""
    return Doc(client_id=client_id, skip_gc=True)


def fresh_client_id() -> int:
    """A random client id for a fork (53 bits, as Yjs uses; never 0)."""
    return secrets.randbits(53) or 1


def snapshot(doc: Doc[Any], *, past_gaps: bool = True) -> bytes:
    """The encoded snapshot of a document's current state (`past_gaps=False`: the caller
    knows the document holds nothing past a gap, so yrs's snapshot is all of it; looking
    costs an update of every client's last item, milliseconds with hundreds of clients).

    yrs (0.27 on) integrates an item whose clock comes after a gap in its client's clocks (an
    update that arrived before one it follows, the item's origins known) and holds the gap
    as a skip; its state vector stops at the gap, so its snapshot does not show such items
    (nor restores them), while its delete set shows those of them deleted. What the document
    holds past a gap is appended to yrs's snapshot, as a delete set would be (per client,
    clock ranges): `crdtspace.model.collect.read_version` reads it, `crdtspace.model.restore`
    restores it (the gaps as skips). A document with no gap, nearly every one, gets yrs's
    snapshot as it is."""
    snap = bytes(Snapshot.from_doc(doc).encode())
    if not past_gaps:
        return snap
    beyond = held_past_gaps(doc)
    if not beyond:
        return snap
    return snap + encode_ranges(dict(sorted(beyond.items())))  # (the same bytes everywhere)


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
    """`out` if it is at `snap` (the same state vector, delete set, and items held past a gap),
    else `ValueError`."""
    if _seen(snapshot(out)) != _seen(snap):
        raise ValueError("the restored document is not at the version")
    return out


def _seen(snap: bytes) -> tuple[Any, ...]:
    """What a snapshot says was seen (a client at clock 0 in its state vector saw nothing)."""
    deleted, state, beyond = read_version(snap)
    return deleted, {c: k for c, k in state.items() if k}, beyond


class VersionStore:
    """Snapshots by id and the version each agent last read of each file.

    In memory for an in-memory replica; with `directory`, kept in ``versions.jsonl`` there.
    `ttl`: seconds after which a last read expires at the next squash (0: never; None:
    `read_ttl()`); `clock` gives the time (seconds since the epoch), replaceable in tests."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        ttl: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = read_ttl() if ttl is None else ttl
        self.clock = clock
        self._snaps: dict[str, bytes] = {}
        self._reads: dict[tuple[str, str], str] = {}
        self._times: dict[tuple[str, str], float] = {}  # when each last read was made
        self._expired: dict[tuple[str, str], ExpiredRead] = {}
        self._held: dict[str, int] = {}  # agents whose reads do not expire (`hold`)
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
            gone = next((e for e in self._expired.values() if e.version == vid.strip()), None)
            if gone is not None:
                raise gone.error()
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
        """`agent` was handed `path` as of version `vid` (now: an expired read is over)."""
        key, now = (agent, path), self.clock()
        if (
            self._reads.get(key) == vid
            and key not in self._expired
            and now - self._times.get(key, now) < REFRESH
        ):
            return
        self._expired.pop(key, None)
        self._reads[key] = vid
        self._times[key] = now
        self._append({"r": [agent, path, vid], "t": round(now, 3)})

    def last_read(self, agent: str, path: str) -> str | None:
        return self._reads.get((agent, path))

    def expired_read(self, agent: str, path: str) -> ExpiredRead | None:
        """`agent`'s last read of `path` if it expired (and it has not read the file since)."""
        return self._expired.get((agent, path))

    def refuse_expired(self, agent: str, path: str) -> None:
        """A `VersionError` if `agent`'s last read of `path` expired: a write of it with no
        version given would be based on that read, which is gone; any other base could revert
        what others wrote since the read."""
        gone = self._expired.get((agent, path))
        if gone is not None:
            raise gone.error()

    def forget_read(self, agent: str, path: str) -> None:
        """`agent`'s next write of `path` is not based on its last read (nor refused for it)."""
        held = self._reads.pop((agent, path), None)
        self._times.pop((agent, path), None)
        if held is not None or self._expired.pop((agent, path), None) is not None:
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
                self._load_record(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line (a crash mid-append): skipped
        if len(self._snaps) > KEEP_VERSIONS * 2:
            self._prune()
        # Reads written before reads had times count as made now (never expired on load);
        # their time is written down, so that they do expire a TTL from now.
        now = self.clock()
        for key, vid in self._reads.items():
            if key not in self._times:
                self._times[key] = now
                self._append({"r": [key[0], key[1], vid], "t": round(now, 3)})

    def _load_record(self, record: dict[str, Any]) -> None:
        if "v" in record:
            self._snaps[str(record["v"])] = base64.b64decode(record["s"])
            self._ages[str(record["v"])] = int(record.get("a", self._squashes))
        elif "g" in record:
            self._squashes = int(record["g"])
        elif "r" in record:
            agent, file, vid = record["r"]
            key = (str(agent), str(file))
            self._reads[key] = str(vid)
            self._expired.pop(key, None)
            if record.get("t") is not None:
                self._times[key] = float(record["t"])
            else:
                self._times.pop(key, None)
        elif "x" in record:
            agent, file, vid, at, ttl = record["x"]
            key = (str(agent), str(file))
            self._expired[key] = ExpiredRead(str(file), str(vid), float(at), float(ttl))
            self._reads.pop(key, None)
            self._times.pop(key, None)
        elif "f" in record:
            key = (str(record["f"][0]), str(record["f"][1]))
            self._reads.pop(key, None)
            self._times.pop(key, None)
            self._expired.pop(key, None)

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
        last reads older than the TTL expire (`expire`), and the snapshots no agent's last read
        names and that were added before the previous squash, or that an expired read named,
        are dropped (a write from one is refused as unknown: read again). So a version handed
        out lives through at least one squash, and the one an agent last read as long as
        that stays so and the read has not expired."""
        self._squashes += 1
        self._append({"g": self._squashes})
        gone = self.expire()
        named = set(self._reads.values())
        limit = self._squashes - 1
        old = [
            v for v in self._snaps if v not in named and (v in gone or self._ages.get(v, 0) < limit)
        ]
        if old:
            for vid in old:
                del self._snaps[vid]
            self._prune()

    def hold(self, agent: str) -> None:
        """`agent` is live in this process (an editor's watch): its reads do not expire until
        `release` (as many calls)."""
        self._held[agent] = self._held.get(agent, 0) + 1

    def release(self, agent: str) -> None:
        count = self._held.get(agent, 0) - 1
        if count > 0:
            self._held[agent] = count
        else:
            self._held.pop(agent, None)

    def expire(self) -> set[str]:
        """Expire the last reads older than the TTL (none if it is 0): each is remembered as
        expired (`refuse_expired`) and no longer names its version. Their versions. (Those of
        an agent held live, `hold`, do not expire.)"""
        if self.ttl <= 0:
            return set()
        now = self.clock()
        gone: set[str] = set()
        for key, vid in list(self._reads.items()):
            at = self._times.get(key, now)
            if now - at < self.ttl or key[0] in self._held:
                continue
            self._expired[key] = ExpiredRead(key[1], vid, at, self.ttl)
            del self._reads[key]
            self._times.pop(key, None)
            self._append({"x": [key[0], key[1], vid, round(at, 3), self.ttl]})
            gone.add(vid)
        return gone

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
            json.dumps({"r": [a, p, v], "t": self._times.get((a, p))}, separators=(",", ":"))
            for (a, p), v in self._reads.items()
        ]
        lines += [
            json.dumps({"x": [a, p, e.version, e.at, e.ttl]}, separators=(",", ":"))
            for (a, p), e in self._expired.items()
        ]
        tmp = self._path.with_suffix(".tmp")
        try:
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            os.replace(tmp, self._path)
        except OSError:
            return
