"""The edit log's entries: who changed a node, how, and which entries they had seen.

`Document.log` reads a node's entries and `Document.append_log` writes them (the schema is in
`crdtspace.model.document`); `decode_state` reads the yrs state vectors the entries carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TextEdit = tuple[str, int, str, str]
"""One recorded change of a node text: (part, char offset, old text, new text)."""


@dataclass(frozen=True)
class LogEntry:
    """One edit of one node: who, what, and which entries it had seen (happened-before).

    `edits` are the node's text changes in this entry, in order, each against the text the
    previous one left; `base` holds the node's texts before them when the entry does not follow
    exactly one other (a first edit, a create, or an edit that merged concurrent heads), so the
    text after any entry can be rebuilt (see `history`). `state` is the replica's state
    vector when the entry was written: entry b had seen entry a iff
    ``b.state[a.client] > a.state[a.client]`` (for any two nodes, not just one log). `name` is
    the node's name after the entry; `to` the container a move put it in.
    """

    id: str
    agent: str
    parents: tuple[str, ...]
    op: str
    description: str = ""
    state: tuple[tuple[int, int], ...] = ()
    name: str = ""
    edits: tuple[TextEdit, ...] = ()
    base: tuple[tuple[str, str], ...] | None = None
    to: str = ""
    squashed: tuple[tuple[str, int], ...] = ()
    """An entry that stands for a settled stretch of the node's history
    (`crdtspace.model.squash`): how many entries each agent made there."""

    @property
    def client(self) -> int:
        return int(self.id.partition(".")[0], 16)

    def clock(self, client: int) -> int:
        for c, k in self.state:
            if c == client:
                return k
        return 0

    def saw(self, other: LogEntry) -> bool:
        """Whether this entry's writer had seen `other` (happened-before, across nodes)."""
        if other.id in self.parents:
            return True
        client = other.client
        return self.clock(client) > other.clock(client) > 0 or (
            client == self.client and self.id != other.id and _counter(self) > _counter(other)
        )

    @classmethod
    def from_value(cls, value: Any) -> LogEntry:
        """The entry an item of a log holds (a KeyError, TypeError, ValueError or
        AttributeError: not the shape of one). Every field is converted as written, so that
        any replica reads the same entry from the same item; what yrs gives as it is (strings
        and lists of strings, as replicas write them) is taken without copying each part."""
        get = value.get
        parents = get("parents", ())
        base = get("base")
        squashed = get("squashed")
        entry = cls.__new__(cls)
        # (set as __init__ would, without its checks per field: this runs for every entry a
        # merge brings)
        _set(
            entry,
            "__dict__",
            {
                "id": str(value["id"]),
                "agent": str(value["agent"]),
                "parents": _strings(parents),
                "op": str(get("op", "edit")),
                "description": str(get("desc", "")),
                "state": tuple([(int(c), int(k)) for c, k in get("sv", ())]),
                "name": str(get("name", "")),
                "edits": tuple(
                    [(str(p), int(o), str(a), str(b)) for p, o, a, b in get("edits", ())]
                ),
                "base": None if base is None else tuple([(str(p), str(t)) for p, t in base]),
                "to": str(get("to", "")),
                # (sorted: a map in an item comes out of yrs in no fixed order)
                "squashed": tuple(
                    sorted([(str(a), int(n)) for a, n in dict(squashed or {}).items()])
                ),
            },
        )
        return entry

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "id": self.id,
            "agent": self.agent,
            "parents": list(self.parents),
            "op": self.op,
        }
        if self.description:
            value["desc"] = self.description
        if self.state:
            value["sv"] = [list(pair) for pair in self.state]
        if self.name:
            value["name"] = self.name
        if self.edits:
            value["edits"] = [list(e) for e in self.edits]
        if self.base is not None:
            value["base"] = [list(pair) for pair in self.base]
        if self.to:
            value["to"] = self.to
        if self.squashed:
            value["squashed"] = dict(self.squashed)
        return value


_set = object.__setattr__


def _strings(values: Any) -> tuple[str, ...]:
    """`tuple(str(v) for v in values)`, without converting what is already a string."""
    out = tuple(values)
    if all(type(v) is str for v in out):
        return out
    return tuple(str(v) for v in out)


def _counter(entry: LogEntry) -> int:
    try:
        return int(entry.id.partition(".")[2])
    except ValueError:
        return 0


def decode_state(state: bytes) -> tuple[tuple[int, int], ...]:
    """A yrs state vector (varint count, then client/clock varint pairs), sorted by client."""
    values: list[int] = []
    value = shift = 0
    for byte in state:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(value)
            value = shift = 0
    pairs = values[1:]
    return tuple(sorted(zip(pairs[0::2], pairs[1::2], strict=False)))
