"""Squashing settled history (`crdtspace.model.squash`): after a commit, a node's old entries are
folded into one; nothing a later edit, read or conflict sees changes."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_versions import changed as marked

from crdtspace import Workspace
from crdtspace.model import versions
from crdtspace.model.history import History
from crdtspace.model.versions import VersionError, new_doc
from crdtspace.testing import make_repo

FUNCS = 4
SOURCE = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(FUNCS)).rstrip() + "\n"
AGENTS = ("alice", "bob", "carol")


def conflicts(ws: Workspace) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return sorted(
        (c.kind, tuple(sorted(p.name for p in c.places)), tuple(sorted(c.agents)))
        for c in ws.conflicts()
    )


# One step: (agent, what, function). "read" hands the agent the file (its version is kept);
# "write" writes the agent's last read with one function marked, naming its version (a stale
# write if others wrote since); "write-last" does so naming no version (based on the agent's
# last read); "type" types into a function by splices; "forget": the agent's next write is
# not based on its last read (that version is no longer named); "squash" commits the state
# (as the gate records a commit) and squashes; "wait": more than the read TTL passes (a read
# made before expires at the next squash).
STEPS = st.lists(
    st.tuples(
        st.sampled_from(AGENTS),
        st.sampled_from(
            ["read", "write", "write-last", "type", "squash", "squash", "forget", "wait"]
        ),
        st.integers(0, FUNCS - 1),
    ),
    min_size=1,
    max_size=20,
)
TTL = 3600.0


class Twins:
    """The same steps played on a workspace that squashes (and so expires reads) and on one
    that never does, in step: a write either goes the same way in both, or the squashing one
    refuses it (a version it dropped, a read that expired; nothing changed) and the agent
    reads again and redoes its edit, in both alike."""

    def __init__(self, repo: Path) -> None:
        self.plain = Workspace.from_commit(repo, agent="home")
        # (the same client ids in both, theirs and their forks': concurrent inserts at one
        # place are ordered by client id, and the twins must order them alike)
        twin = new_doc(self.plain.doc.client_id)
        twin.apply_update(self.plain.update_since())
        self.folded = Workspace(twin, agent="home", root=self.plain.root)
        self.forks = {id(self.plain): count(1), id(self.folded): count(1)}
        self.now = 1_800_000_000.0
        for ws in (self.plain, self.folded):
            ws.versions.clock = lambda: self.now
            ws.versions.ttl = TTL
        self.reads: dict[str, tuple[Any, Any]] = {}  # agent -> (plain's read, folded's)
        self.refused = 0

    def read(self, agent: str) -> None:
        self.reads[agent] = (
            self.plain.read("m.py", agent=agent),
            self.folded.read("m.py", agent=agent),
        )
        assert str(self.reads[agent][0]) == str(self.reads[agent][1])

    def write(self, agent: str, func: int, mark: str, *, named: bool) -> None:
        if agent not in self.reads or (
            not named and self.plain.versions.last_read(agent, "m.py") is None
        ):
            self.read(agent)  # (nothing to write from: the agent reads first, in both)
        plain, folded = self.reads[agent]
        before = self.folded.render("m.py")
        refusal = None
        try:
            self._write(self.folded, agent, folded, func, mark, named)
        except VersionError as error:
            refusal = error.message
        if refusal is not None:
            assert "expired" in refusal or "not known" in refusal
            assert named or "expired" in refusal  # (a last read is never dropped)
            assert self.folded.render("m.py") == before
            self.refused += 1
            self.read(agent)
            plain, folded = self.reads[agent]
            self._write(self.folded, agent, folded, func, mark, named)
        self._write(self.plain, agent, plain, func, mark, named)
        self.read(agent)

    def _write(
        self, ws: Workspace, agent: str, seen: Any, func: int, mark: str, named: bool
    ) -> None:
        base = seen.version if named else None
        forks = self.forks[id(ws)]  # (the n-th fork of either twin: the same id)
        with patch.object(versions, "fresh_client_id", lambda: 1_000_000 + next(forks)):
            ws.write("m.py", marked(str(seen), func, mark), agent=agent, base=base)


def play(repo: Path, steps: list[tuple[str, str, int]]) -> Twins:
    twins = Twins(repo)
    for n, (agent, what, func) in enumerate(steps):
        if what == "read":
            twins.read(agent)
        elif what in ("write", "write-last"):
            twins.write(agent, func, f"{agent}{n}", named=what == "write")
        elif what == "type" and not twins.plain.conflicts():  # (a render with markers: no offsets)
            for ws in (twins.plain, twins.folded):
                with ws.acting_as(agent):
                    text = ws.render("m.py")
                    at = text.index(f"return {func}") + len(f"return {func}")
                    ws.splice("m.py", at, 0, f" + {n}")
                    ws.splice("m.py", at + 2, 2 + len(str(n)) - 2, "")
        elif what == "forget":
            for ws in (twins.plain, twins.folded):
                ws.versions.forget_read(agent, "m.py")
            twins.reads.pop(agent, None)
        elif what == "wait":
            twins.now += TTL + 1
        elif what == "squash" and not twins.plain.conflicts():
            twins.plain.committed("c" * 40)
            twins.folded.committed("c" * 40)
            twins.folded.squash_history()
            twins.folded.committed("c" * 40)
    return twins


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_squashing_changes_no_render_no_conflict_and_no_later_write(
    tmp_path_factory: Any, steps: list[tuple[str, str, int]]
) -> None:
    repo = make_repo(tmp_path_factory.mktemp("repo"), {"m.py": SOURCE})
    twins = play(repo, steps)
    plain, folded = twins.plain, twins.folded
    assert folded.render("m.py") == plain.render("m.py")
    assert conflicts(folded) == conflicts(plain)
    for agent in AGENTS:
        assert folded.read("m.py", agent=agent) == plain.read("m.py", agent=agent)


def test_a_write_from_an_expired_read_is_refused_in_the_twin_and_redone_in_both(
    tmp_path: Path,
) -> None:
    """One run of the twins where bob's read expires: his write is refused, then redone."""
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    steps = [
        ("bob", "read", 0),
        ("alice", "write", 1),
        ("alice", "wait", 0),
        ("alice", "squash", 0),
        ("bob", "write-last", 2),
    ]
    twins = play(repo, steps)
    assert twins.refused == 1
    assert twins.folded.render("m.py") == twins.plain.render("m.py")
    assert "# bob4" in twins.plain.render("m.py")


def test_a_squash_keeps_the_texts_after_every_head_and_who_edited(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    ws = Workspace.from_commit(repo, agent="home")
    for i in range(6):
        agent = AGENTS[i % 3]
        ws.write("m.py", marked(ws.read("m.py", agent=agent), i % FUNCS, f"x{i}"), agent=agent)
    history = History(ws.document)
    nodes = [n for n in ws.document.edited_nodes() if len(ws.document.log(n)) > 1]
    assert nodes
    before = {n: history.after(n, ws.document.heads(n)[0]) for n in nodes}
    entries = {n: len(ws.document.log(n)) for n in nodes}
    agents = {n: sorted({e.agent for e in ws.document.log(n)}) for n in nodes}
    ws.committed("c" * 40)
    for agent in AGENTS:
        ws.versions.forget_read(agent, "m.py")
    # The versions the writes handed out live through one squash (a write may still come
    # from one); at the next, nothing holds the old entries.
    ws.squash_history()
    assert ws.squash_history() == len(nodes)
    history = History(ws.document)
    for n in nodes:
        [entry] = ws.document.log(n)
        assert history.after(n, entry.id) == before[n]
        assert sum(count for _, count in entry.squashed) == entries[n]
        assert sorted(agent for agent, _ in entry.squashed) == agents[n]
        assert entry.edits == ()
        assert entry.parents == ()


def test_nothing_is_squashed_while_another_replica_may_still_write(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    ws = Workspace.from_commit(repo, agent="home")
    ws.write("m.py", marked(SOURCE, 0, "home"))
    ws.write("m.py", marked(ws.read("m.py"), 0, "again"))
    bob = ws.replica("bob")
    bob.write("m.py", marked(bob.read("m.py"), 2, "bob"))
    bob.write("m.py", marked(bob.read("m.py"), 2, "again"))
    ws.apply_update(bob.update_since(ws.state()))
    ws.committed("c" * 40)
    ws.versions.forget_read("home", "m.py")
    ws.versions.squashed()
    ws.versions.squashed()  # (the versions home's writes handed out are gone)
    assert ws.squash_history() == 0  # bob has not said he finished
    bob.close()  # (reports that it is done)
    ws.apply_update(bob.update_since(ws.state()))
    assert ws.squash_history() > 0


def test_a_version_an_agent_still_holds_keeps_what_it_saw(tmp_path: Path) -> None:
    """Bob read before alice's edits: they stay whole (bob may still write from his read), and
    his write from it merges as without the squash."""
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    ws = Workspace.from_commit(repo, agent="home")
    bob = ws.read("m.py", agent="bob")
    bob_version = bob.version
    for i in range(4):
        ws.write("m.py", marked(ws.read("m.py", agent="alice"), 0, f"a{i}"), agent="alice")
    ws.committed("c" * 40)
    log_before = {n: len(ws.document.log(n)) for n in ws.document.edited_nodes()}
    ws.squash_history()
    assert {n: len(ws.document.log(n)) for n in ws.document.edited_nodes()} == log_before
    ws.write("m.py", marked(str(bob), 0, "bob"), agent="bob", base=bob_version)
    assert [c.kind for c in ws.conflicts()] == ["overlap"]
