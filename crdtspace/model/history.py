"""A node's past, rebuilt from its edit log: the text after any entry, forks and ancestry.

Every log entry records the node's char edits (see `LogEntry`); an entry that follows exactly
one other starts from that one's text, any other entry carries a snapshot of the texts it
started from. So the text after an entry is a pure function of the log, the same on every
replica, which is what makes conflicts a pure function of the doc.

Chains can be long (an editor's bursts: one entry each), so nothing here recurses; texts are
memoised per entry for the entries asked about, never for a whole chain.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from crdtspace.model.document import Document
from crdtspace.model.logcache import NodeEntries
from crdtspace.model.logentry import LogEntry
from crdtspace.model.textedit import diff

Texts = dict[str, str]
"""A node's texts by part: {"text": ...} for a leaf, {"head": ..., "tail": ...} for a container."""


@dataclass(frozen=True)
class NodeLog:
    """One node's entries by id, in log order (oldest first)."""

    nid: str
    entries: dict[str, LogEntry]

    @property
    def heads(self) -> tuple[str, ...]:
        seen = {p for e in self.entries.values() for p in e.parents}
        return tuple(sorted(i for i in self.entries if i not in seen))

    def ancestors(self, eid: str) -> set[str]:
        """`eid` and every entry it had seen (in this log)."""
        out: set[str] = set()
        stack = [eid]
        while stack:
            current = stack.pop()
            if current in out or current not in self.entries:
                continue
            out.add(current)
            stack.extend(self.entries[current].parents)
        return out

    def fork(self, heads: Iterable[str]) -> str | None:
        """The newest entry every head had seen (None: they share no entry, the fork is the base).

        With several newest common entries (criss-cross merges) the smallest id is taken, so
        every replica picks the same one."""
        newest = self.newest_common(heads)
        return newest[0] if newest else None

    def newest_common(self, heads: Iterable[str]) -> list[str]:
        """The newest entries every head had seen, sorted."""
        common: set[str] | None = None
        for head in heads:
            ancestry = self.ancestors(head)
            common = ancestry if common is None else common & ancestry
        if not common:
            return []
        inner = {p for c in common for p in self.entries[c].parents}
        return sorted(c for c in common if c not in inner)


class History:
    """Texts of nodes after log entries, memoised for one analysis of one doc state."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._logs: dict[str, NodeLog] = {}
        self._after: dict[tuple[str, str], Texts] = {}
        self._held: dict[str, NodeEntries] = {}

    def entries(self, nid: str) -> NodeEntries:
        """The node's decoded log, read from the document once per History (one doc state:
        each read of a log's length is a pycrdt call)."""
        held = self._held.get(nid)
        if held is None:
            held = self._held[nid] = self.document.log_entries(nid)
        return held

    def node_log(self, nid: str) -> NodeLog:
        log = self._logs.get(nid)
        if log is None:
            entries = self.document.log(nid)
            log = self._logs[nid] = NodeLog(nid, {e.id: e for e in entries})
        return log

    def after(self, nid: str, eid: str) -> Texts:
        """The node's texts right after entry `eid`, as its writer saw them.

        Texts reached from a base (or from texts kept that way) are kept in the document's
        log cache across analyses (`NodeEntries.remember`): the next entry then costs its own
        edits. Texts reached through a parent this replica lacks, or a cycle, are not kept."""
        key = (nid, eid)
        cached = self._after.get(key)
        if cached is not None:
            return cached
        kept = self.entries(nid)
        entries = kept.by_id  # (the same entries as node_log's, without building it)
        chain: list[LogEntry] = []
        current: str | None = eid
        start: Texts = {}
        whole = False  # the walk reached texts that are a pure function of the log
        visited: set[str] = set()  # (a peer's log may make an entry its own ancestor)
        while current is not None and current not in visited:
            visited.add(current)
            if current in kept.after:
                start, whole = dict(kept.after[current]), True
                break
            if (nid, current) in self._after and current != eid:
                start = dict(self._after[(nid, current)])
                break
            entry = entries.get(current)
            if entry is None:
                break  # a parent we do not hold: start from nothing (cannot happen once synced)
            chain.append(entry)
            if entry.base is not None or len(entry.parents) != 1:
                start, whole = dict(entry.base or ()), True
                break
            current = entry.parents[0]
        texts = start
        for entry in reversed(chain):
            texts = apply_edits(texts, entry)
        self._after[key] = texts
        if whole:
            kept.remember(eid, texts)
        return texts

    def before(self, nid: str, entry: LogEntry) -> Texts:
        """The node's texts as the writer of `entry` found them."""
        if entry.base is not None or len(entry.parents) != 1:
            return dict(entry.base or ())
        return self.after(nid, entry.parents[0])

    def fork_texts(self, nid: str, heads: Iterable[str]) -> Texts:
        """The node's texts at the point where `heads` diverged."""
        heads = list(heads)
        log = self.node_log(nid)
        newest = log.newest_common(heads)
        if len(newest) > 1:
            # A criss-cross: the heads both started from the merge of several entries (two
            # resolutions of one overlap, say). An entry that had seen exactly those recorded
            # the merged texts it started from: that is the fork, not one of the entries.
            merged = sorted(
                e.id
                for e in log.entries.values()
                if e.base is not None and sorted(e.parents) == newest
            )
            if merged:
                return dict(log.entries[merged[0]].base or ())
        if newest:
            return self.after(nid, newest[0])
        roots = sorted(i for h in heads for i in log.ancestors(h) if not log.entries[i].parents)
        return self.before(nid, log.entries[roots[0]]) if roots else {}


def apply_edits(texts: Texts, entry: LogEntry) -> Texts:
    """`texts` with an entry's recorded edits applied in order."""
    if not entry.edits:
        return texts
    out = dict(texts)
    for part, pos, old, new in entry.edits:
        current = out.get(part, "")
        out[part] = current[:pos] + new + current[pos + len(old) :]
    return out


def render_texts(texts: Texts) -> str:
    """One string for a node's texts (a container's head and tail joined), for diffs."""
    if "text" in texts:
        return texts["text"]
    return texts.get("head", "") + texts.get("tail", "")


# -- what concurrent heads did: their sides since the fork, and whether they overlap ------


@dataclass(frozen=True)
class Branch:
    """What one head's side did to a node since the fork."""

    head: LogEntry
    entries: tuple[LogEntry, ...]
    after: Texts

    @property
    def agent(self) -> str:
        return self.head.agent

    @property
    def deleted(self) -> bool:
        return self.head.op == "delete"

    @property
    def moved_to(self) -> str | None:
        moves = [e for e in self.entries if e.op == "move" and e.to]
        if not moves:
            return None
        seen = {p for e in self.entries for p in e.parents}
        newest = [m for m in moves if m.id not in seen] or moves
        return sorted(newest, key=lambda m: m.id)[-1].to


def branches(log: NodeLog, history: History) -> tuple[Texts, list[Branch]]:
    """The fork texts of a node's heads and what each head's side did since."""
    heads = log.heads
    fork = log.fork(heads)
    before = log.ancestors(fork) if fork is not None else set()
    fork_texts = history.fork_texts(log.nid, heads)
    out = []
    for head in heads:
        own = sorted(log.ancestors(head) - before)
        out.append(
            Branch(
                log.entries[head],
                tuple(log.entries[i] for i in own),
                history.after(log.nid, head),
            )
        )
    return fork_texts, out


def changed(fork: Texts, after: Texts) -> bool:
    """Whether a side's texts differ from the fork's (its name included)."""
    return not same_texts(fork, after)


def same_texts(a: Texts, b: Texts) -> bool:
    """Whether two nodes' texts are the same (a part one lacks counts as empty)."""
    keys = set(a) | set(b)
    return all(a.get(k, "") == b.get(k, "") for k in keys)


def hunks(old: str, new: str) -> list[tuple[int, int, str]]:
    """The changed line ranges of old -> new: (first line, end line (exclusive), new text).

    The new text of an edit inside a line is the whole new line, as git compares lines: two
    sides that changed one line differently must not look identical because one of their
    character edits is (from ``200090``: ``100091`` and ``200091`` both end in ``1``)."""
    out: list[tuple[int, int, str]] = []
    starts = [0]
    for line in old.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    shift = 0
    for edit in diff(old, new):
        first = _line_of(starts, edit.pos)
        last = _line_of(starts, edit.pos + edit.delete - 1) + 1 if edit.delete else first
        at = edit.pos + shift
        shift += len(edit.insert) - edit.delete
        whole_lines = (
            edit.pos in starts
            and (edit.insert.endswith("\n") or not edit.insert)
            and (edit.pos + edit.delete in starts or edit.pos + edit.delete == len(old))
        )
        if whole_lines:
            out.append((first, last, edit.insert))
            continue
        begin = new.rfind("\n", 0, at) + 1
        end = new.find("\n", at + len(edit.insert))
        out.append((first, last, new[begin : len(new) if end < 0 else end + 1]))
    return out


def _line_of(starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(starts, offset) - 1)


def overlapping(fork: Texts, a: Texts, b: Texts) -> bool:
    """Whether the two sides' changes touch a common line of some part (as git would see it):
    ranges that intersect, or insertions at one point with different text."""
    for part in sorted(set(fork) | set(a) | set(b)):
        base = fork.get(part, "")
        left, right = a.get(part, ""), b.get(part, "")
        if left in (base, right) or right == base:
            continue
        if part == "name":
            return True
        theirs = hunks(base, right)  # (once, not once per hunk of the left side)
        for s1, e1, t1 in hunks(base, left):
            for s2, e2, t2 in theirs:
                if (s1, e1, t1) == (s2, e2, t2):
                    continue
                if s1 < e2 and s2 < e1:
                    return True
                if s1 == s2 and (s1 == e1 or s2 == e2):
                    return True
                if (s1 == e1 and s2 < s1 < e2) or (s2 == e2 and s1 < s2 < e1):
                    return True
    return False


def creation(history: History, nid: str) -> LogEntry | None:
    """The entry that created a node (None for a node imported from git)."""
    return history.entries(nid).creation


def concurrent(a: LogEntry, b: LogEntry) -> bool:
    return not a.saw(b) and not b.saw(a)
