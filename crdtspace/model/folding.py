"""Concurrent identical changes counted once, as git would: the logs to look at, the folds."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable
from typing import Any

from crdtspace.model.document import Document
from crdtspace.model.history import History, concurrent, creation
from crdtspace.model.logentry import LogEntry


class LogWatch:
    """Which edited nodes' logs changed since the last `grown` call.

    Asking every edited node's log for its length at every merge made a merge cost grow with
    the number of edited nodes (5 ms at 400). Each edited node's log Array is observed instead
    (a raw yrs observer that only notes the node: no event is built); nodes that become edited
    are found when the ``edited`` map grows, and each is reported once when first seen."""

    def __init__(self) -> None:
        self.recheck_due = False
        """Set after a merge that held an update back or let one in (`recheck`)."""
        self._watched: dict[str, tuple[Any, Any]] = {}  # node -> (its log Array, subscription)
        self._unwatched: set[str] = set()  # edited, but no node with a log (yet)
        self._dirty: set[str] = set()
        self._lengths: dict[str, int] = {}  # node -> its log's length when last reported
        self._count = -1

    def grown(self, document: Document) -> list[str]:
        rewritten, every = document.take_rewritten()
        for nid in list(self._watched) if every else rewritten & self._watched.keys():
            self._unwatch(nid)  # (a peer may have put another Array there: watched anew)
        count = document.edited_changes
        if count != self._count:
            self._count = count
            self._unwatched.update(n for n in document.edited_nodes() if n not in self._watched)
        for nid in list(self._unwatched):
            self._watch(document, nid)
        if self.recheck_due:
            self.recheck(document)
        out = sorted(n for n in self._dirty if document.has_node(n))
        for nid in out:  # (what `recheck` compares with)
            watched = self._watched.get(nid)
            if watched is not None:
                self._lengths[nid] = len(watched[0])
        self._dirty.clear()
        return out

    def recheck(self, document: Document) -> None:
        """Note every watched node whose log is not as long as when it was last reported.

        A log's observer is not always called for entries integrated from an update held
        back (one that came before an update it depends on, let in when that one arrives:
        `core.settle`): the property test of the fold's fast path found logs grown so, unseen.
        So a merge that held or let in such an update asks every watched log its length, once
        (out-of-order merges are rare; in-order ones cost nothing more)."""
        self.recheck_due = False
        for nid, (log, _) in self._watched.items():
            if self._lengths.get(nid) != len(log) and document.has_node(nid):
                self._dirty.add(nid)

    def _unwatch(self, nid: str) -> None:
        log, subscription = self._watched.pop(nid)
        with contextlib.suppress(Exception):  # (the Array may be gone: nothing to drop then)
            if hasattr(subscription, "drop"):
                subscription.drop()
            else:  # pragma: no cover  (pycrdt's public observer)
                log.unobserve(subscription)
        self._lengths.pop(nid, None)
        self._unwatched.add(nid)

    def _watch(self, document: Document, nid: str) -> None:
        if not document.has_node(nid) or "log" not in document.node(nid):
            return
        log = document.node(nid)["log"]
        note = functools.partial(_note, self._dirty, nid)
        try:
            subscription = log.integrated.observe(note)  # (pycrdt's raw observer)
        except AttributeError:  # pragma: no cover  (pycrdt changed: its public observer)
            subscription = log.observe(note)
        self._watched[nid] = (log, subscription)
        self._unwatched.discard(nid)
        self._dirty.add(nid)


def _note(dirty: set[str], nid: str, _event: Any) -> None:
    dirty.add(nid)


def identical_folds(
    document: Document, nodes: Iterable[str], history: History
) -> list[tuple[str, dict[str, str]]]:
    """Of `nodes`, those whose heads all hold the same texts while the merged node does not:
    (node, texts).

    Only the heads' texts are rebuilt, each from texts kept for an entry it builds on (see
    `History.after`), so a merge costs the entries it brought, not the node's whole log; a
    single head's texts are rebuilt too, so that a concurrent entry arriving later finds its
    parent's. The fork, which may walk the log, is looked for only when the heads agree.
    (`history`: one for this doc state, shared with `duplicate_units`.)"""
    out = []
    for nid in nodes:
        held = history.entries(nid)
        heads = held.heads
        if len(heads) < 2:
            if heads:
                history.after(nid, heads[0])
            continue
        if any(held.by_id[h].op == "delete" for h in heads):
            continue
        first = history.after(nid, heads[0])
        if any(history.after(nid, h) != first for h in heads[1:]):
            continue
        if first == history.fork_texts(nid, heads):
            continue
        live = document.texts(nid)
        if any(live[part] != first.get(part, "") for part in live if part != "name"):
            out.append((nid, first))
    return out


def duplicate_units(document: Document, nodes: Iterable[str], history: History) -> list[str]:
    """In the containers of the created units among `nodes`: of units created at once with the
    same kind and text, all but the one with the smallest id (those to delete)."""
    created = [n for n in nodes if creation(history, n) is not None]
    out: list[str] = []
    for container in sorted({document.parent(n) for n in created if document.parent(n)}):
        if not document.has_node(container) or document.path_of(container) is None:
            continue
        seen: dict[tuple[str, str], tuple[str, LogEntry]] = {}
        for child in document.children(container):
            made = creation(history, child)
            if made is None:
                continue
            key = (str(document.node(child)["kind"]), document.render_node(child))
            if key in seen and concurrent(seen[key][1], made):
                keep, other = sorted([seen[key][0], child])
                out.append(other)
                seen[key] = (keep, made if keep == child else seen[key][1])
            else:
                seen[key] = (child, made)
    return sorted(set(out))
