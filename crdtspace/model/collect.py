"""Garbage collection under versions: deleted content no kept version shows is left out.

A workspace document keeps every deleted character (``skip_gc``, see
`crdtspace.model.versions`) so that a version can be restored for a write made from it. But a
version only shows what it had seen and not deleted: text typed and deleted again between two
kept versions, or before the oldest, is shown by none. `collect` rewrites an encoded update
(Yjs update format v1, as yrs writes it) so that the content of every such item is replaced by
its length (Yjs's ``ContentDeleted``, what a garbage-collecting Yjs document stores), and
nothing else changes: every item keeps its id, origins and parent, so updates made on top of
the full document still apply, every kept version still restores to the same texts, and the
document's state vector and delete set are the same.

What is collected, per item: the whole item was deleted (the update's delete set), and every
kept version either had not seen it (its clock at or past the version's state vector) or had
seen it deleted (in the version's delete set). Types (maps, arrays, texts) are kept as items:
their deleted children are collected one by one.

Anything the reader does not know (an unknown content or type reference, a truncated update)
leaves the update as it is: collection is an optimisation and never a reason to lose data.

Used by the durable log's compaction (`Replica.stored_update`, `Replica.compact_log`): what a
workspace stores. The document in memory keeps everything.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from pycrdt import get_update as diff_update

__all__ = [
    "Ranges",
    "collect",
    "collectable",
    "encode_ranges",
    "read_beyond",
    "read_delete_set",
    "read_snapshot",
    "read_state",
    "read_version",
    "var_uint",
]

Ranges = dict[int, list[tuple[int, int]]]
"""Per client, sorted disjoint [start, end) clock ranges."""


class _Unknown(Exception):
    """Something this reader does not know: the update is left as it is."""


# -- reading the v1 encoding -------------------------------------------------------------------


def _uint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise _Unknown("truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 70:
            raise _Unknown("number too long")


def _skip_string(data: bytes, pos: int) -> int:
    length, pos = _uint(data, pos)
    if pos + length > len(data):
        raise _Unknown("truncated")
    return pos + length


def _read_string(data: bytes, pos: int) -> tuple[bytes, int]:
    end = _skip_string(data, pos)
    start = _uint(data, pos)[1]
    return data[start:end], end


def _skip_signed(data: bytes, pos: int) -> int:
    while True:
        if pos >= len(data):
            raise _Unknown("truncated")
        byte = data[pos]
        pos += 1
        if byte < 0x80:
            return pos


def _skip_any(data: bytes, pos: int, depth: int = 0) -> int:
    if depth > 200:
        raise _Unknown("nesting too deep")
    if pos >= len(data):
        raise _Unknown("truncated")
    tag = data[pos]
    pos += 1
    if tag in (127, 126, 121, 120):  # undefined, null, false, true
        return pos
    if tag == 125:  # integer
        return _skip_signed(data, pos)
    if tag == 124:  # float32
        return pos + 4
    if tag in (123, 122):  # float64, bigint64
        return pos + 8
    if tag in (119, 116):  # string, bytes
        return _skip_string(data, pos)
    if tag == 118:  # object
        count, pos = _uint(data, pos)
        for _ in range(count):
            pos = _skip_string(data, pos)
            pos = _skip_any(data, pos, depth + 1)
        return pos
    if tag == 117:  # array
        count, pos = _uint(data, pos)
        for _ in range(count):
            pos = _skip_any(data, pos, depth + 1)
        return pos
    raise _Unknown(f"any tag {tag}")


def _utf16_length(raw: bytes) -> int:
    text = raw.decode("utf-8", errors="surrogatepass")
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def _content(data: bytes, pos: int, ref: int) -> tuple[int, int, bool]:
    """Skip one item content: (its length in clocks, the position after it, collectable)."""
    if ref == 1:  # deleted
        length, pos = _uint(data, pos)
        return length, pos, False
    if ref == 2:  # JSON strings
        count, pos = _uint(data, pos)
        for _ in range(count):
            pos = _skip_string(data, pos)
        return count, pos, True
    if ref == 3:  # binary
        return 1, _skip_string(data, pos), True
    if ref == 4:  # string
        raw, pos = _read_string(data, pos)
        return _utf16_length(raw), pos, True
    if ref == 5:  # embed
        return 1, _skip_string(data, pos), True
    if ref == 6:  # format
        return 1, _skip_string(data, _skip_string(data, pos)), True
    if ref == 7:  # type
        kind, pos = _uint(data, pos)
        if kind in (3, 5):  # XML element, XML hook: a name
            pos = _skip_string(data, pos)
        elif kind not in (0, 1, 2, 4, 6):
            raise _Unknown(f"type {kind}")
        return 1, pos, False
    if ref == 8:  # any values
        count, pos = _uint(data, pos)
        for _ in range(count):
            pos = _skip_any(data, pos)
        return count, pos, True
    if ref == 9:  # subdocument
        pos = _skip_string(data, pos)
        return 1, _skip_any(data, pos), False
    raise _Unknown(f"content {ref}")


def var_uint(value: int) -> bytes:
    """lib0's variable-length unsigned integer: 7 bits a byte, least significant first."""
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_ranges(data: bytes, pos: int) -> tuple[Ranges, int]:
    """A delete set (v1): per client, its deleted clock ranges, merged and sorted."""
    out: Ranges = {}
    clients, pos = _uint(data, pos)
    for _ in range(clients):
        client, pos = _uint(data, pos)
        count, pos = _uint(data, pos)
        spans: list[tuple[int, int]] = out.setdefault(client, [])
        for _ in range(count):
            clock, pos = _uint(data, pos)
            length, pos = _uint(data, pos)
            if length:
                spans.append((clock, clock + length))
    return {c: _normal(s) for c, s in out.items() if s}, pos


def read_delete_set(update: bytes) -> Ranges:
    """The delete set at the end of a v1 update."""
    try:
        return _read_ranges(update, _structs_end(update))[0]
    except _Unknown as exc:
        raise ValueError(f"not a readable update: {exc}") from None


def read_snapshot(snap: bytes) -> tuple[Ranges, dict[int, int]]:
    """An encoded snapshot: its delete set and state vector."""
    try:
        deleted, pos = _read_ranges(snap, 0)
        return deleted, _read_state(snap, pos)
    except _Unknown as exc:
        raise ValueError(f"not a readable snapshot: {exc}") from None


CLOCK_CEILING = 0xFFFFFFFF
"""Above any clock yrs gives an item (its clocks are 32-bit)."""


def ceiling_state(state: bytes) -> bytes:
    """A state vector naming the clients of `state` (an encoded state vector), each at a
    clock above any item's: the diff of an update against it (yrs's `diff_update`) holds
    none of those clients' structs, only its delete set (see `deletes_anything`)."""
    clients = list(_read_state(state, 0))
    return var_uint(len(clients)) + b"".join(
        var_uint(client) + var_uint(CLOCK_CEILING) for client in clients
    )


def deletes_anything(update: bytes, ceiling: bytes) -> bool | None:
    """Whether `update` deletes anything, read by yrs (about 0.5 us; reading its structs
    here to find its delete set cost 6-25 us): its diff against `ceiling` (`ceiling_state`)
    is its delete set alone when every client of its structs is named there. None when one
    is not (or yrs cannot read it): then `read_delete_set` must say."""
    try:
        diff = bytes(diff_update(update, ceiling))
    except Exception:  # pycrdt raises plain exceptions on what it cannot read
        return None
    if diff[:1] != b"\x00":
        return None
    return diff != b"\x00\x00"


class DeleteCheck:
    """Whether updates merged into `doc` delete anything, asked of yrs (`deletes_anything`)
    against a ceiling of the clients `doc` knows, made when first asked (ask before the merge)
    and anew after an update named a client it did not know; such an update is read here.

    The last answer of any check of the process is kept (`_last`): the replicas of a process
    get the same update from the server, each its own copy, and know the same clients."""

    _last: tuple[bytes, bytes, bool] = (b"", b"", False)

    def __init__(self, doc: Any) -> None:
        self._doc = doc
        self._ceiling: bytes | None = None

    def deletes(self, update: bytes) -> bool:
        """Whether `update` deletes anything (one that cannot be read counts as deleting)."""
        if self._ceiling is None:
            self._ceiling = ceiling_state(bytes(self._doc.get_state()))
        last_update, last_ceiling, last_found = DeleteCheck._last  # (one read: any thread)
        if update == last_update and self._ceiling == last_ceiling:
            return last_found
        found = deletes_anything(update, self._ceiling)
        if found is not None:
            DeleteCheck._last = (update, self._ceiling, found)
            return found
        self._ceiling = None
        try:
            return bool(read_delete_set(update))
        except (ValueError, IndexError):
            return True


def encode_ranges(ranges: Ranges) -> bytes:
    """Per client, clock ranges encoded as a v1 delete set (clients in the order given)."""
    out = bytearray(var_uint(len(ranges)))
    for client, spans in ranges.items():
        out += var_uint(client) + var_uint(len(spans))
        for start, end in spans:
            out += var_uint(start) + var_uint(end - start)
    return bytes(out)


def read_version(snap: bytes) -> tuple[Ranges, dict[int, int], Ranges]:
    """An encoded version (`crdtspace.model.versions.snapshot`): its delete set, state vector,
    and per client the clock ranges above its clock in the state vector that the document
    held then (items integrated past a gap, which yrs holds as a skip: empty for most)."""
    try:
        deleted, pos = _read_ranges(snap, 0)
        state, pos = _state_at(snap, pos)
        beyond = _read_ranges(snap, pos)[0] if pos < len(snap) else {}
        return deleted, state, beyond
    except _Unknown as exc:
        raise ValueError(f"not a readable snapshot: {exc}") from None


def read_beyond(diff: bytes) -> Ranges:
    """Per client, the clock ranges of the items (not skips) in the structs of `diff`: a
    document's update from its own state vector, which holds only what yrs integrated past a
    gap in a client's clocks (the gap held as a skip; the state vector stops at its start)."""
    out: Ranges = {}
    try:
        for client, clock, _, (_, _, length, info, _) in _Structs(diff):
            if info & 0x1F != 10 and length:
                out.setdefault(client, []).append((clock, clock + length))
    except _Unknown as exc:
        raise ValueError(f"not a readable update: {exc}") from None
    return {c: _normal(s) for c, s in out.items()}


def read_state(state: bytes) -> dict[int, int]:
    """An encoded state vector, per client its clock (the encoding's order is not fixed)."""
    try:
        return _read_state(state, 0)
    except _Unknown as exc:
        raise ValueError(f"not a readable state vector: {exc}") from None


def _read_state(data: bytes, pos: int) -> dict[int, int]:
    return _state_at(data, pos)[0]


def _state_at(data: bytes, pos: int) -> tuple[dict[int, int], int]:
    """The state vector encoded at `pos`, and where it ends."""
    clients, pos = _uint(data, pos)
    state: dict[int, int] = {}
    for _ in range(clients):
        client, pos = _uint(data, pos)
        clock, pos = _uint(data, pos)
        state[client] = clock
    return state, pos


# -- ranges ------------------------------------------------------------------------------------


def _normal(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _minus(spans: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` without `cut` (both normal)."""
    out: list[tuple[int, int]] = []
    j = 0
    for start, end in spans:
        while j < len(cut) and cut[j][1] <= start:
            j += 1
        k = j
        while start < end:
            if k >= len(cut) or cut[k][0] >= end:
                out.append((start, end))
                break
            if cut[k][0] > start:
                out.append((start, cut[k][0]))
            start = max(start, cut[k][1])
            k += 1
    return out


def collectable(deleted: Ranges, kept: Iterable[bytes]) -> Ranges:
    """What of `deleted` no snapshot in `kept` shows: for each, the clocks below its state
    vector that it had not seen deleted are shown, and taken out."""
    shown: dict[int, list[tuple[int, int]]] = {}
    for snap in kept:
        ds, state, beyond = read_version(snap)
        for client, clock in state.items():
            if client in deleted and clock > 0:
                shown.setdefault(client, []).extend(_minus([(0, clock)], ds.get(client, [])))
        for client, spans in beyond.items():  # (held past a gap: shown too)
            if client in deleted:
                shown.setdefault(client, []).extend(_minus(spans, ds.get(client, [])))
    out: Ranges = {}
    for client, spans in deleted.items():
        left = _minus(spans, _normal(shown.get(client, [])))
        if left:
            out[client] = left
    return out


def _covers(spans: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    i = bisect_right(starts, start) - 1
    return i >= 0 and spans[i][1] >= end


# -- the rewrite -------------------------------------------------------------------------------


class _Structs:
    """The structs of a v1 update, in order: (client, clock, start, `_struct`'s answer); once
    gone through, `end` is where they end (the delete set starts there)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.end = 0

    def __iter__(self) -> Iterator[tuple[int, int, int, tuple[int, int, int, int, bool]]]:
        data = self.data
        clients, pos = _uint(data, 0)
        for _ in range(clients):
            count, pos = _uint(data, pos)
            client, pos = _uint(data, pos)
            clock, pos = _uint(data, pos)
            for _ in range(count):
                struct = _struct(data, pos)
                yield client, clock, pos, struct
                clock += struct[2]
                pos = struct[0]
        self.end = pos


def _structs_end(data: bytes) -> int:
    structs = _Structs(data)
    for _ in structs:
        pass
    return structs.end


def _struct(data: bytes, pos: int) -> tuple[int, int, int, int, bool]:
    """One struct at `pos`: (end, content start, clock length, info, collectable)."""
    if pos >= len(data):
        raise _Unknown("truncated")
    info = data[pos]
    pos += 1
    ref = info & 0x1F
    if ref in (0, 10):  # GC, skip
        length, pos = _uint(data, pos)
        return pos, pos, length, info, False
    if info & 0x80:  # origin
        pos = _uint(data, _uint(data, pos)[1])[1]
    if info & 0x40:  # right origin
        pos = _uint(data, _uint(data, pos)[1])[1]
    if not info & 0xC0:  # parent
        named, pos = _uint(data, pos)
        pos = _skip_string(data, pos) if named == 1 else _uint(data, _uint(data, pos)[1])[1]
        if info & 0x20:
            pos = _skip_string(data, pos)
    content = pos
    length, pos, collectable = _content(data, pos, ref)
    return pos, content, length, info, collectable


def collect(update: bytes, drop: Ranges) -> bytes:
    """`update` with the content of every item wholly inside `drop` (and deleted in the
    update's own delete set) replaced by its length. Unreadable: `update` unchanged."""
    if not drop:
        return update
    try:
        return _collect(update, drop)
    except _Unknown:
        return update


def _collect(data: bytes, drop: Ranges) -> bytes:
    # One pass over the structs notes the collectable ones (the delete set comes after them),
    # then the update is copied with their contents replaced.
    found: list[tuple[int, int, int, int, int, int, int]] = []
    structs = _Structs(data)
    for client, clock, start, (end, content, length, info, collectable) in structs:
        if collectable and length:
            found.append((client, clock, length, start, content, end, info))
    deleted = _read_ranges(data, structs.end)[0]
    usable = {c: _intersect(spans, deleted.get(c, [])) for c, spans in drop.items()}
    starts = {c: [s for s, _ in spans] for c, spans in usable.items()}
    out = bytearray()
    copied = 0
    for client, clock, length, start, content, end, info in found:
        spans = usable.get(client)
        if spans and _covers(spans, starts[client], clock, clock + length):
            out += data[copied:start]
            out.append((info & 0xE0) | 1)
            out += data[start + 1 : content]
            out += var_uint(length)
            copied = end
    out += data[copied:]
    return bytes(out)


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out
