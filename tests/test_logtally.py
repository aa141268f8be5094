"""The log tally (`crdtspace.model.logtally`): brought up to date from the front, it answers
what reading the whole log answers, whatever order concurrent appends merge in."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc

from crdtspace.model.document import read_list
from crdtspace.model.logentry import LogEntry
from crdtspace.model.logtally import LogTally, _full, tally


def _entry(eid: str, parents: tuple[str, ...], op: str = "edit") -> dict[str, Any]:
    return LogEntry(eid, "agent", parents, op, "").to_value()


class LogReplica:
    """One replica's copy of one node's log, appending as `Document.append_log` does."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.doc: Doc[Any] = Doc()
        self.log: Array[Any] = self.doc.get("log", type=Array)
        self.counter = 0
        self.tally: LogTally | None = None

    def append(self, op: str = "edit") -> None:
        self.recount()
        assert self.tally is not None
        self.counter += 1
        parents = () if op == "create" else self.tally.heads
        self.log.insert(0, _entry(f"{self.number}.{self.counter}", parents, op))

    def recount(self) -> None:
        self.tally = tally(self.log, self.tally)


def _check(replica: LogReplica) -> None:
    replica.recount()
    whole = _full(read_list(replica.log))
    assert replica.tally is not None
    assert replica.tally.heads == whole.heads
    assert replica.tally.creation == whole.creation
    assert replica.tally.length == whole.length


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(["append", "sync", "check"])),
        max_size=40,
    )
)
def test_incremental_tally_matches_a_full_read(steps: list[tuple[int, str]]) -> None:
    replicas = [LogReplica(n) for n in range(3)]
    replicas[0].append("create")
    for other in replicas[1:]:
        other.doc.apply_update(replicas[0].doc.get_update())
    for who, action in steps:
        replica = replicas[who]
        if action == "append":
            replica.append()
        elif action == "sync":
            peer = replicas[(who + 1) % 3]
            replica.doc.apply_update(peer.doc.get_update(replica.doc.get_state()))
        _check(replica)
    for replica in replicas:
        for other in replicas:
            replica.doc.apply_update(other.doc.get_update(replica.doc.get_state()))
        _check(replica)
    assert len({r.tally.heads for r in replicas if r.tally is not None}) == 1


def test_concurrent_heads_and_their_merge() -> None:
    a, b = LogReplica(1), LogReplica(2)
    a.append("create")
    b.doc.apply_update(a.doc.get_update())
    a.append()
    b.append()
    a.doc.apply_update(b.doc.get_update(a.doc.get_state()))
    a.recount()
    assert a.tally is not None
    assert a.tally.heads == ("1.2", "2.1")
    assert a.tally.creation is not None
    assert a.tally.creation.id == "1.1"
    a.append()  # has seen both heads
    a.recount()
    assert a.tally.heads == ("1.3",)


def test_an_irregular_log_is_read_whole_every_time() -> None:
    replica = LogReplica(1)
    replica.log.insert(0, {"not": "an entry"})
    replica.log.insert(0, _entry("1.1", ()))
    replica.recount()
    assert replica.tally is not None
    assert not replica.tally.regular
    replica.log.insert(0, _entry("1.2", ("1.1",)))
    _check(replica)
    assert replica.tally.heads == ("1.2",)
