"""Restoring a version: the encoded document as it was at one of its snapshots.

A snapshot is a state vector (per client, the clocks it had seen) and a delete set (what of that
was deleted). The document as it was then is made of exactly the items below the state vector,
with exactly the snapshot's deletions: items integrate to the same order whatever else the
document holds (that is what makes it a CRDT). `restore` cuts the whole document's encoded
update (Yjs update format v1, read with `crdtspace.model.collect`'s reader) to that: every
client's structs up to its clock in the state vector (an item that straddles the clock is cut:
the same id, origins and parent, its content shortened), followed by the snapshot's delete set
in place of the document's own. The document must have kept the content the snapshot shows
(``skip_gc``, see `crdtspace.model.versions`).

yrs (0.27 on) also integrates an item whose clock follows one not yet received (its origins
known), holding the gap as a skip; its state vector stops at the gap, so its snapshot neither
shows such items nor can hold their deletion (its delete set shows it all the same: neither
restore gave such a snapshot back). A version appends what the document held past a gap
(`crdtspace.model.versions.snapshot`, `held_past_gaps`); those ranges are kept too, and the gaps
between them written as skips, as yrs held them.

yrs restores snapshots too (``Doc.from_snapshot``), but panics on some (about 2% of snapshots of
random typing, most of those of a real typing trace) and shows text typed after others (see
docs/tricky_cases.md); this cut never splits or re-links what it keeps. It reads, in Python,
only the clients the snapshot saw part of, up to their clocks: about as fast as yrs's.

Anything the reader does not know (an unknown content, a cut inside a surrogate pair or inside a
content it cannot shorten, an update missing clocks the snapshot has) is a `ValueError`: the
caller falls back to yrs (`crdtspace.model.versions.fork`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from crdtspace.model.collect import (
    Ranges,
    _skip_any,
    _skip_string,
    _struct,
    _uint,
    _Unknown,
    _utf16_length,
    encode_ranges,
    read_beyond,
    read_state,
    read_version,
    var_uint,
)

__all__ = ["held_past_gaps", "restore", "restore_doc"]


def restore(update: bytes, snap: bytes) -> bytes:
    """The v1 update of the document whose whole update is `update`, as it was at `snap` (an
    encoded snapshot of it). Raises `ValueError` when that cannot be made here."""
    try:
        deleted, state, beyond = read_version(snap)
        keep = _spans(state, beyond)
        seen, blocks = _blocks(update, keep)
        if any(client not in seen for client in keep):
            raise _Unknown("a client the version saw is not in the update")
        return var_uint(len(seen)) + blocks + encode_ranges(deleted)
    except (_Unknown, IndexError, ValueError) as exc:  # a truncated update or snapshot
        raise ValueError(f"this version cannot be restored from the update: {exc}") from None


def restore_doc(doc: Doc[Any], snap: bytes) -> bytes:
    """`restore(doc.get_update(), snap)`, reading less: yrs encodes, apart, the clients the
    snapshot saw whole (copied as they are) and each one it saw part of (read up to its clock);
    the others are not read at all."""
    try:
        deleted, state, beyond = read_version(snap)
        ends = read_state(bytes(doc.get_state()))
        if any(ends.get(client, 0) < clock for client, clock in state.items()):
            raise _Unknown("the document has not seen all the version saw")
        keep = _spans(state, beyond)
        # A client the document holds now past a gap in its clocks is never copied whole.
        gapped = held_past_gaps(doc, ends)
        # Every update of this document ends with the same delete set: what an update with no
        # structs holds (a count of 0, then the delete set). (Asked from past every client's
        # last clock: the state vector stops at a gap.)
        top = dict.fromkeys(ends, _TOP)
        empty = bytes(doc.get_update(_state_vector(top)))
        if empty[:1] != b"\x00":
            raise _Unknown("an update with no structs has structs")
        tail = empty[1:]
        whole = {
            c
            for c, clock in state.items()
            if clock and clock == ends[c] and c not in beyond and c not in gapped
        }
        parts = []
        kept = 0
        if whole:
            data = _only(doc, top, whole, tail)
            kept, pos = _uint(data, 0)
            if kept != len(whole):
                raise _Unknown("an update has other clients than asked for")
            parts.append(data[pos:])
        for client, spans in keep.items():
            if client not in whole:
                seen, blocks = _blocks(_only(doc, top, {client}, tail), {client: spans})
                if seen != {client}:
                    raise _Unknown(f"client {client} is not in its update")
                kept += 1
                parts.append(blocks)
        return var_uint(kept) + b"".join(parts) + encode_ranges(deleted)
    except (_Unknown, IndexError, ValueError) as exc:  # a truncated update or snapshot
        raise ValueError(f"this version cannot be restored from the document: {exc}") from None


def held_past_gaps(doc: Doc[Any], ends: dict[int, int] | None = None) -> Ranges:
    """Per client, the clock ranges of the items `doc` holds past a gap in the client's clocks
    (yrs, from 0.27, integrates an item whose clock follows one it has not received when its
    origins are known, and holds the gap as a skip; its state vector, `ends`, stops at the
    first gap). Empty for nearly every document. yrs encodes, for a state vector, a client's
    structs from its clock there only if the document's own is higher: each is asked from one
    clock before its own (that struct is left out), those at 0 from the start."""
    if ends is None:
        ends = read_state(bytes(doc.get_state()))
    probe = {c: k - 1 for c, k in ends.items() if k > 0}
    diff = bytes(doc.get_update(_state_vector(probe)))
    out: Ranges = {}
    for client, spans in read_beyond(diff).items():
        start = ends.get(client, 0)
        past = [(max(a, start), b) for a, b in spans if b > start]
        if past:
            out[client] = past
    return out


_TOP = 0xFFFFFFFF
"""A clock past every client's last (yrs's clocks are 32 bits)."""


def _state_vector(state: dict[int, int]) -> bytes:
    out = bytearray(var_uint(len(state)))
    for client, clock in state.items():
        out += var_uint(client) + var_uint(clock)
    return bytes(out)


def _only(doc: Doc[Any], ends: dict[int, int], clients: set[int], tail: bytes) -> bytes:
    """The structs of `clients`, whole, as yrs encodes them (an update without its delete
    set)."""
    update = bytes(
        doc.get_update(_state_vector({c: k for c, k in ends.items() if c not in clients}))
    )
    if not update.endswith(tail):
        raise _Unknown("an update does not end with the document's delete set")
    return update[: len(update) - len(tail)]


def _spans(state: dict[int, int], beyond: Ranges) -> Ranges:
    """Per client, the clock ranges a version shows: below its clock in the state vector, and
    what the document held past a gap (`crdtspace.model.collect.read_version`)."""
    out: Ranges = {c: [(0, k)] for c, k in state.items() if k}
    for client, spans in beyond.items():
        out[client] = [*out.get(client, []), *spans]
    return out


def _blocks(data: bytes, keep: Ranges) -> tuple[set[int], bytes]:
    """The client blocks of an update's structs `data`, each cut to its clock ranges in
    `keep` (without the count of blocks first), and the clients that kept any. A gap between
    two ranges is written as a skip (yrs holds it so: the state vector stops at it)."""
    parts: list[bytes] = []
    seen: set[int] = set()
    clients, pos = _uint(data, 0)
    for index in range(clients):
        count, pos = _uint(data, pos)
        client, pos = _uint(data, pos)
        first, pos = _uint(data, pos)
        spans = keep.get(client, [])
        limit = spans[-1][1] if spans else 0
        # Whole structs in a row are copied as one run; a struct that straddles the end of a
        # range is cut; what lies between ranges is skipped, written as one skip when a kept
        # struct follows it.
        out: list[bytes] = []
        run_end = run_start = pos
        clock = first
        start_clock = -1  # the clock of the block's first kept struct
        kept = 0
        gap = 0
        span = 0
        for _ in range(count):
            if clock >= limit and index == clients - 1:
                break  # the last client: what follows is not needed
            start = pos
            pos, content, length, info = _next(data, pos)
            while span < len(spans) and spans[span][1] <= clock:
                span += 1
            inside = span < len(spans) and spans[span][0] <= clock
            if not inside:
                if span < len(spans) and spans[span][0] < clock + length:
                    raise _Unknown(f"client {client}: a struct straddles the start of a range")
                if kept:
                    gap += length
                if run_end > run_start:
                    out.append(data[run_start:run_end])
                run_start = run_end = pos
                clock += length
                continue
            if info & 0x1F == 10:
                raise _Unknown(f"client {client}: the document no longer holds {clock}")
            if start_clock < 0:
                start_clock = clock
            if gap:
                out.append(b"\x0a" + var_uint(gap))  # a skip (v1: info 10, its length)
                kept += 1
                gap = 0
            end = spans[span][1]
            if clock + length <= end:
                if run_end != start:
                    if run_end > run_start:
                        out.append(data[run_start:run_end])
                    run_start = start
                run_end = pos
                kept += 1
            else:
                if run_end > run_start:
                    out.append(data[run_start:run_end])
                out.append(_cut(data, start, content, info, end - clock))
                kept += 1
                gap += clock + length - end
                run_start = run_end = pos
            clock += length
        if run_end > run_start:
            out.append(data[run_start:run_end])
        if clock < limit:
            raise _Unknown(f"client {client} ends at clock {clock}, the version saw {limit}")
        if kept:
            seen.add(client)
            parts += (var_uint(kept), var_uint(client), var_uint(start_clock), *out)
    return seen, b"".join(parts)


_IDS = {n: re.compile(rb"(?:[\x80-\xff]*[\x00-\x7f]){%d}" % n) for n in (2, 4)}
"""Skips an item's origin ids (2 or 4 variable-length integers) in one match."""


def _next(data: bytes, pos: int) -> tuple[int, int, int, int]:
    """The struct at `pos`: (end, content start, clock length, info).

    This walks every struct the version kept, so what workspaces hold most (strings typed
    after an origin, log entries of any values) is read here; the rest by `collect`'s reader."""
    info = data[pos]
    ref = info & 0x1F
    if ref not in (4, 8):
        end, content, length, info, _ = _struct(data, pos)
        return end, content, length, info
    if info & 0xC0:
        match = _IDS[4 if info & 0xC0 == 0xC0 else 2].match(data, pos + 1)
        if match is None:
            raise _Unknown("truncated")
        content = match.end()
    else:  # the parent (a root's name, or an id), then maybe a key
        named, content = _uint(data, pos + 1)
        if named == 1:
            content = _skip_string(data, content)
        else:
            content = _uint(data, _uint(data, content)[1])[1]
        if info & 0x20:
            content = _skip_string(data, content)
    length, end = _uint(data, content)
    if ref == 8:
        end = _skip_values(data, end, length)
    else:
        raw = data[end : end + length]
        end += length
        if not raw.isascii():
            length = _utf16_length(raw)
    if end > len(data):
        raise _Unknown("truncated")
    return end, content, length, info


def _skip_values(data: bytes, pos: int, count: int) -> int:
    """After `count` lib0 any values at `pos` (as `collect`'s `_skip_any`, without a call per
    value: a log entry holds a hundred). May run past the end of `data`: the caller checks."""
    outer: list[tuple[int, bool]] = []  # (values left, keyed) of the enclosing containers
    keyed = False  # in an object: each value follows its key, a string without a tag
    while True:
        if not count:
            if not outer:
                return pos
            count, keyed = outer.pop()
            continue
        count -= 1
        if keyed:
            if data[pos] < 0x80:
                pos += 1 + data[pos]
            else:
                length, pos = _uint(data, pos)
                pos += length
        tag = data[pos]
        pos += 1
        if tag == 119 or tag == 116:  # string, bytes
            if data[pos] < 0x80:
                pos += 1 + data[pos]
            else:
                length, pos = _uint(data, pos)
                pos += length
        elif tag == 125:  # integer
            while data[pos] >= 0x80:
                pos += 1
            pos += 1
        elif tag == 118 or tag == 117:  # object, array
            if len(outer) > 200:
                raise _Unknown("nesting too deep")
            outer.append((count, keyed))
            count, pos = _uint(data, pos)
            keyed = tag == 118
        elif tag not in (127, 126, 121, 120):  # undefined, null, false, true: nothing more
            pos = _skip_any(data, pos - 1)


def _cut(data: bytes, start: int, content: int, info: int, keep: int) -> bytes:
    """The struct at `start` (its content at `content`) shortened to its first `keep` clocks."""
    ref = info & 0x1F
    if ref in (0, 10):  # GC, skip: their length is all they hold
        return bytes([info]) + var_uint(keep)
    head = data[start:content]
    if ref == 1:  # deleted
        return head + var_uint(keep)
    if ref == 4:  # string, counted in UTF-16 code units
        length, pos = _uint(data, content)
        raw = data[pos : pos + length]
        units = raw.decode("utf-8", errors="surrogatepass").encode("utf-16-le", "surrogatepass")
        kept = units[: 2 * keep]
        if 0xD800 <= int.from_bytes(kept[-2:], "little") <= 0xDBFF:
            raise _Unknown("a cut inside a surrogate pair")
        text = kept.decode("utf-16-le", errors="surrogatepass").encode("utf-8", "surrogatepass")
        return head + var_uint(len(text)) + text
    if ref == 2:  # JSON strings, one clock each
        return head + _first(data, content, keep, _skip_string)
    if ref == 8:  # any values, one clock each
        return head + _first(data, content, keep, _skip_any)
    raise _Unknown(f"a cut inside content {ref}")


def _first(data: bytes, content: int, keep: int, skip: Callable[[bytes, int], int]) -> bytes:
    """A counted list's first `keep` elements, re-counted."""
    _, pos = _uint(data, content)
    start = pos
    for _ in range(keep):
        pos = skip(data, pos)
    return var_uint(keep) + data[start:pos]


