"""Character edits on pycrdt Text: minimal diffs, and the one place char offsets become bytes.

pycrdt Text offsets and lengths are UTF-8 bytes; an offset inside a multi-byte character
silently inserts at the end of the text. Every character offset goes through `byte_offset`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import Text

from crdtspace.model.affixes import common_prefix, common_suffix
from crdtspace.model.memo import TextMemo
from crdtspace.model.sequences import SequenceMatcher

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


_DIFFS: TextMemo[tuple[Edit, ...]] = TextMemo(entries=256, chars=2 << 20, largest=64 << 10)
"""Recent diffs, by (old, new): a merge diffs a node's base text and a side's twice (to
re-key the side's edit, then to find whether the sides' changes overlap)."""


def diff(old: str, new: str) -> list[Edit]:
    """Small edits turning `old` into `new`, in ascending order, positions relative to `old`.

    Lines first (code changes by lines), then characters inside each changed block, so two
    agents editing different lines, or different words of one line, touch disjoint ranges.
    """
    if old == new:
        return []
    key = (old, new)
    held = _DIFFS.get(key)
    if held is None:
        held = tuple(_diff(old, new))
        _DIFFS.put(key, held)
    return list(held)


def _diff(old: str, new: str) -> list[Edit]:
    prefix = common_prefix(old, new)
    suffix = common_suffix(old[prefix:], new[prefix:])
    a, b = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    if not a or not b:
        return [Edit(prefix, len(a), b)]
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    edits: list[Edit] = []
    starts = _starts(a_lines)
    for tag, i1, i2, j1, j2 in line_opcodes(a_lines, b_lines):
        if tag == "equal":
            continue
        block_a, block_b = "".join(a_lines[i1:i2]), "".join(b_lines[j1:j2])
        edits.extend(_char_edits(prefix + starts[i1], block_a, block_b))
    return edits


Opcode = tuple[str, int, int, int, int]

ANCHOR_ABOVE = 200
"""Lines (on the longer side) past which `line_opcodes` first cuts the two sides at the lines
each holds once (patience diff's anchors)."""


def line_opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """difflib's opcodes turning the lines `a` into `b` (SequenceMatcher, no junk heuristic).

    Up to ANCHOR_ABOVE lines, exactly SequenceMatcher's. Longer, the common first and last
    lines are cut off, and the rest is cut at the lines that occur once on each side, in an
    order both sides share (the longest such chain), so SequenceMatcher only ever sees the
    stretches between two of them: its matching is quadratic in lines that occur often (blank
    lines, closing braces), which cost real merges of large classes up to half a second."""
    if max(len(a), len(b)) <= ANCHOR_ABOVE:
        return list(SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
    blocks: list[tuple[int, int, int]] = []
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    if head:
        blocks.append((0, 0, head))
    i, j = head, head
    for ai, bj in [
        *_anchors(a, b, head, len(a) - tail, len(b) - tail),
        (len(a) - tail, len(b) - tail),
    ]:
        if ai > i and bj > j:
            matcher = SequenceMatcher(None, a[i:ai], b[j:bj], autojunk=False)
            blocks += [(i + x, j + y, n) for x, y, n in matcher.get_matching_blocks() if n]
        if ai < len(a) - tail:
            blocks.append((ai, bj, 1))
        i, j = ai + 1, bj + 1
    if tail:
        blocks.append((len(a) - tail, len(b) - tail, tail))
    return _opcodes(blocks, len(a), len(b))


def _anchors(
    a: list[str], b: list[str], start: int, a_end: int, b_end: int
) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines a[i] == b[j] that occur once in a[start:a_end] and once in
    b[start:b_end], the longest chain of them increasing on both sides."""
    seen_a: dict[str, int] = {}
    for i in range(start, a_end):
        seen_a[a[i]] = -1 if a[i] in seen_a else i
    seen_b: dict[str, int] = {}
    for j in range(start, b_end):
        line = b[j]
        if seen_a.get(line, -1) >= 0:
            seen_b[line] = -1 if line in seen_b else j
    pairs = sorted((seen_a[line], j) for line, j in seen_b.items() if j >= 0)
    return [pairs[k] for k in longest_increasing([j for _, j in pairs])]


def longest_increasing(values: list[int]) -> list[int]:
    """The indices of a longest strictly increasing subsequence of `values` (patience
    sorting), in order."""
    tops: list[int] = []  # per length, the smallest last value of such a subsequence
    ends: list[int] = []  # per length, that subsequence's last index
    back: list[int] = []
    for i, value in enumerate(values):
        k = bisect.bisect_left(tops, value)
        back.append(ends[k - 1] if k else -1)
        if k == len(tops):
            tops.append(value)
            ends.append(i)
        else:
            tops[k] = value
            ends[k] = i
    out: list[int] = []
    i = ends[-1] if ends else -1
    while i >= 0:
        out.append(i)
        i = back[i]
    return out[::-1]


def _opcodes(blocks: list[tuple[int, int, int]], la: int, lb: int) -> list[Opcode]:
    """SequenceMatcher-style opcodes from ascending matching blocks (adjacent ones joined)."""
    out: list[Opcode] = []
    i = j = 0
    for x, y, n in [*blocks, (la, lb, 0)]:
        if x > i or y > j:
            tag = "replace" if x > i and y > j else ("delete" if x > i else "insert")
            out.append((tag, i, x, j, y))
        if n:
            if out and out[-1][0] == "equal":
                _, i1, _, j1, _ = out.pop()
                out.append(("equal", i1, x + n, j1, y + n))
            else:
                out.append(("equal", x, x + n, y, y + n))
        i, j = x + n, y + n
    return out


def _char_edits(base: int, a: str, b: str) -> Iterable[Edit]:
    """Character edits turning the block of lines `a` (at `base`) into `b`: line by line when
    both have as many lines (lines edited in place: a character diff of the whole block cost
    real merges up to half a second, difflib matching common characters in quadratic time)."""
    if not a or not b or len(a) + len(b) > CHAR_DIFF_LIMIT:
        yield Edit(base, len(a), b)
        return
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    if len(a_lines) == len(b_lines) > 1:
        for x, y in zip(a_lines, b_lines, strict=True):
            if x != y:
                yield from _char_edits(base, x, y)
            base += len(x)
        return
    matcher = SequenceMatcher(None, a, b, autojunk=False)
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
