"""What a replica keeps of one node's edit log between updates: its heads and creation entry,
brought up to date by reading only the entries added since.

A node's log is an Array stored newest first, only ever inserted into at 0 (`append_log`),
never deleted from (the sync server refuses an update that deletes log entries). So after an
update that grew a log by d entries, the d entries this tally does not know are found by
reading from the front, usually exactly d items: the log of a node edited a thousand times is
not parsed again at every keystroke another replica sends (which made every merge O(log)).

The tally answers exactly what a full read answers (`heads` as `Document.heads` defined them,
`creation` as `history.creation`); whenever it cannot be sure (an entry that does not parse,
an id twice, a log that shrank or changed at the front without growing, a new creation entry)
it reads the whole log again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Array

from crdtspace.model.logentry import LogEntry

__all__ = ["LogTally", "tally"]


@dataclass(frozen=True)
class LogTally:
    """One node's log as last read: enough to bring it up to date from the front."""

    length: int
    first: str | None
    """The id of the newest item (at 0), None for an empty log."""
    ids: frozenset[str]
    parents: frozenset[str]
    heads: tuple[str, ...]
    """The entries no other entry has seen, sorted: more than one = concurrent edits."""
    creation: LogEntry | None
    """The oldest entry that created the node (a create with no parents), None if none."""
    regular: bool
    """Every entry parsed and no id came twice: incremental updates are exact."""


def tally(log: Array[Any], previous: LogTally | None) -> LogTally:
    """The tally of `log` now, from `previous` when it can (see the module docstring)."""
    length = len(log)
    if previous is not None and previous.regular:
        if length == previous.length:
            if length == 0 or _id(log[0]) == previous.first:
                return previous
        elif length > previous.length:
            grown = _grown(log, previous, length)
            if grown is not None:
                return grown
    from crdtspace.model.document import read_list  # (document imports this module)

    return _full(read_list(log))


def _id(value: Any) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and "id" in value else None


def _parse(value: Any) -> LogEntry | None:
    try:
        return LogEntry.from_value(value)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _creates(entry: LogEntry) -> bool:
    return entry.op == "create" and not entry.parents


def _full(items: list[Any]) -> LogTally:
    """Every item read (newest first), as `Document.log` and `history.creation` read them."""
    entries = [e for e in (_parse(v) for v in reversed(items)) if e is not None]
    ids = [e.id for e in entries]
    parents = frozenset(p for e in entries for p in e.parents)
    return LogTally(
        length=len(items),
        first=_id(items[0]) if items else None,
        ids=frozenset(ids),
        parents=parents,
        heads=tuple(sorted(i for i in ids if i not in parents)),
        creation=next((e for e in entries if _creates(e)), None),
        regular=len(entries) == len(items) and len(set(ids)) == len(ids),
    )


def _grown(log: Array[Any], previous: LogTally, length: int) -> LogTally | None:
    """`previous` plus the entries it lacks, read from the front; None when not sure."""
    wanted = length - previous.length
    new: list[LogEntry] = []
    first: str | None = None
    for index in range(length):
        entry = _parse(log[index])
        if entry is None:
            return None
        if index == 0:
            first = entry.id
        if entry.id in previous.ids:
            continue
        if _creates(entry) or any(entry.id == e.id for e in new):
            return None
        new.append(entry)
        if len(new) == wanted:
            break
    if len(new) != wanted:
        return None
    added = frozenset(e.id for e in new)
    parents = previous.parents | {p for e in new for p in e.parents}
    heads = (set(previous.heads) | added) - parents
    return LogTally(
        length=length,
        first=first,
        ids=previous.ids | added,
        parents=parents,
        heads=tuple(sorted(heads)),
        creation=previous.creation,
        regular=True,
    )
