"""Character edits on pycrdt Text: minimal diffs, and the one place char offsets become bytes.

pycrdt Text offsets and lengths are UTF-8 bytes; an offset inside a multi-byte character
silently inserts at the end of the text. Every character offset goes through `byte_offset`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import Text

Record = Callable[[int, str, str], None]
"""Told of each applied edit, in application order: (char offset, old text, new text)."""

CHAR_DIFF_LIMIT = 4000
"""Above this many characters in one changed block, it is replaced whole rather than char-diffed
(difflib is quadratic in the worst case; blocks this large are rewrites anyway)."""


@dataclass(frozen=True)
class Edit:
    """Replace `delete` characters at character offset `pos` by `insert`."""

    pos: int
    delete: int
    insert: str


def insert_text(text: Text, at: int, value: str, txn: Any = None) -> None:
    """`text.insert(at, value)` (a byte offset), through the open transaction's handle when
    one is given: pycrdt's wrapper opens a nested transaction per call, which cost about a
    tenth of a keystroke. The handle is pycrdt's private one, so any surprise takes the
    public path."""
    if txn is not None:
        try:
            text.integrated.insert(txn, at, value, None)
            return
        except (AttributeError, TypeError):  # pragma: no cover - pycrdt changed
            pass
    text.insert(at, value)


def delete_text(text: Text, start: int, end: int, txn: Any = None) -> None:
    """`del text[start:end]` (byte offsets), through the open transaction's handle if given."""
    if txn is not None:
        try:
            text.integrated.remove_range(txn, start, end - start)
            return
        except (AttributeError, TypeError):  # pragma: no cover - pycrdt changed
            pass
    del text[start:end]


def byte_offset(text: str, char_offset: int) -> int:
    """The UTF-8 byte offset of a character offset in `text`."""
    if text.isascii():
        return char_offset
    return len(text[:char_offset].encode("utf-8"))


def diff(old: str, new: str) -> list[Edit]:
    """Small edits turning `old` into `new`, in ascending order, positions relative to `old`.

    Lines first (code changes by lines), then characters inside each changed block, so two
    agents editing different lines, or different words of one line, touch disjoint ranges.
    """
    if old == new:
        return []
    prefix = common_prefix(old, new)
    suffix = common_suffix(old[prefix:], new[prefix:])
    a, b = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    if not a or not b:
        return [Edit(prefix, len(a), b)]
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    edits: list[Edit] = []
    starts = _starts(a_lines)
    matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        block_a, block_b = "".join(a_lines[i1:i2]), "".join(b_lines[j1:j2])
        edits.extend(_char_edits(prefix + starts[i1], block_a, block_b))
    return edits


def _char_edits(base: int, a: str, b: str) -> Iterable[Edit]:
    if not a or not b or len(a) + len(b) > CHAR_DIFF_LIMIT:
        yield Edit(base, len(a), b)
        return
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            yield Edit(base + i1, i2 - i1, b[j1:j2])


def apply(text: Text, current: str, edits: list[Edit], record: Record | None = None) -> str:
    """Apply ascending, non-overlapping `edits` (relative to `current`) to `text`; returns the new
    content. Applied from the end so each offset is still measured against `current` (and each
    recorded edit is valid against the text as the previous ones left it)."""
    for edit in reversed(edits):
        start = byte_offset(current, edit.pos)
        old = current[edit.pos : edit.pos + edit.delete]
        if edit.delete:
            end = start + len(old.encode("utf-8"))
            del text[start:end]
        if edit.insert:
            text.insert(start, edit.insert)
        if record is not None:
            record(edit.pos, old, edit.insert)
    out: list[str] = []
    pos = 0
    for edit in edits:
        out.append(current[pos : edit.pos])
        out.append(edit.insert)
        pos = edit.pos + edit.delete
    out.append(current[pos:])
    return "".join(out)


def set_text(text: Text, current: str, new: str, record: Record | None = None) -> bool:
    """Make `text` (now holding `current`) hold `new` with small edits; True if anything changed."""
    edits = diff(current, new)
    if edits:
        apply(text, current, edits, record)
    return bool(edits)


def _starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def common_suffix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if n == 0 or a[-1] != b[-1]:
        return 0
    lo, hi = 1, n + 1  # suffix of length lo matches; hi does not (or out of range)
    if a[len(a) - n :] == b[len(b) - n :]:
        return n
    hi = n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid
    return lo
