"""Squashing settled history: a node's old log entries folded into one, once nothing can need them.

A node's log keeps every entry with its text changes, so that an edit made concurrently with
any of them (by a replica that had not seen it, or from a version read before it) can be judged
against it. Once every version that may still be written from had seen an entry, and no other
replica can still write (all others finished), nothing can ever be concurrent with it again:
its text changes are never read, only the texts after the newest such entry are.

So, per node: take the newest settled entry `m` that every other entry of the node either led
to (its ancestors) or had seen (its descendants), with all its ancestors settled too. Its
ancestors are deleted from the log and `m` is replaced by an entry with the same id, no
parents, no edits, and the node's texts after `m` as its base: the texts after it, and so the
texts after every later entry, stay what they were (`crdtspace.model.history`), and so do the
conflicts. It keeps `m`'s writer, state vector and name, and counts the entries it stands for
by agent (``squashed``): the log still says who edited the node and what each later entry had
seen. A deleted node whose deletion is settled also has its texts emptied (nothing can restore
it). The deleted items then hold content that no kept version shows, which the compacted log
leaves out (`crdtspace.model.collect`).

Which versions "may still be written from" is the caller's to say (`Replica.squash_history`);
this module only plans and applies.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crdtspace.model.document import Document, read_list
from crdtspace.model.history import History, Texts
from crdtspace.model.logentry import LogEntry

__all__ = ["Squash", "plan", "settled"]


@dataclass(frozen=True)
class Squash:
    """One node's squash: `keep` replaced by `entry`, `drop` (its ancestors) deleted."""

    nid: str
    keep: str
    drop: frozenset[str]
    entry: dict[str, Any]
    deleted: bool
    """The node's deletion is settled: its texts are emptied too."""


def settled(entry: LogEntry, floors: Iterable[Mapping[int, int]]) -> bool:
    """Whether every state in `floors` had seen `entry` (it holds the entry's own items)."""
    client = entry.client
    clock = entry.clock(client)
    return all(floor.get(client, 0) > clock for floor in floors)


def plan(
    document: Document, nodes: Iterable[str], floors: Sequence[Mapping[int, int]]
) -> list[Squash]:
    """The squashes of `nodes` that `floors` (state vectors) allow."""
    history = History(document)
    out = []
    for nid in nodes:
        if not document.has_node(nid) or "log" not in document.node(nid):
            continue  # (no node to the readers: left as it is)
        squash = _node_plan(document, history, nid, floors)
        if squash is not None:
            out.append(squash)
    return out


def _node_plan(
    document: Document, history: History, nid: str, floors: Sequence[Mapping[int, int]]
) -> Squash | None:
    held = document.log_entries(nid)
    entries = held.by_id
    if len(entries) < 2 or len(entries) != len(held.items):
        return None  # nothing to fold, or a log with strays (left to its readers as it is)
    order = _topological(entries)
    if order is None:
        return None  # a parent this replica lacks, or a cycle: not settled here
    cut = _newest_cut(entries, order, floors)
    if cut is None:
        return None
    keep = entries[order[cut]]
    above = set(order[: cut + 1])  # (before a cut in this order: exactly its ancestors)
    texts = dict(history.after(nid, keep.id))
    counts: dict[str, int] = {}
    for eid in above:
        for agent, count in _counts(entries[eid]).items():
            counts[agent] = counts.get(agent, 0) + count
    deleted = keep.op == "delete" and document.path_of(nid) is None
    if deleted:  # (its texts are emptied: so is what the log says they were)
        texts = {part: (text if part == "name" else "") for part, text in texts.items()}
    return Squash(
        nid=nid,
        keep=keep.id,
        drop=frozenset(above - {keep.id}),
        entry=_squashed(keep, texts, counts),
        deleted=deleted,
    )


def _topological(entries: Mapping[str, LogEntry]) -> list[str] | None:
    """The entries' ids, every entry after its parents (ties by id, so every replica gets the
    same order); None if a parent is missing or the parents make a cycle."""
    waiting = {eid: len(e.parents) for eid, e in entries.items()}
    children: dict[str, list[str]] = {}
    for entry in entries.values():
        for parent in entry.parents:
            if parent not in entries:
                return None
            children.setdefault(parent, []).append(entry.id)
    ready = [eid for eid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        eid = heapq.heappop(ready)
        order.append(eid)
        for child in children.get(eid, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    return order if len(order) == len(entries) else None


def _newest_cut(
    entries: Mapping[str, LogEntry], order: list[str], floors: Sequence[Mapping[int, int]]
) -> int | None:
    """The last position in `order` whose entry every other entry either led to or had seen,
    with it and all before it settled, and at least one entry before it; None if there is
    none. (In a topological order, the entry at i is such a cut exactly when no parent link
    jumps over i, every entry before i has a child and every entry after i has a parent.)"""
    at = {eid: i for i, eid in enumerate(order)}
    n = len(order)
    reach = [0] * n  # the farthest child position of the entry at each position
    has_child = [False] * n
    for eid in order:
        for parent in entries[eid].parents:
            reach[at[parent]] = max(reach[at[parent]], at[eid])
            has_child[at[parent]] = True
    orphans_after = [0] * (n + 1)  # entries with no parent from each position on
    for i in range(n - 1, -1, -1):
        orphans_after[i] = orphans_after[i + 1] + (not entries[order[i]].parents)
    best = None
    farthest = 0  # the farthest child of the entries before i
    childless = False  # an entry before i has no child
    for i, eid in enumerate(order):
        if not settled(entries[eid], floors):
            break  # (everything before a cut is its ancestor: all must be settled)
        if i >= 1 and farthest <= i and not childless and orphans_after[i + 1] == 0:
            best = i
        farthest = max(farthest, reach[i])
        childless = childless or not has_child[i]
    return best


def _counts(entry: LogEntry) -> dict[str, int]:
    return dict(entry.squashed) if entry.squashed else {entry.agent: 1}


def _squashed(keep: LogEntry, texts: Texts, counts: dict[str, int]) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": keep.id,
        "agent": keep.agent,
        "parents": [],
        "op": keep.op if keep.op in ("delete", "move") else "edit",
        "sv": [list(pair) for pair in keep.state],
        "base": [[part, text] for part, text in sorted(texts.items())],
        "squashed": dict(sorted(counts.items())),
    }
    if keep.name:
        value["name"] = keep.name
    if keep.to:
        value["to"] = keep.to
    return value


def apply(document: Document, squashes: list[Squash]) -> None:
    """Carry out `squashes` (inside the caller's transaction)."""
    for squash in squashes:
        log = document.node(squash.nid)["log"]
        ids = [v.get("id") if isinstance(v, dict) else None for v in read_list(log)]
        for index in range(len(ids) - 1, -1, -1):
            eid = ids[index]
            if eid in squash.drop:
                del log[index]
            elif eid == squash.keep:
                del log[index]
                log.insert(index, squash.entry)
        if squash.deleted:
            node = document.node(squash.nid)
            for part in ("text", "head", "tail"):
                if part in node:
                    text = node[part]
                    if len(text):
                        del text[0 : len(text)]
        document.logs.forget(squash.nid)
    if squashes:
        document.forget_caches()
