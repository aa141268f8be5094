"""Where each node of a file renders: character spans, line ranges and qualified names."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from crdtspace.model.document import Document


@dataclass(frozen=True)
class Span:
    """One node as rendered: its character range, its head's end and its tail's start."""

    nid: str
    kind: str
    name: str
    qualname: str
    depth: int
    start: int
    end: int
    head_end: int  # == start for a leaf
    tail_start: int  # == end for a leaf
    container: bool


@dataclass
class FileLayout:
    """A rendered file with the span of every node in it (pre-order)."""

    path: str
    text: str
    spans: dict[str, Span] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    _lines: list[int] = field(default_factory=list)
    _units: list[tuple[int, int, str]] = field(default_factory=list)
    _unit_starts: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, document: Document, path: str) -> FileLayout:
        layout = cls(path, "")
        pieces: list[str] = []
        offset = 0
        seen: set[str] = set()
        for root in document.roots(path):
            offset = layout._walk(document, root, offset, pieces, seen)
        layout.text = "".join(pieces)
        layout._lines = [i for i, ch in enumerate(layout.text) if ch == "\n"]
        return layout

    def _walk(
        self, document: Document, root: str, offset: int, out: list[str], seen: set[str]
    ) -> int:
        """Lay out one root's tree from `offset` (pre-order, without recursion: a peer may
        nest thousands of containers); a node reached twice (a cycle) is laid out once."""
        # (id, depth, prefix) opens a node; (id, kind, name, qualname, depth, start,
        # head_end, tail) closes a container once its children are laid out.
        stack: list[tuple[Any, ...]] = [(root, 0, "")]
        while stack:
            item = stack.pop()
            if len(item) == 8:
                nid, kind, name, qualname, depth, start, head_end, tail = item
                tail_start = offset
                text = str(tail)
                out.append(text)
                offset += len(text)
                self.spans[nid] = Span(
                    nid, kind, name, qualname, depth, start, offset, head_end, tail_start, True
                )
                continue
            nid, depth, prefix = item
            if nid in seen:
                continue
            seen.add(nid)
            node = document.node(nid)
            kind, name = str(node["kind"]), str(node["name"])
            qualname = f"{prefix}.{name}" if prefix and name else name
            start = offset
            if "text" in node:
                text = str(node["text"])
                out.append(text)
                offset += len(text)
                end = offset
                self._add(Span(nid, kind, name, qualname, depth, start, end, start, end, False))
                continue
            head = str(node["head"])
            out.append(head)
            offset += len(head)
            self.order.append(nid)  # pre-order: the container before its children
            inner = qualname if depth else ""
            stack.append((nid, kind, name, inner, depth, start, offset, node["tail"]))
            children = document.children(nid)
            children.reverse()
            stack.extend((child, depth + 1, inner) for child in children)
        return offset

    def _add(self, span: Span) -> None:
        self.spans[span.nid] = span
        self.order.append(span.nid)

    def line(self, offset: int) -> int:
        """The 1-based line of a character offset."""
        return bisect.bisect_left(self._lines, offset) + 1

    def lines(self, nid: str) -> tuple[int, int]:
        """First and last line of a node's code (leading blank lines and comments skipped)."""
        span = self.spans[nid]
        text = self.text[span.start : span.end]
        stripped = len(text) - len(text.lstrip())
        first = self.line(span.start + stripped)
        last = self.line(span.start + len(text.rstrip()) - 1) if text.strip() else first
        return first, max(first, last)

    def unit_at(self, offset: int) -> str | None:
        """The innermost unit (not a file root) whose span holds `offset`.

        Units nest, so of the units starting at or before `offset`, the innermost holding it
        is the last one (in start order) that holds it: a binary search, then a short walk."""
        if not self._units:
            self._units = sorted((s.start, -s.depth, s.nid) for s in self.spans.values() if s.depth)
            self._unit_starts = [u[0] for u in self._units]
        i = bisect.bisect_right(self._unit_starts, offset) - 1
        while i >= 0:
            span = self.spans[self._units[i][2]]
            if span.start <= offset < span.end:
                return span.nid
            i -= 1
        return None

    def replaced(self, nid: str, texts: dict[str, str]) -> str:
        """The file's text with one node's own texts replaced (its children stay)."""
        span = self.spans[nid]
        if not span.container:
            return self.text[: span.start] + texts.get("text", "") + self.text[span.end :]
        return (
            self.text[: span.start]
            + texts.get("head", "")
            + self.text[span.head_end : span.tail_start]
            + texts.get("tail", "")
            + self.text[span.end :]
        )
