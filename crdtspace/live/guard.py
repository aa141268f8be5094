"""Checking a peer's update before it is accepted: applied to a scratch copy, what it adds,
removes or forges is seen before anything is durable.

`inspect_update` is the check `crdtspace serve` runs on every update a client sends
(`crdtspace.live.home.HomeReplica.check_update`); `UpdateGuard` runs the same check in a
networked home replica (`crdtspace.live.netreplica.connect(home=...)`) on every update the
server relays, since a server it does not run (Hocuspocus, y-websocket) checks nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map, MapEvent, get_update
from pycrdt._pycrdt import MapEvent as _RawMapEvent

from crdtspace.errors import PathError
from crdtspace.git import gitio
from crdtspace.live.protocol import Hostile, read_var_uint, var_uint
from crdtspace.model import schema
from crdtspace.model.collect import DeleteCheck
from crdtspace.model.versions import new_doc

__all__ = [
    "Incomplete",
    "Part",
    "Refusal",
    "Scratch",
    "UpdateGuard",
    "inspect_update",
    "split_update",
]

LOG = logging.getLogger("crdtspace.live.guard")
_PATH_MAPS = ("files", "gitonly")
"""Maps whose keys are repository paths: a key outside the repository is hostile."""


class Incomplete(Hostile):
    """An update that depends on changes the checker does not have (yet)."""


def _unrecorded_removals(nodes: Map[Any], touched: set[str], removed: list[str]) -> list[str]:
    """Files removed without a record of who removed them: `Workspace.remove` gives each root
    of the file a `delete` entry in the same update, which the conflict layer weighs against
    the others' edits; a bare deletion of the entry would drop them unseen."""
    recorded: set[str] = set()
    for nid in touched:
        node = nodes.get(nid)
        if not isinstance(node, Map) or node.get("parent") or not node.get("path"):
            continue
        log = node.get("log")
        newest = log[0] if isinstance(log, Array) and len(log) else None
        if isinstance(newest, dict) and newest.get("op") == "delete":
            recorded.add(str(node["path"]))
    return [
        f"removes the file {path!r} without a delete entry on its nodes (who removed it?)"
        for path in removed
        if path not in recorded
    ]


def _below_another(path: str, entries: set[str]) -> None:
    """PathError when `path` lies below another file, link or submodule of the workspace, or
    one lies below it (a checkout could take only one of them)."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        above = "/".join(parts[:depth])
        if above in entries:
            raise PathError(f"The path {path!r} lies below the file {above!r}.")
    prefix = path + "/"
    if any(other.startswith(prefix) for other in entries):
        raise PathError(f"The path {path!r} is a folder of other files of the workspace.")


@dataclass
class _Seen:
    """What one update did to a scratch copy, as its observers saw it."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    structural: set[str] = field(default_factory=set)  # nodes whose map or body changed
    typed: set[str] = field(default_factory=set)  # nodes whose texts changed
    logged: set[str] = field(default_factory=set)  # nodes whose log grew
    forged: list[str] = field(default_factory=list)
    failure: Exception | None = None  # an observer that failed (the update is refused)
    deletes: bool = True  # whether the update may delete anything (else no log lost items)


class Scratch:
    """A copy of the accepted state, with the observers `inspect` reads set up once (pycrdt
    inspects a callback's signature on every `observe`: per update, that cost more than the
    update's own merge)."""

    def __init__(self, doc: Doc[Any], *, states: bool = True) -> None:
        self.doc = doc
        self._seen: _Seen | None = None
        self._deletes = DeleteCheck(doc)  # (see `inspect`)
        self._keep_states = states
        self.states: tuple[bytes, bytes] | None = None
        """With `states`: the state vectors before and after the last update `inspect`
        checked, once it was complete (for `split_update`)."""
        self._maps = [doc.get(name, type=Map) for name in _PATH_MAPS]
        self._nodes = doc.get("nodes", type=Map)
        for paths in self._maps:
            paths.observe(self._collect)
        # (A subscription lives as long as its Map object: these are kept.)
        self._gitonly = doc.get("gitonly", type=Map)
        self._gitonly.observe(self._collect_gitonly)
        try:
            # yrs's own events, read only for what is looked at (pycrdt's observer builds
            # every attribute of every event first: most of a check's cost)
            self._raw = self._nodes.integrated.observe_deep(self._collect_raw_nodes)
        except AttributeError:  # pragma: no cover  (pycrdt changed: its public observer)
            self._nodes.observe_deep(self._collect_nodes)

    def apply_update(self, update: bytes) -> None:
        """Take an update already accepted (nothing is checked)."""
        self.doc.apply_update(update)

    def get_state(self) -> bytes:
        return bytes(self.doc.get_state())

    def _collect(self, event: MapEvent) -> None:
        if self._seen is None:
            return
        keys: dict[str, dict[str, Any]] = event.keys  # type: ignore[attr-defined]  # Rust
        self._seen.added.extend(k for k, v in keys.items() if v.get("action") != "delete")
        self._seen.removed.extend(k for k, v in keys.items() if v.get("action") == "delete")

    def _collect_gitonly(self, event: MapEvent) -> None:
        if self._seen is None:
            return
        keys: dict[str, dict[str, Any]] = event.keys  # type: ignore[attr-defined]  # Rust
        self._seen.forged.extend(
            f"changes the git-only entry {k!r}, which only git may set" for k in keys
        )

    def _collect_raw_nodes(self, events: list[Any]) -> None:
        """`_collect_nodes` on yrs's own events (valid only during this call)."""
        try:
            self._collect_nodes(events, _RawMapEvent)
        except Exception as exc:  # (raised into yrs, it would be lost: the update is refused)
            if self._seen is not None:
                self._seen.failure = exc

    def _collect_nodes(self, events: list[Any], map_event: type[Any] = MapEvent) -> None:
        seen = self._seen
        if seen is None:
            return
        for event in events:
            path = list(event.path)
            if path:
                seen.touched.add(str(path[0]))
                if len(path) == 1 or path[1] == "body":
                    seen.structural.add(str(path[0]))
                elif path[1] in ("text", "head", "tail"):
                    seen.typed.add(str(path[0]))
                elif path[1] == "log":
                    seen.logged.add(str(path[0]))
                    # (yrs works a log's delta out over the whole log: asked only when the
                    # update deletes anything, else a check would cost what the log holds)
                    delta = event.delta if len(path) == 2 and seen.deletes else ()
                    if any("delete" in change for change in delta):
                        # Logs only grow (replicas read new entries from the front: logcache).
                        seen.forged.append(f"deletes entries of the log of node {path[0]!r}")
                if len(path) == 1 and isinstance(event, map_event):
                    keys = event.keys  # (set by the Rust core)
                    if "mode" in keys:
                        seen.forged.append(f"changes the mode of node {path[0]!r} (only git may)")
            elif isinstance(event, map_event):
                keys = event.keys  # (set by the Rust core)
                seen.touched.update(keys)
                seen.structural.update(keys)
                seen.forged.extend(
                    f"deletes the node {k!r} (nodes are taken out of their container, never "
                    "deleted: their logs stay for the conflict layer)"
                    for k, v in keys.items()
                    if v.get("action") == "delete"
                )

    def inspect(self, update: bytes, root: Path | None) -> tuple[set[str], set[str]]:
        """See `inspect_update`. Afterwards (a `Hostile` raised by the checks of what it
        did included), `states` holds the states before and after it (made with `states`)."""
        before = bytes(self.doc.get_state()) if self._keep_states else b""
        self.states = None
        seen = self._seen = _Seen()
        seen.deletes = self._deletes.deletes(update)
        try:
            self.doc.apply_update(update)
        except Exception as exc:  # pycrdt raises plain exceptions for malformed updates
            raise Hostile(f"a malformed update ({exc})") from exc
        finally:
            self._seen = None
        if seen.failure is not None:
            raise Hostile(f"a malformed update ({seen.failure})")
        after = bytes(self.doc.get_state())
        rest = bytes(get_update(update, after))  # (its delete set alone, if it is complete)
        if rest[:1] != b"\x00" or _deleting_unknown(rest[1:], after):
            # Structs waiting for ones the server lacks, or deletions of items it lacks: yrs
            # would integrate them later, unchecked, when those arrive (and a doc's update
            # would not even carry them). Yjs clients never send these: sync step 2 and then
            # updates, in order.
            raise Incomplete("an update that depends on changes the server does not have")
        if self._keep_states:
            self.states = (before, after)
        self._check(seen, root)
        return seen.typed - seen.logged, seen.logged

    def _check(self, seen: _Seen, root: Path | None) -> None:
        nodes, added, forged = self._nodes, seen.added, seen.forged
        for nid in seen.structural:
            node = nodes.get(nid)
            path = node.get("path") if isinstance(node, Map) else None
            if path:
                added.append(str(path))
            mode = node.get("mode") if isinstance(node, Map) else None
            if mode is not None and mode not in (gitio.MODE_FILE, gitio.MODE_EXECUTABLE):
                forged.append(f"sets the mode of node {nid!r} to {mode!r}, not a file's")
        if forged:
            # Modes and blobs come from git (sync-git, on the home replica), never from a peer.
            raise Hostile(f"an update that {forged[0]}")
        if seen.removed:
            forged.extend(_unrecorded_removals(nodes, seen.touched, seen.removed))
        if forged:
            raise Hostile(f"an update that {forged[0]}")
        wrong = (
            schema.problems(self.doc, seen.structural, added) if seen.structural or added else []
        )
        if wrong:
            raise Hostile(f"an update that breaks the document's schema: {wrong[0]}")
        entries = {str(k) for m in self._maps for k in m} if added else set()
        for path in added:
            try:
                if gitio.safe_relpath(root, path) != path:
                    raise PathError(f"The path {path!r} is not in normal form.")
                _below_another(path, entries)
            except PathError as exc:
                raise Hostile(
                    f"an update adding a file path outside the repository: {exc}"
                ) from exc


Deletions = list[tuple[int, list[tuple[int, int]]]]
"""A delete set: (client, [(clock, length), ...]) per client."""


def _read_delete_set(encoded: bytes) -> Deletions:
    count, pos = read_var_uint(encoded, 0)
    out: Deletions = []
    for _ in range(count):
        client, pos = read_var_uint(encoded, pos)
        ranges, pos = read_var_uint(encoded, pos)
        spans = []
        for _ in range(ranges):
            clock, pos = read_var_uint(encoded, pos)
            length, pos = read_var_uint(encoded, pos)
            spans.append((clock, length))
        out.append((client, spans))
    return out


def _deleting_unknown(encoded: bytes, state: bytes) -> bool:
    """Whether a delete set (as encoded) deletes items a doc at `state` does not have."""
    if encoded == b"\x00":  # (none: the common case, typing)
        return False
    known = dict(_read_state(state))
    return any(
        clock + length > known.get(client, 0)
        for client, spans in _read_delete_set(encoded)
        for clock, length in spans
    )


def _read_state(state: bytes) -> list[tuple[int, int]]:
    count, pos = read_var_uint(state, 0)
    out = []
    for _ in range(count):
        client, pos = read_var_uint(state, pos)
        clock, pos = read_var_uint(state, pos)
        out.append((client, clock))
    return out


def _state(clocks: list[tuple[int, int]]) -> bytes:
    return var_uint(len(clocks)) + b"".join(var_uint(c) + var_uint(k) for c, k in clocks)


@dataclass(frozen=True)
class Part:
    """A part of an update (`split_update`): a replica's new structs, or deletions of items a
    replica made (`deleted`: its client and the ranges of clocks)."""

    label: str
    update: bytes
    deleted: tuple[int, tuple[tuple[int, int], ...]] | None = None

    def halves(self) -> list[Part]:
        """Deletions cut in two (range by range, then a range in its middle), to find the
        bad ones among them; nothing for structs or a single deleted item."""
        if self.deleted is None:
            return []
        client, spans = self.deleted
        if len(spans) > 1:
            middle = len(spans) // 2
            return [_deletion(client, spans[:middle]), _deletion(client, spans[middle:])]
        [(clock, length)] = spans
        if length < 2:
            return []
        half = length // 2
        return [
            _deletion(client, ((clock, half),)),
            _deletion(client, ((clock + half, length - half),)),
        ]


def _deletion(client: int, spans: tuple[tuple[int, int], ...]) -> Part:
    encoded = var_uint(client) + var_uint(len(spans))
    encoded += b"".join(var_uint(clock) + var_uint(length) for clock, length in spans)
    return Part(
        f"deletions of items of replica {client}",
        b"\x00" + var_uint(1) + encoded,  # (no structs, one client's delete set)
        (client, spans),
    )


def split_update(update: bytes, before: bytes, after: bytes) -> list[Part]:
    """`update` (complete: it took a doc from state `before` to `after`) cut into parts a
    guard can check one by one: each replica's (client id's) new structs, then the deletions
    of each one's items. A sync step 2 merges every replica's updates into one: cut, a bad
    one's part is refused and the others' kept. (Structs are not cut finer: a merged update
    no longer says which transaction made what; deletions are, by `Part.halves`.) Hostile
    when it cannot be cut."""
    rest = bytes(get_update(update, after))
    if rest[:1] != b"\x00":
        raise Hostile("an update that is not complete")
    deletions = rest[1:]  # (a v1 update: its structs, then its delete set)
    known = dict(_read_state(before))
    reached = _read_state(after)
    parts = []
    for client, clock in reached:
        if clock <= known.get(client, 0):
            continue
        others = [(c, k) for c, k in reached if c != client]
        piece = bytes(get_update(update, _state([*others, (client, known.get(client, 0))])))
        if not piece.endswith(deletions):
            raise Hostile("an update whose delete set cannot be told from its structs")
        structs = piece[: len(piece) - len(deletions)] + b"\x00"
        parts.append(Part(f"the edits of replica {client}", structs))
    for client, spans in _read_delete_set(deletions):
        parts.append(_deletion(client, tuple(spans)))
    return parts


def inspect_update(scratch: Scratch, update: bytes, root: Path | None) -> tuple[set[str], set[str]]:
    """Apply `update` to `scratch` (a copy of the accepted state) and check what it did:
    Hostile when it is malformed, adds a path outside the repository, forges what only git
    sets, deletes nodes or log entries, or breaks the schema; `Incomplete` when it depends on
    changes `scratch` lacks. After either, `scratch` holds part of the update: the caller
    rebuilds it. Returns the nodes whose texts it changed with no log entry, and those whose
    log grew."""
    return scratch.inspect(update, root)


# -- in a networked home replica -------------------------------------------------------------

HELD_COUNT = 1024
HELD_BYTES = 64 * 1024 * 1024
"""Updates waiting for the changes they depend on: at most this many, this big (beyond, the
oldest is refused; the next handshake brings whatever it carried again)."""


@dataclass(frozen=True)
class Refusal:
    """An update a networked home replica refused, and why."""

    reason: str
    size: int
    at: float


class UpdateGuard:
    """The check of `crdtspace serve`, run by a replica on what the server relays to it.

    `admit(update)` returns the updates to merge now: `update` once it passed, and any held
    ones it completed. An update that depends on changes not here yet is held, not refused: a
    relay such as Hocuspocus with Redis can pass on another node's update before the state it
    builds on (yrs would integrate it later, unchecked; held, it is checked once complete). A
    hostile one is refused (`refusals`) and never merged: the replica's document and its log
    stay as they were. Every update the replica makes itself goes to `local`."""

    def __init__(self, doc: Doc[Any], root: Path | None) -> None:
        self._doc = doc
        self.root = root
        self.scratch = self._copy([])
        self.held: list[bytes] = []
        self.refusals: list[Refusal] = []

    def _copy(self, extra: list[bytes]) -> Scratch:
        doc = new_doc()
        doc.apply_update(bytes(self._doc.get_update()))
        for update in extra:
            doc.apply_update(update)
        return Scratch(doc)

    def local(self, update: bytes) -> None:
        """An update of the replica's own (its edits, its folds): accepted as it is."""
        self.scratch.apply_update(update)

    def reset(self) -> None:
        """A new connection: its handshake brings again whatever the held updates carried."""
        self.held.clear()

    def admit(self, update: bytes) -> list[bytes]:
        """The updates to merge now, in order (see the class docstring). A hostile update
        that merges several replicas' (a sync step 2) is cut by replica (`split_update`):
        only the bad replica's part is refused."""
        accepted: list[bytes] = []
        if not self._check(update, accepted, whole=True):
            self.held.append(update)
            self._trim()
            return accepted
        progress = True
        while progress and self.held:
            progress = False
            for waiting in list(self.held):
                if self._check(waiting, accepted):
                    self.held.remove(waiting)
                    progress = True
        return accepted

    def _check(self, update: bytes, accepted: list[bytes], *, whole: bool = False) -> bool:
        """Whether `update` is settled: accepted (added to `accepted`), refused, or (`whole`,
        hostile) cut into parts checked one by one, those that must wait held; False when it
        must wait."""
        try:
            inspect_update(self.scratch, update, self.root)
        except Incomplete:
            self.scratch = self._copy(accepted)
            return False
        except Hostile as exc:
            states = self.scratch.states
            self.scratch = self._copy(accepted)
            parts = self._parts(update, states) if whole and states is not None else []
            if len(parts) < 2:
                self._refuse(exc.reason, len(update))
                return True
            LOG.warning(
                "An update of %d bytes merging %d parts is hostile (%s): checking each part.",
                *(len(update), len(parts), exc.reason),
            )
            for part in parts:
                self._check_part(part, accepted)
            return True
        accepted.append(update)
        return True

    def _parts(self, update: bytes, states: tuple[bytes, bytes]) -> list[Part]:
        try:
            return split_update(update, *states)
        except Exception:  # (it cannot be cut: refused whole)
            return []

    def _check_part(self, part: Part, accepted: list[bytes]) -> None:
        """Accept, hold or refuse a part; hostile deletions are cut in halves until only the
        bad items are refused (others' deletions of the same replica's items are kept)."""
        try:
            inspect_update(self.scratch, part.update, self.root)
        except Incomplete:
            self.scratch = self._copy(accepted)
            self.held.append(part.update)
            return
        except Hostile as exc:
            self.scratch = self._copy(accepted)
            halves = part.halves()
            if not halves:
                self._refuse(f"{exc.reason} ({part.label})", len(part.update))
            for half in halves:
                self._check_part(half, accepted)
            return
        accepted.append(part.update)

    def _refuse(self, reason: str, size: int) -> None:
        LOG.warning("Refused an update of %d bytes: %s.", size, reason)
        self.refusals.append(Refusal(reason, size, time.time()))
        del self.refusals[:-100]

    def _trim(self) -> None:
        while len(self.held) > HELD_COUNT or (
            len(self.held) > 1 and sum(map(len, self.held)) > HELD_BYTES
        ):
            dropped = self.held.pop(0)
            self._refuse("an update whose dependencies never came (too many waiting)", len(dropped))
