"""Editors' character edits: splices into node texts, and the re-keys of typed regions.

A `Splicer` belongs to one workspace. It keeps, per file, the splice index (`FileIndex`: where
a character of the rendered file lives), the run of text a burst typed that is not yet written
to its pycrdt Text (written before anything reads the document), the top-level units typed
into since their re-key (waiting, the least recently typed first), the files whose structure
was re-keyed piecewise (`stale`: a thorough flush re-segments them whole) and the units whose
text did not parse on its own (`broken`: retried after more typing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from crdtspace.model.document import Document
from crdtspace.model.languages import Profile, profile_for
from crdtspace.model.rekey import Rekeyer
from crdtspace.model.rekeyfile import rekey_children, rekey_slots
from crdtspace.model.textmap import LAZY, FileIndex, Record

DIRTY_SLOTS = 8
"""Typed-into top-level units left waiting for their re-key: typing that moves to another one
re-keys the one typed into least recently. An editor's multi-cursor edits and refactorings go
back and forth between a few units, which are then parsed once, not at every switch (on the
rustcode trace: 709 re-keys instead of 1,507)."""
MAX_DIRTY_SLOTS = 16
"""Top-level units one splice may leave dirty (a paste or a deletion across units) before all
of them are re-keyed at once."""
BIG_PIECE = 4096
"""A typed line in an unkeyed text bigger than this (a paste, a file typed from empty) is
re-keyed at once: small node texts are what make splices fast."""
RETRY_AFTER = 64
"""Splices into a unit that did not parse on its own before it is parsed again when the typing
moves on, doubled after each failure in a row up to 8x (a failed parse costs ~1 ms of error
recovery, and code being typed is broken much of the time); a thorough flush (before any
structure read) retries it whenever it changed."""
WHOLE_PARSE_BUDGET = (0.025, 0.25e-6)
"""Seconds, plus seconds per character, that the whole-file fallback parse may take: valid code
parses at about 0.07 µs a byte (typing.py, 120 KB, 8 ms), a file riddled with typing errors
ten to forty times slower (240 KB in 0.7 s)."""
REGION_PARSE_BUDGET = (0.00005, 0.15e-6)
"""The same for the parse of a typed-into region when it is re-keyed: valid code parses at
0.05-0.07 µs a byte (median over the units of typing.py, argparse.py and the rustcode trace;
0.08 at the 90th percentile, small units above that are covered by the 50 µs), while code
being typed is broken much of the time and tree-sitter's error recovery then takes 0.3 µs a
byte typically and up to a thousand times longer (a 390 ms parse of a 10 KB class). A region
that runs out of time counts as one that did not parse: it is tried again later, and a
thorough flush falls back to the whole file, whose budget is generous."""


class Splicer:
    """The typing state of one workspace (see the module docstring)."""

    def __init__(
        self,
        document: Callable[[], Document],
        rekeyer: Callable[[], Rekeyer],
        touch: Callable[[str, str], None],
        record: Record,
        open_txn: Callable[[], Any],
    ) -> None:
        self._document = document  # the workspace's, which writes held text first
        self._open_txn = open_txn  # a lazy transaction's real one (`ReplicaCore._open_txn`)
        self._rekeyer = rekeyer
        self._touch = touch
        self._record = record
        self.indexes: dict[str, FileIndex] = {}
        self.holding: dict[str, FileIndex] = {}
        """Indexes holding typed text not yet written to a Text (`FileIndex.write_held`)."""
        self.dirty: dict[str, dict[str, None]] = {}
        """Per file, the top-level units typed into since their re-key (by `_slot_key`), the
        least recently typed first."""
        self.stale: set[str] = set()
        self.subs: dict[str, dict[str, set[int]]] = {}
        """Per file and dirty top-level unit, the parts typed into (`Piece.sub`)."""
        self.broken: dict[str, dict[str, list[int]]] = {}
        """Per file, top-level units (by `_slot_key`) whose text did not parse on its own when
        last re-keyed: [splices into them since, failures in a row]."""

    def write_held(self) -> None:
        """Write the text typed in this transaction that splices still hold back."""
        holding, self.holding = self.holding, {}
        for index in holding.values():
            index.write_held()

    def retarget(self, txn: Any) -> None:
        """Runs held back from a transaction begun lazily (or from earlier ones) are written
        in `txn` (pycrdt's handle), now open."""
        for index in self.holding.values():
            index.retarget(txn)

    def pending(self, *, thorough: bool) -> list[str]:
        """The files a flush has work in: typed into since their re-key (`thorough`: also the
        ones re-keyed piecewise)."""
        return sorted(set(self.dirty) | (self.stale if thorough else set()))

    def retyped(self, path: str, nid: str) -> None:
        """A leaf's text was set whole (not typed): re-key the units it renders in."""
        self.indexes.pop(path, None)
        if _profile(path) is None:
            return  # (a plain-text file has no units to re-key; its index is made at next use)
        index = self.index(path)
        waiting = self.dirty.setdefault(path, {})
        waiting.update((_slot_key(index, p.slot), None) for p in index.pieces if p.nid == nid)
        self.flush_path(path, thorough=True)

    def splice(self, path: str, offset: int, delete: int, insert: str, txn: Any) -> None:
        """One splice, inside the workspace's transaction `txn` (pycrdt's handle): see
        `Replica.splice`."""
        index = self.indexes.get(path) or self.index(path)
        dirty = self.dirty.get(path)
        if (
            dirty is not None
            and len(dirty) >= DIRTY_SLOTS
            and offset <= index.length
            and _slot_key(index, index.pieces[index.locate(offset)].slot) not in dirty
        ):
            self.flush_path(path, thorough=False, only=next(iter(dirty)))
            index = self.index(path)
            dirty = self.dirty.get(path)
            if txn is LAZY:  # (the re-key opened it)
                txn = self._open_txn()
        edited = index.edit(offset, delete, insert, self._touch, self._record, txn)
        if edited is None:  # a lazy transaction's splice that needs a real one
            edited = index.edit(offset, delete, insert, self._touch, self._record, self._open_txn())
            assert edited is not None
        slots, removed = edited
        if index.holding:
            self.holding[path] = index
        if not index.structured:
            return
        if dirty is None:
            dirty = self.dirty[path] = {}
        subs = self.subs.get(path)
        if subs is None:
            subs = self.subs[path] = {}
        broken = self.broken.get(path)
        for slot, sub in slots:
            key = _slot_key(index, slot)
            if broken and key in broken:
                broken[key][0] += 1
            if key in dirty:
                del dirty[key]  # (to the end: the most recently typed)
            dirty[key] = None
            subs.setdefault(key, set()).add(sub)
        if len(dirty) > MAX_DIRTY_SLOTS or (
            ("\n" in insert or "\n" in removed)
            and index.pieces[index.locate(offset)].length > BIG_PIECE
        ):
            self.flush_path(path, thorough=False)

    def flush_path(self, path: str, *, thorough: bool, only: str | None = None) -> None:
        """Re-key the typed-into units of a file (`only` that one of them, if given)."""
        waiting = self.dirty.pop(path, None) or {}
        typed = self.subs.pop(path, None) or {}
        if only is not None:  # the others keep waiting
            keys = {only} & waiting.keys()
            del waiting[only]
            self.dirty[path] = waiting
            self.subs[path] = typed
        else:
            keys = set(waiting)
        stale = path in self.stale
        if not keys and not (thorough and stale):
            return
        profile = _profile(path)
        if profile is None or (path not in self.indexes and path not in self._document().files):
            self.stale.discard(path)
            return
        index = self.index(path)
        if not index.structured:
            self.stale.discard(path)
            return
        slots: set[int] = set()
        subs: dict[int, set[int]] = {}
        for key in keys:
            slot = _slot_number(index, key)
            if slot is not None:
                slots.add(slot)
                if key in typed:
                    subs[slot] = typed.pop(key)
        # A region re-keyed on its own can disagree with the whole file's cut at its edges
        # (a comment typed between units, a unit emptied by typing); such files stay in
        # `_stale` and the next thorough flush re-segments them whole, canonically.
        broken = self.broken.setdefault(path, {})
        whole_failed = False
        if thorough and stale:
            if self._rekey_region(index, 0, len(index.top) + 1, profile, whole=True) is not None:
                self.stale.discard(path)
                broken.clear()
                return
            whole_failed = True
            slots |= {s for s in range(len(index.top) + 2) if _edited(broken, _slot_key(index, s))}
        failed = False
        # Each run of adjacent dirty slots on its own, the last first: a re-key renumbers only
        # the slots after the ones it covers.
        for first, last in reversed(_runs(slots)):
            run = [_slot_key(index, s) for s in range(first, last + 1)]
            if not thorough and not any(_due(broken, k) for k in run):
                failed = True  # did not parse, and little was typed into it since
                continue
            if (
                first == last
                and not thorough
                and self._rekey_children(index, first, subs.get(first), profile)
            ):
                continue
            covered = self._rekey_region(index, first, last, profile)
            if covered is not None:
                for key in run:
                    broken.pop(key, None)
                if only is not None:  # units the re-key took in wait no more
                    for slot in range(covered[0], covered[1] + 1):
                        waiting.pop(_slot_key(index, slot), None)
            else:
                failed = True
                for key in run:
                    broken[key] = [0, broken.get(key, [0, 0])[1] + 1]
        if failed and thorough and not whole_failed:
            if self._rekey_region(index, 0, len(index.top) + 1, profile, whole=True) is not None:
                self.stale.discard(path)
                broken.clear()
                return
            whole_failed = True
        if thorough and not failed and not whole_failed:
            self.stale.discard(path)
        else:
            # Does not parse yet, or was re-keyed piecewise: the text is right, and the
            # structure is made canonical by the next thorough flush.
            self.stale.add(path)

    def _rekey_region(
        self, index: FileIndex, first: int, last: int, profile: Profile, *, whole: bool = False
    ) -> tuple[int, int] | None:
        """Re-key top-level slots first..last from their current text; returns the slots it
        re-keyed (widened as the cut needed, numbered as they are now), or None if the text
        does not parse on its own (nothing changed then). The `whole` file's pass, a fallback
        after its regions failed alone, gives up on a parse that runs far past valid code's
        speed (see WHOLE_PARSE_BUDGET): the file stays stale and is tried again at the next
        one."""
        region = index.text(first, last)
        budget = WHOLE_PARSE_BUDGET if whole else REGION_PARSE_BUDGET
        result = rekey_slots(
            self._document(), index, first, last, region, profile, self._rekeyer, budget=budget
        )
        if result is None:
            return None
        before = len(index.top)
        if result.reshaped:
            index.replace_slots(self._document(), result.first, result.last)
        return result.first, result.last + len(index.top) - before

    def _rekey_children(
        self, index: FileIndex, slot: int, subs: set[int] | None, profile: Profile
    ) -> bool:
        """Re-key only the typed-into children of the container at top-level slot `slot`,
        each run of adjacent ones on its own; False if that cannot be done (a leaf unit, its
        head or tail typed into, a run that does not parse in the container's context)."""
        pieces = index.slot_pieces(slot, slot)
        if not subs or pieces[0].part != "head" or not 0 < min(subs) <= max(subs) < pieces[-1].sub:
            return False
        for first, last in reversed(_runs(subs)):
            result = rekey_children(
                self._document(),
                index,
                slot,
                first,
                last,
                profile,
                self._rekeyer,
                budget=REGION_PARSE_BUDGET,
            )
            if result is None:
                return False
            if result.reshaped:
                index.replace_slots(self._document(), slot, slot)
        return True

    def index(self, path: str) -> FileIndex:
        """The splice index of a file, made at first use and kept across re-keys."""
        index = self.indexes.get(path)
        if index is None:
            index = self.indexes[path] = FileIndex(self._document(), path)
        return index

    def structure_changed(self, path: str) -> None:
        """Forget what is known of a file whose nodes were changed other than by typing."""
        index = self.indexes.pop(path, None)
        if index is not None and index.holding:  # (written already, whenever anything reads)
            self.holding.pop(path, None)
            index.write_held()
        self.dirty.pop(path, None)
        self.subs.pop(path, None)
        self.broken.pop(path, None)
        self.stale.discard(path)


def _runs(slots: set[int]) -> list[tuple[int, int]]:
    """Runs of consecutive numbers, as (first, last), in ascending order."""
    runs: list[tuple[int, int]] = []
    for slot in sorted(slots):
        if runs and runs[-1][1] == slot - 1:
            runs[-1] = (runs[-1][0], slot)
        else:
            runs.append((slot, slot))
    return runs


def _slot_key(index: FileIndex, slot: int) -> str:
    """A top-level slot's identity across re-keys: its unit's id, or the root's head or tail."""
    if slot == 0:
        return "^"
    if slot > len(index.top):
        return "$"
    return index.top[slot - 1]


def _slot_number(index: FileIndex, key: str) -> int | None:
    """The top-level slot a `_slot_key` names now; None if its unit is gone."""
    if key == "^":
        return 0
    if key == "$":
        return len(index.top) + 1
    try:
        return index.top.index(key) + 1
    except ValueError:
        return None


def _due(broken: dict[str, list[int]], key: str) -> bool:
    """Whether a unit may be parsed again: it parsed last time, or enough was typed into it."""
    entry = broken.get(key)
    return entry is None or entry[0] >= RETRY_AFTER << min(entry[1] - 1, 3)


def _edited(broken: dict[str, list[int]], key: str) -> bool:
    """Whether a unit that did not parse was typed into since."""
    entry = broken.get(key)
    return entry is not None and entry[0] > 0


@functools.lru_cache(maxsize=4096)
def _profile(path: str) -> Profile | None:
    """`profile_for`, remembered: a flush asks it for the same few paths again and again."""
    return profile_for(path)
