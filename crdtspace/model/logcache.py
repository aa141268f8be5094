"""Nodes' edit logs decoded once: each entry is decoded when it arrives, never again.

A node's log is an Array of entries stored newest first (see `Document.append_log`), and it
only grows. Decoding a whole log at every merge made a merge cost grow with the log (32 ms at
1,500 entries). A `LogCache` keeps each node's decoded entries oldest first, with their heads,
the entry that created the node and the texts after some entries; when the array is longer
than the items held, it reads items from the front of the array, in place (through pycrdt's
core, one item at a time, never the whole array), until it has met every new one, and appends
them to what it holds (a merge costs the entries it brought, not a copy of the log). New
entries are always there: a replica prepends, so an entry lands before every entry its writer
had seen, and only entries concurrent with it can sit before it (how many does not depend on
the log's length).

Anything unexpected (an item that is no entry, an id twice, the items around the new ones not
where they were: a peer that deleted or replaced entries) decodes the whole log again, exactly
as a fresh replica would, so every replica holding the same log sees the same entries.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array

from crdtspace.model.logentry import LogEntry

Texts = dict[str, str]

_SERIALS = itertools.count(1)

AFTER_KEPT = 32
"""Per node, the texts after this many recently asked-for entries are kept (see
`History.after`): a new entry builds on one of them, so its texts cost its own edits, not the
node's past."""


@dataclass
class NodeEntries:
    """One node's log as last read: its items oldest first (the array's order reversed)."""

    items: list[LogEntry | None] = field(default_factory=list)
    """Each item decoded, oldest first (None: an item that is not the shape of an entry, left
    out); `items[-1]` is the array's first item, the newest."""
    by_id: dict[str, LogEntry] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)
    """Ids some entry names as a parent."""
    heads: tuple[str, ...] = ()
    creation: LogEntry | None = None
    """The first entry, oldest first, that created the node with no parent."""
    after: dict[str, Texts] = field(default_factory=dict)
    """Texts after some entries (a pure function of the log: kept across merges)."""
    arrivals: list[LogEntry] = field(default_factory=list)
    """The entries in the order they were taken in (for readers that go over new ones)."""
    serial: int = 0
    """Which decode of the whole log this is (each gets a new one: see `version`)."""

    @property
    def version(self) -> tuple[int, int]:
        """Changes whenever the entries do: entries are only ever added to a decode, and
        any other change of the log is a new decode (for caches of what is read from it)."""
        return self.serial, len(self.arrivals)

    def oldest_first(self) -> list[LogEntry]:
        return [e for e in self.items if e is not None]

    def remember(self, eid: str, texts: Texts) -> None:
        """Keep the texts after entry `eid` (the AFTER_KEPT most recent ones are kept)."""
        self.after.pop(eid, None)
        self.after[eid] = texts
        if len(self.after) > AFTER_KEPT:
            del self.after[next(iter(self.after))]


class LogCache:
    """The decoded logs of a document's nodes; `decoded` counts the entries decoded so far."""

    def __init__(self) -> None:
        self._nodes: dict[str, NodeEntries] = {}
        self.decoded = 0

    def get(self, nid: str, log: Array[Any], *, verify: bool = False) -> NodeEntries:
        """The node's entries, as `log` (its Array) holds them now. `verify`: when the log
        has no new items, check that its newest item is still the one held (a peer may have
        put another there); new items are read from the front, which checks that already."""
        held = self._nodes.get(nid)
        with log.doc.transaction() as txn:  # (one for every read below)
            items = _Items(log, txn)
            length = items.length
            if held is not None and len(held.items) == length:
                if not verify or not held.items or _verified(held, items):
                    return held
                held = None
            fresh = self._grown(held, items, length) if held is not None else None
            if fresh is None:
                fresh = self._whole(log)
        self._nodes[nid] = fresh
        return fresh

    def appended(self, nid: str, length: int, entry: LogEntry) -> None:
        """Our own entry was just prepended to the node's log (now `length` items long)."""
        held = self._nodes.get(nid)
        if held is None or len(held.items) != length - 1 or not _plain(held):
            self._nodes.pop(nid, None)
            return
        if entry.id in held.by_id or (held.creation and entry.op == "create" and not entry.parents):
            self._nodes.pop(nid, None)
            return
        held.items.append(entry)
        _add(held, [entry])

    def forget(self, nid: str) -> None:
        self._nodes.pop(nid, None)

    def nodes(self) -> list[str]:
        return list(self._nodes)

    def clear(self) -> None:
        self._nodes.clear()

    def _decode(self, value: Any) -> LogEntry | None:
        self.decoded += 1
        try:
            return LogEntry.from_value(value)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            # not the shape of an entry (a damaged or hostile peer's update; OverflowError:
            # an infinite number where an integer goes)
            return None

    def _whole(self, log: Array[Any]) -> NodeEntries:
        values = read_list(log)
        values.reverse()  # (oldest first)
        out = NodeEntries(items=[self._decode(value) for value in values], serial=next(_SERIALS))
        entries = out.oldest_first()
        # (an id twice, from a hostile peer: the newest item's entry, as a dict built oldest
        # first keeps)
        out.by_id = {e.id: e for e in entries}
        out.arrivals = entries
        out.referenced = {p for e in entries for p in e.parents}
        out.heads = tuple(sorted(e.id for e in entries if e.id not in out.referenced))
        out.creation = next(
            (e for e in out.by_id.values() if e.op == "create" and not e.parents), None
        )
        return out

    def _grown(self, held: NodeEntries, log: _Items, length: int) -> NodeEntries | None:
        """`held` with the items added since, read from the front; None if the log changed in
        any other way (then it is decoded whole)."""
        count = length - len(held.items)
        if count <= 0 or not _plain(held):
            return None
        items = held.items
        known = len(items)
        scanned: list[LogEntry] = []  # the items read, in array order (newest first)
        new: list[LogEntry] = []
        ids: set[str] = set()
        while len(new) < count:
            if len(scanned) >= length:
                return None
            value = log[len(scanned)]
            eid = value.get("id") if type(value) is dict else None
            if type(eid) is not str or eid in ids:
                return None
            ids.add(eid)
            entry = held.by_id.get(eid)
            if entry is None:
                entry = self._decode(value)
                if entry is None or entry.id != eid:
                    return None
                new.append(entry)
            scanned.append(entry)
        met = len(scanned) - count  # known items read: they must be the held ones' newest
        if met:  # (met <= known: each held id is met once)
            fresh = {e.id for e in new}
            newest = items[known - met :]
            newest.reverse()
            if [e for e in scanned if e.id not in fresh] != newest:
                return None
        if known > met:
            value = log[len(scanned)]  # the newest held item not met: still where it was
            below = items[known - met - 1]
            if below is not None and (type(value) is not dict or value.get("id") != below.id):
                return None
        if held.creation is not None and any(e.op == "create" and not e.parents for e in new):
            return None  # (two creations: which comes first is the full decode's call)
        if met:
            del items[known - met :]
        scanned.reverse()
        items.extend(scanned)
        new.reverse()
        _add(held, new)
        return held


class _Items:
    """A log Array's length and items, read inside one open transaction through pycrdt's core
    (each read through the public API opens a transaction of its own and wraps its value);
    through the public API if pycrdt changed."""

    def __init__(self, log: Array[Any], txn: Any) -> None:
        self._log = log
        self._core: Any = None
        try:
            self._txn = txn._txn
            self.length = int(log.integrated.len(self._txn))
            self._core = log.integrated
        except AttributeError:  # pragma: no cover  (pycrdt changed)
            self.length = len(log)

    def __getitem__(self, index: int) -> Any:
        if self._core is None:  # pragma: no cover
            return self._log[index]
        return self._core.get(self._txn, index)


def _verified(held: NodeEntries, items: _Items) -> bool:
    """Whether the newest item is still the one `held` has last."""
    first = held.items[-1]
    value = items[0] if items.length else None
    return first is not None and isinstance(value, dict) and value.get("id") == first.id


def _plain(held: NodeEntries) -> bool:
    """Whether every item is an entry, each id once (else merges decode the log whole)."""
    return len(held.by_id) == len(held.items)


def _add(held: NodeEntries, entries: list[LogEntry]) -> None:
    """Take in new entries, given oldest first (their items are already in `held.items`)."""
    held.arrivals.extend(entries)
    for entry in entries:
        held.by_id[entry.id] = entry
        held.referenced.update(entry.parents)
        if held.creation is None and entry.op == "create" and not entry.parents:
            held.creation = entry
    fresh = {e.id for e in entries}
    held.heads = tuple(sorted(i for i in {*held.heads, *fresh} if i not in held.referenced))


def read_list(array: Array[Any]) -> list[Any]:
    """An Array's items as a list, read in one call.

    Iterating a pycrdt Array costs one Rust call per item (about 4 µs); a body of 300 units is
    read at every re-key. The integrated array's to_json reads it in one call (20x faster). It
    is reached through pycrdt's private transaction handle, so any failure takes the slow path.
    """
    try:
        with array.doc.transaction() as txn:
            return json.loads(array.integrated.to_json(txn._txn))  # type: ignore[no-any-return]
    except (AttributeError, TypeError, ValueError, RecursionError):  # pragma: no cover
        return list(array)  # (pycrdt changed, or a peer nested lists too deep for json)
