"""File offsets ↔ node texts: where a character of a rendered file lives, and piecewise edits.

A file renders as a sequence of pieces (a leaf's text, a container's head and tail). The index
keeps their lengths and start offsets so an editor's splice finds its piece with a binary search
instead of rendering the file; it is rebuilt only when the tree's shape changes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pycrdt import Text

from crdtspace.document import Document
from crdtspace.errors import DocumentError
from crdtspace.textedit import byte_offset

Record = Callable[[str, str, int, str, str], None]
"""Told of each edit of a node text: (node id, part, char offset, old text, new text)."""


@dataclass
class Piece:
    """One editable text of a file, and which top-level slot of the file it belongs to."""

    nid: str
    part: str  # "text", "head" or "tail"
    text: Text
    slot: int  # 0 = root head, k = k-th top-level unit (1-based), n+1 = root tail
    content: str  # a local mirror of the text: reading a pycrdt Text costs ~50 µs

    @property
    def length(self) -> int:
        return len(self.content)


class FileIndex:
    """The pieces of one file in render order, with their character offsets."""

    def __init__(self, document: Document, path: str) -> None:
        self.path = path
        roots = document.roots(path)
        self.root = roots[0] if roots else ""
        self.structured = len(roots) == 1 and document.is_container(self.root)
        self.top: list[str] = document.children(self.root) if self.structured else []
        self.pieces: list[Piece] = []
        for root in roots:
            self._collect(document, root, None)
        if not self.pieces:
            raise DocumentError(f"The file {path!r} has no text in the workspace.")
        self._starts()

    def _collect(self, document: Document, nid: str, slot: int | None) -> None:
        node = document.node(nid)
        if "text" in node:
            self._add(nid, "text", node["text"], slot if slot is not None else 1)
            return
        top = slot is None and self.structured
        self._add(nid, "head", node["head"], 0 if top else slot or 0)
        for k, child in enumerate(document.children(nid), start=1):
            self._collect(document, child, k if top else slot)
        self._add(nid, "tail", node["tail"], len(self.top) + 1 if top else slot or 0)

    def _add(self, nid: str, part: str, text: Text, slot: int) -> None:
        self.pieces.append(Piece(nid, part, text, slot, str(text)))

    def text(self, first: int = 0, last: int | None = None) -> str:
        """The current text of top-level slots first..last (the whole file by default)."""
        return "".join(
            p.content for p in self.pieces if p.slot >= first and (last is None or p.slot <= last)
        )

    def _starts(self) -> None:
        self.starts: list[int] = []
        total = 0
        for piece in self.pieces:
            self.starts.append(total)
            total += piece.length
        self.length = total

    def locate(self, pos: int) -> int:
        """The piece an edit at `pos` goes to: the one holding that character (so text typed
        at a unit's first column belongs to that unit), or the last piece at the end."""
        if pos >= self.length:
            return len(self.pieces) - 1
        i = bisect.bisect_right(self.starts, pos) - 1
        while self.pieces[i].length == 0 or self.starts[i] + self.pieces[i].length <= pos:
            i += 1
        return i

    def slot_range(self, first: int, last: int) -> tuple[int, int]:
        """Character range of top-level slots first..last (inclusive)."""
        start = min(s for s, p in zip(self.starts, self.pieces, strict=True) if p.slot >= first)
        ends = [s + p.length for s, p in zip(self.starts, self.pieces, strict=True)]
        end = max(e for e, p in zip(ends, self.pieces, strict=True) if p.slot <= last)
        return start, end

    def edit(
        self,
        pos: int,
        delete: int,
        insert: str,
        touch: Callable[[str, str], None],
        record: Record | None = None,
    ) -> tuple[set[int], str]:
        """Apply one splice to the pieces; returns the slots touched and the deleted text."""
        if pos < 0 or delete < 0 or pos + delete > self.length:
            raise DocumentError(
                f"The edit at {pos}+{delete} falls outside {self.path!r} "
                f"({self.length} characters)."
            )
        slots: set[int] = set()
        removed: list[str] = []
        first = self.locate(pos)
        last = first
        for i, start, take in self._spans(first, pos, delete):
            last = i
            piece = self.pieces[i]
            gone = self._delete(piece, start, take)
            removed.append(gone)
            slots.add(piece.slot)
            touch(piece.nid, "edit")
            if record is not None:
                record(piece.nid, piece.part, start, gone, "")
        if insert:
            piece = self.pieces[first]
            offset = pos - self.starts[first]
            piece.text.insert(byte_offset(piece.content, offset), insert)
            piece.content = piece.content[:offset] + insert + piece.content[offset:]
            slots.add(piece.slot)
            touch(piece.nid, "edit")
            if record is not None:
                record(piece.nid, piece.part, offset, "", insert)
        self._shift(first, last, len(insert) - delete)
        return slots, "".join(removed)

    def _shift(self, first: int, last: int, delta: int) -> None:
        """Fix the start offsets after pieces first..last changed length by `delta` in all."""
        starts = self.starts
        for i in range(first + 1, last + 1):
            starts[i] = starts[i - 1] + self.pieces[i - 1].length
        if delta:
            starts[last + 1 :] = [s + delta for s in starts[last + 1 :]]
        self.length += delta

    def _spans(self, first: int, pos: int, delete: int) -> Iterator[tuple[int, int, int]]:
        i, remaining = first, delete
        while remaining > 0 and i < len(self.pieces):
            offset = max(0, pos - self.starts[i])
            take = min(self.pieces[i].length - offset, remaining)
            if take > 0:
                yield i, offset, take
                remaining -= take
            i += 1

    @staticmethod
    def _delete(piece: Piece, start: int, take: int) -> str:
        current = piece.content
        removed = current[start : start + take]
        begin = byte_offset(current, start)
        end = begin + (take if removed.isascii() else len(removed.encode("utf-8")))
        del piece.text[begin:end]
        piece.content = current[:start] + current[start + take :]
        return removed
