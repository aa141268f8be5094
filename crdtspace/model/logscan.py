"""Reading an update log's bytes: its valid records, and where and why they stop.

The record format, and which bytes a crash can leave (a torn tail) as against damage, are
described in `crdtspace.model.storage`, whose `UpdateLog` reads and repairs logs with these.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

MAGIC = b"CSL1"
HEADER = struct.Struct("<II")
MAX_RECORD = 1 << 30
"""A length above this (1 GiB) is corruption, never a record."""


@dataclass(frozen=True)
class LogScan:
    """What the bytes of a log are: its valid records up to the first thing that is not one."""

    status: Literal["sound", "torn", "damaged", "foreign"]
    """`sound`: records to the end; `torn`: records, then a torn tail (see
    `crdtspace.model.storage`); `damaged`: records, then damage at `end`; `foreign`: not an
    update log."""
    records: list[bytes]
    end: int
    """Where the valid records end (the torn tail or the damage starts there)."""
    reason: str = ""
    """Why the bytes from `end` are torn or damaged."""


@dataclass(frozen=True)
class DroppedRange:
    """Bytes `start:end` of a log that are not records, and why."""

    start: int
    end: int
    reason: str

    @property
    def size(self) -> int:
        return self.end - self.start


def scan_log(data: bytes) -> LogScan:
    """Classify the bytes of a log (see `crdtspace.model.storage`); never raises."""
    if len(data) < len(MAGIC):
        if MAGIC.startswith(data):
            status: Literal["sound", "torn"] = "torn" if data else "sound"
            return LogScan(status, [], 0, "the header of a new log cut short" if data else "")
        return LogScan("foreign", [], 0, f"it does not start with {MAGIC!r}")
    if data[: len(MAGIC)] != MAGIC:
        return LogScan("foreign", [], 0, f"it does not start with {MAGIC!r}")
    records: list[bytes] = []
    pos = len(MAGIC)
    while pos < len(data):
        payload = _record_at(data, pos)
        if payload is None:
            torn, reason = _diagnose(data, pos, len(records))
            return LogScan("torn" if torn else "damaged", records, pos, reason)
        records.append(payload)
        pos += HEADER.size + len(payload)
    return LogScan("sound", records, pos)


def _record_at(data: bytes, pos: int) -> bytes | None:
    """The payload of the valid record starting at `pos`, if one does."""
    if len(data) - pos < HEADER.size:
        return None
    length, crc = HEADER.unpack_from(data, pos)
    start = pos + HEADER.size
    stop = start + length
    if length > MAX_RECORD or stop > len(data):
        return None
    view = memoryview(data)
    if zlib.crc32(view[start:stop], zlib.crc32(view[pos : pos + 4])) != crc:
        return None
    return data[start:stop]


def _diagnose(data: bytes, pos: int, index: int) -> tuple[bool, str]:
    """Why no valid record starts at `pos`: (torn, reason). Torn only for what a crash during
    the last append can leave (see `crdtspace.model.storage`)."""
    size = len(data)
    if data.count(0, pos) == size - pos:
        return True, f"{size - pos} zero bytes after the last record"
    if size - pos < HEADER.size:
        return True, f"the header of record {index} is cut short"
    length = HEADER.unpack_from(data, pos)[0]
    if length > MAX_RECORD:
        return False, f"record {index} has an impossible length ({length})"
    stop = pos + HEADER.size + length
    if stop == size:
        return False, f"record {index}, the last, is complete but fails its checksum"
    if stop < size:
        return False, f"record {index} fails its checksum and more data follows it"
    found = _any_record_after(data, pos + 1)
    if found is None:
        return False, (
            f"the length of record {index} ({length}) runs past the end of the file, and the "
            f"{size - pos} bytes after its start are too many to rule out valid records there"
        )
    if found >= 0:
        return False, (
            f"the length of record {index} ({length}) runs past the end of the file, yet a "
            f"valid record starts at byte offset {found}"
        )
    return True, f"record {index} is cut short ({size - pos} of {HEADER.size + length} bytes)"


_SEARCH_BUDGET = 1 << 28
"""How many bytes `load` checksums at most looking for records after a length that runs past
the end of the file (about a tenth of a second); beyond that it refuses rather than guess."""


def _candidates(data: bytes, start: int) -> Iterator[tuple[int, int]]:
    """Every offset at or after `start` whose length field fits in `data`, with that length."""
    size = len(data)
    last = size - HEADER.size
    pos = start
    while pos <= last:
        limit = min(size - pos - HEADER.size, MAX_RECORD)
        # A length that fits has its high bytes zero: jump to the next place where they are.
        zeros = 4 - max(1, (limit.bit_length() + 7) // 8)
        if zeros:
            found = data.find(b"\0" * zeros, pos + 4 - zeros, last + 4)
            if found < 0:
                return
            pos = found - (4 - zeros)
        length = HEADER.unpack_from(data, pos)[0]
        if length <= min(size - pos - HEADER.size, MAX_RECORD):
            yield pos, length
        pos += 1


def _resync(data: bytes, start: int) -> int | None:
    """The first offset at or after `start` where a valid record begins (one whose checksum
    holds and which fits in `data`), if any. Exhaustive: at worst the checksums it computes
    add up to the square of the bytes searched (seconds for megabytes of damage)."""
    for pos, _ in _candidates(data, start):
        if _record_at(data, pos) is not None:
            return pos
    return None


def _any_record_after(data: bytes, start: int, budget: int | None = None) -> int | None:
    """An offset at or after `start` where a valid record begins, -1 if there is none, None if
    checking would checksum more than `budget` bytes (the shortest candidates go first: the
    records written after a damaged one are most often small)."""
    budget = _SEARCH_BUDGET if budget is None else budget
    spent = 0
    for pos, length in sorted(_candidates(data, start), key=lambda c: c[1]):
        spent += length
        if spent > budget:
            return None
        if _record_at(data, pos) is not None:
            return pos
    return -1


def salvage(data: bytes) -> tuple[list[tuple[int, int]], list[DroppedRange]]:
    """Every valid record of `data` (a log, starting with MAGIC), resynchronising after each
    stretch that is not one: the records' byte ranges, and the dropped ranges."""
    kept: list[tuple[int, int]] = []
    dropped: list[DroppedRange] = []
    pos = len(MAGIC)
    while pos < len(data):
        payload = _record_at(data, pos)
        if payload is not None:
            stop = pos + HEADER.size + len(payload)
            kept.append((pos, stop))
            pos = stop
            continue
        reason = _diagnose(data, pos, len(kept))[1]
        following = _resync(data, pos + 1)
        end = len(data) if following is None else following
        dropped.append(DroppedRange(pos, end, reason))
        pos = end
    return kept, dropped
