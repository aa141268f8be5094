"""File offsets ↔ node texts: where a character of a rendered file lives, and piecewise edits.

A file renders as a sequence of pieces (a leaf's text, a container's head and tail). The index
keeps their lengths and start offsets so an editor's splice finds its piece with a binary search
instead of rendering the file. A re-key that reshapes some top-level units re-reads only
their pieces (`replace_slots`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pycrdt import Text

from crdtspace.errors import DocumentError
from crdtspace.model.document import Document
from crdtspace.model.textedit import byte_offset, delete_text, insert_text

LAZY: Any = object()
"""The pycrdt handle given to splices in a transaction begun lazily (see
`crdtspace.model.core.ReplicaCore._open_txn`): a splice may start or extend a held run of typed
text, and `FileIndex.edit` answers None to anything that needs the real transaction."""

Record = Callable[[str, str, int, str, str], None]
"""Told of each edit of a node text: (node id, part, char offset, old text, new text)."""


class Piece:
    """One editable text of a file, and which top-level slot of the file it belongs to.

    `content` is a local mirror of the text (reading a pycrdt Text costs ~50 µs). While a run
    of typed text is held back in the piece (`_Held`), keystrokes change the run alone and
    the mirror takes the run in when it is read: copying a 100 KB file's mirror at every
    keystroke cost more than the keystroke."""

    __slots__ = ("_fold", "_mirror", "_run", "nid", "part", "slot", "sub", "text")

    def __init__(
        self, nid: str, part: str, text: Text, slot: int, content: str, sub: int = 0
    ) -> None:
        self.nid = nid
        self.part = part  # "text", "head" or "tail"
        self.text = text
        self.slot = slot  # 0 = root head, k = k-th top-level unit (1-based), n+1 = root tail
        self.sub = sub  # in a top-level container: 0 = its head, j = its j-th child, m+1 = its tail
        self._mirror = content
        self._run: _Held | None = None
        # The run as `_mirror` holds it: its start, how many characters of the Text it
        # replaced, its text. The run only grows outwards, so `_mirror` before the run's
        # start is the Text's, and after it the Text's shifted (`_after`).
        self._fold: tuple[int, int, str] = (0, 0, "")

    @property
    def content(self) -> str:
        run = self._run
        if run is not None:
            start, gone, text = self._fold
            if run.text is not text or run.start != start or len(run.gone) != gone:
                self._mirror = self._mirror[: run.start] + run.text + self._mirror[self._after() :]
                self._fold = (run.start, len(run.gone), run.text)
        return self._mirror

    @content.setter
    def content(self, value: str) -> None:
        self._mirror = value
        run = self._run
        if run is not None:
            self._fold = (run.start, len(run.gone), run.text)

    def _after(self) -> int:
        """Where, in `_mirror`, the text after the held run goes on."""
        run = self._run
        assert run is not None
        _, gone, text = self._fold
        return run.start + len(run.gone) + len(text) - gone

    def around(self, start: int, end: int) -> str:
        """The current text of characters start..end just before or just after the held run
        (the run's neighbours it absorbs), without folding the run into the mirror."""
        run = self._run
        if run is None:
            return self.content[start:end]
        if end <= run.start:
            return self._mirror[start:end]
        at = self._after() + start - run.end
        return self._mirror[at : at + end - start]

    @property
    def length(self) -> int:
        run = self._run
        if run is None:
            return len(self._mirror)
        _, gone, text = self._fold
        return len(self._mirror) + gone - len(text) - len(run.gone) + len(run.text)

    def hold(self, run: _Held | None) -> None:
        """Start holding `run` (one that has changed nothing yet), or stop (None)."""
        if run is None and self._run is not None:
            self.content  # noqa: B018 - folds the run in
        self._run = run
        if run is not None:
            self._fold = (run.start, 0, "")


@dataclass
class _Held:
    """Typed text not yet written to its piece's pycrdt Text: characters `start` on of the
    Text, `gone`, replaced by the run `text`. Keystrokes of a typing run land next to each
    other, and one insert of the run's text into a Text costs what one keystroke did (a Text
    insert is 1-5 µs, whatever its length); backspaces inside the run just shorten it, and
    deleting next to it (backspaces before it, deletes after it) makes `gone` longer: one
    deletion, not one per character (a Text deletion is 30 µs on a large document). The
    update that writes the run carries its net change, as if each keystroke had been written
    (yrs merges a client's adjacent inserts into one block anyway) minus the tombstones of
    characters typed and erased in it. `txn` is the transaction it will be written in."""

    piece: Piece
    start: int
    text: str
    txn: Any
    gone: str = ""

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _piece(nid: str, part: str, text: Text, slot: int, sub: int = 0) -> Piece:
    return Piece(nid, part, text, slot, str(text), sub)


class FileIndex:
    """The pieces of one file in render order, with their character offsets."""

    def __init__(self, document: Document, path: str) -> None:
        self.path = path
        roots = document.roots(path)
        self.root = roots[0] if roots else ""
        self.structured = len(roots) == 1 and document.is_container(self.root)
        self.top: list[str] = document.children(self.root) if self.structured else []
        self.pieces: list[Piece] = []
        self._identity: dict[str, tuple[str, str]] = {}
        self._held: _Held | None = None
        seen: set[str] = set()
        for root in roots:
            self._collect(document, root, None, self.pieces, seen=seen)
        if not self.pieces:
            raise DocumentError(f"The file {path!r} has no text in the workspace.")
        self._starts()

    def _collect(
        self,
        document: Document,
        nid: str,
        slot: int | None,
        out: list[Piece],
        sub: int | None = None,
        *,
        seen: set[str] | None = None,
    ) -> None:
        """Append the pieces of a node's tree (render order, without recursion: a peer may
        nest thousands of containers; a node reached twice, in a cycle, once)."""
        seen = set() if seen is None else seen
        stack: list[Any] = [(nid, slot, sub)]  # (id, slot, sub) to open, and tail Pieces
        while stack:
            item = stack.pop()
            if isinstance(item, Piece):
                out.append(item)
                continue
            nid, slot, sub = item
            if nid in seen:
                continue
            seen.add(nid)
            node = document.node(nid)
            if "text" in node:
                text = node["text"]
                out.append(_piece(nid, "text", text, slot if slot is not None else 1, sub or 0))
                continue
            children = document.children(nid)
            frames: list[tuple[str, int | None, int | None]]
            if slot is None and self.structured:  # the root: its children are the slots
                out.append(_piece(nid, "head", node["head"], 0))
                tail = _piece(nid, "tail", node["tail"], len(self.top) + 1)
                frames = [(child, k, None) for k, child in enumerate(children, start=1)]
            elif slot is not None and sub is None and self.structured:
                # a top-level container: its children are subs
                out.append(_piece(nid, "head", node["head"], slot, 0))
                tail = _piece(nid, "tail", node["tail"], slot, len(children) + 1)
                frames = [(child, slot, j) for j, child in enumerate(children, start=1)]
            else:
                out.append(_piece(nid, "head", node["head"], slot or 0, sub or 0))
                tail = _piece(nid, "tail", node["tail"], slot or 0, sub or 0)
                frames = [(child, slot, sub) for child in children]
            stack.append(tail)
            frames.reverse()
            stack.extend(frames)

    def text(self, first: int = 0, last: int | None = None) -> str:
        """The current text of top-level slots first..last (the whole file by default)."""
        if first <= 0 and last is None:
            return "".join(p.content for p in self.pieces)
        return "".join(p.content for p in self.slot_pieces(first, last))

    def slot_pieces(self, first: int, last: int | None = None) -> list[Piece]:
        """The pieces of top-level slots first..last, in render order."""
        if not self.structured:  # slots are only ordered in a structured file
            return [p for p in self.pieces if p.slot >= first and (last is None or p.slot <= last)]
        i, j = self._piece_range(first, last)
        return self.pieces[i:j]

    def _piece_range(self, first: int, last: int | None) -> tuple[int, int]:
        # Pieces are in render order, so their slots never decrease: two binary searches.
        pieces = self.pieces
        lo, hi = 0, len(pieces)
        while lo < hi:
            mid = (lo + hi) // 2
            if pieces[mid].slot < first:
                lo = mid + 1
            else:
                hi = mid
        if last is None:
            return lo, len(pieces)
        start, hi = lo, len(pieces)
        while lo < hi:
            mid = (lo + hi) // 2
            if pieces[mid].slot <= last:
                lo = mid + 1
            else:
                hi = mid
        return start, lo

    def identity(self, document: Document, nid: str) -> tuple[str, str]:
        """A node's (kind, name), read from the document once per index (map reads are slow)."""
        known = self._identity.get(nid)
        if known is None:
            node = document.node(nid)
            known = self._identity[nid] = (str(node["kind"]), str(node["name"]))
        return known

    def renamed(self, nid: str, kind: str, name: str) -> None:
        """Tell the index that a node's kind or name was just changed to these."""
        self._identity[nid] = (kind, name)

    def replace_slots(self, document: Document, first: int, last: int) -> None:
        """Read top-level slots first..last again after a re-key rebuilt them; the pieces of the
        other slots (untouched by the re-key) are kept, renumbered."""
        if self._held is not None:  # the workspace writes it before any re-key
            raise DocumentError(f"Typed text of {self.path!r} was not written before a re-key.")
        old_count = len(self.top)
        self.top = document.children(self.root)
        delta = len(self.top) - old_count
        i, j = self._piece_range(first, last)
        for piece in self.pieces[i:j]:
            self._identity.pop(piece.nid, None)
        fresh: list[Piece] = []
        seen: set[str] = set()
        root = document.node(self.root)
        for slot in range(first, last + delta + 1):
            if slot == 0:
                fresh.append(_piece(self.root, "head", root["head"], 0))
            elif slot == len(self.top) + 1:
                fresh.append(_piece(self.root, "tail", root["tail"], slot))
            else:
                self._collect(document, self.top[slot - 1], slot, fresh, seen=seen)
        if delta:
            for piece in self.pieces[j:]:
                piece.slot += delta
        self.pieces[i:j] = fresh
        self._starts()  # (which also settles any shift still owed)

    def _starts(self) -> None:
        # Start offsets of the pieces. A keystroke shifts every start after its piece; rather
        # than rewriting them all at each one, the shift waits (`_lag_delta`, owed to the starts
        # after piece `_lag`) until an edit lands in another piece.
        self._raw: list[int] = []
        total = 0
        for piece in self.pieces:
            self._raw.append(total)
            total += piece.length
        self.length = total
        self._lag = -1
        self._lag_delta = 0
        self._located = (-1, 0)  # the last position located and its piece, until an edit

    @property
    def starts(self) -> list[int]:
        """The character offset at which each piece starts."""
        self._settle()
        return self._raw

    def _settle(self) -> None:
        if self._lag_delta:
            delta, after = self._lag_delta, self._lag + 1
            self._raw[after:] = [s + delta for s in self._raw[after:]]
        self._lag, self._lag_delta = -1, 0

    def _start(self, i: int) -> int:
        return self._raw[i] + (self._lag_delta if i > self._lag else 0)

    def locate(self, pos: int) -> int:
        """The piece an edit at `pos` goes to: the one holding that character (so text typed
        at a unit's first column belongs to that unit), or the last piece at the end."""
        if pos == self._located[0]:  # a splice locates its offset twice
            return self._located[1]
        pieces = self.pieces
        if pos >= self.length:
            return len(pieces) - 1
        raw, lag, delta = self._raw, self._lag, self._lag_delta
        if not delta:
            i = bisect.bisect_right(raw, pos) - 1
        elif pos >= raw[lag] + pieces[lag].length:  # after the lagging piece
            i = bisect.bisect_right(raw, pos - delta, lag + 1) - 1
        else:
            i = bisect.bisect_right(raw, pos, 0, lag + 1) - 1
        while not pieces[i].length or self._start(i) + pieces[i].length <= pos:
            i += 1
        self._located = (pos, i)
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
        txn: Any = None,
    ) -> tuple[set[tuple[int, int]], str] | None:
        """Apply one splice to the pieces; returns the (slot, sub) places touched (see `Piece`)
        and the deleted text. In a transaction begun lazily (`txn` is LAZY), None, having
        changed nothing, when the splice needs the real transaction."""
        if pos < 0 or delete < 0 or pos + delete > self.length:
            raise DocumentError(
                f"The edit at {pos}+{delete} falls outside {self.path!r} "
                f"({self.length} characters)."
            )
        first = self.locate(pos)
        held = self._held
        if held is not None or txn is not None:
            piece = self.pieces[first]
            offset = pos - self._start(first)
            inside = offset + delete <= piece.length
            if held is not None:
                if (
                    held.piece is piece
                    and inside
                    and offset <= held.end
                    and held.start <= offset + delete
                ):
                    return self._edit_held(held, first, offset, delete, insert, touch, record)
                if held.txn is LAZY:
                    return None
                self.write_held()
            if txn is not None and inside and (insert or delete):  # a new run starts here
                held = self._held = _Held(piece, offset, "", txn)
                piece.hold(held)
                return self._edit_held(held, first, offset, delete, insert, touch, record)
        if txn is LAZY:
            return None
        slots: set[tuple[int, int]] = set()
        removed: list[str] = []
        last = first
        for i, start, take in self._spans(first, pos, delete):
            last = i
            piece = self.pieces[i]
            gone = self._delete(piece, start, take, txn)
            removed.append(gone)
            slots.add((piece.slot, piece.sub))
            touch(piece.nid, "edit")
            if record is not None:
                record(piece.nid, piece.part, start, gone, "")
        if insert:
            piece = self.pieces[first]
            offset = pos - self._start(first)
            insert_text(piece.text, byte_offset(piece.content, offset), insert, txn)
            piece.content = piece.content[:offset] + insert + piece.content[offset:]
            slots.add((piece.slot, piece.sub))
            touch(piece.nid, "edit")
            if record is not None:
                record(piece.nid, piece.part, offset, "", insert)
        self._shift(first, last, len(insert) - delete)
        return slots, "".join(removed)

    def _edit_held(
        self,
        held: _Held,
        i: int,
        offset: int,
        delete: int,
        insert: str,
        touch: Callable[[str, str], None],
        record: Record | None,
    ) -> tuple[set[tuple[int, int]], str]:
        """A splice inside the held run of piece `i` or next to it (see `_Held`): the run
        changes (and the mirror with it when next read), the pycrdt Text waits."""
        piece = held.piece
        start, end, run = held.start, held.end, held.text
        stop = offset + delete
        before = piece.around(offset, start) if offset < start else ""
        after = piece.around(end, stop) if stop > end else ""
        k1, k2 = max(offset, start) - start, min(stop, end) - start
        gone = before + run[k1:k2] + after
        held.gone = before + held.gone + after
        held.text = run[:k1] + insert + run[k2:]
        held.start = min(offset, start)
        touch(piece.nid, "edit")
        if record is not None:
            if delete:
                record(piece.nid, piece.part, offset, gone, "")
            if insert:
                record(piece.nid, piece.part, offset, "", insert)
        self._shift(i, i, len(insert) - delete)
        return {(piece.slot, piece.sub)}, gone

    def retarget(self, txn: Any) -> None:
        """The held run is written in `txn` (a transaction now open), not the one it was
        typed in."""
        if self._held is not None:
            self._held.txn = txn

    @property
    def holding(self) -> bool:
        """Whether typed text waits to be written to a pycrdt Text (`write_held`)."""
        return self._held is not None

    def write_held(self) -> None:
        """Write the held run of typed text to its pycrdt Text, in the transaction it was
        typed in. The workspace does this before anything reads or changes the document and
        before the transaction ends, so nobody ever sees a Text without it."""
        held, self._held = self._held, None
        if held is not None:
            piece = held.piece
            piece.hold(None)
            at = byte_offset(piece.content, held.start)  # (the text before the run)
            if held.gone:
                gone = held.gone
                size = len(gone) if gone.isascii() else len(gone.encode("utf-8"))
                delete_text(piece.text, at, at + size, held.txn)
            if held.text:
                insert_text(piece.text, at, held.text, held.txn)

    def _shift(self, first: int, last: int, delta: int) -> None:
        """Fix the start offsets after pieces first..last changed length by `delta` in all."""
        if self._lag != last:
            self._settle()
            self._lag = last
        starts = self._raw
        for i in range(first + 1, last + 1):
            starts[i] = starts[i - 1] + self.pieces[i - 1].length
        self._lag_delta += delta
        self.length += delta
        self._located = (-1, 0)

    def _spans(self, first: int, pos: int, delete: int) -> Iterator[tuple[int, int, int]]:
        i, remaining = first, delete
        while remaining > 0 and i < len(self.pieces):
            offset = max(0, pos - self._start(i))
            take = min(self.pieces[i].length - offset, remaining)
            if take > 0:
                yield i, offset, take
                remaining -= take
            i += 1

    @staticmethod
    def _delete(piece: Piece, start: int, take: int, txn: Any = None) -> str:
        current = piece.content
        removed = current[start : start + take]
        begin = byte_offset(current, start)
        end = begin + (take if removed.isascii() else len(removed.encode("utf-8")))
        delete_text(piece.text, begin, end, txn)
        piece.content = current[:start] + current[start + take :]
        return removed
