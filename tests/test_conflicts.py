"""The conflict layer as a library: detection, ids, resolution, folding of identical changes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace import Workspace, sync
from crdtspace.errors import DocumentError
from crdtspace.testing import make_repo

STORE = '''"""A tiny store."""


def parse_line(line):
    name, count = line.split(",")
    return name, int(count)


def load(lines):
    return [parse_line(x) for x in lines]


class Shelf:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
'''

MAIN = """from store import load


def run(lines):
    return load(lines)
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"store.py": STORE, "main.py": MAIN})


def pair(repo: Path) -> tuple[Workspace, Workspace]:
    return Workspace.from_commit(repo, agent="alice"), Workspace.from_commit(repo, agent="bob")


def overlapped(repo: Path) -> tuple[Workspace, Workspace]:
    """alice and bob, synced after changing the same line of parse_line differently."""
    alice, bob = pair(repo)
    edit(alice, "store.py", "int(count)", "int(count) * 2")
    edit(bob, "store.py", "int(count)", "float(count)")
    sync(alice, bob)
    return alice, bob


def edit(ws: Workspace, path: str, old: str, new: str) -> None:
    text = ws.render(path)
    assert old in text
    ws.write(path, text.replace(old, new, 1))


def test_no_edits_no_findings(repo: Path) -> None:
    alice, _ = pair(repo)
    analysis = alice.analysis()
    assert (analysis.conflicts, analysis.notices, analysis.broken) == ((), (), ())


def test_sequential_edits_of_one_line_are_not_a_conflict(repo: Path) -> None:
    alice, bob = pair(repo)
    edit(alice, "store.py", "int(count)", "int(count.strip())")
    sync(alice, bob)
    edit(bob, "store.py", "int(count.strip())", "int(count.strip() or 0)")
    sync(alice, bob)
    assert alice.conflicts() == []


def test_overlap_same_line_is_reported_identically_by_both(repo: Path) -> None:
    alice, bob = overlapped(repo)
    found_a, found_b = alice.analysis(), bob.analysis()
    assert found_a == found_b
    (conflict,) = found_a.conflicts
    assert conflict.kind == "overlap"
    assert conflict.agents == ("alice", "bob")
    assert [p.name for p in conflict.places] == ["parse_line"]
    assert conflict.places[0].start_line == 4
    assert "take alice" in conflict.resolutions


def test_an_open_overlap_moves_with_the_lines_above_it(repo: Path) -> None:
    """A replica that read an overlap, then got lines added above it (another node's edit:
    the overlapping node's log is unchanged), names the lines a fresh replica names."""
    alice, bob = overlapped(repo)
    (before,) = alice.conflicts()
    assert before.places[0].start_line == 4
    edit(bob, "store.py", '"""A tiny store."""\n', '"""A tiny store.\n\nIt keeps items.\n"""\n')
    sync(alice, bob)
    fresh = Workspace.from_commit(repo, agent="carol")
    fresh.apply_update(bob.update_since())
    (after,) = fresh.conflicts()
    assert after.places[0].start_line == 7
    assert alice.conflicts() == [after]
    assert bob.conflicts() == [after]


def test_different_lines_of_one_function_merge_with_a_notice(repo: Path) -> None:
    alice, bob = pair(repo)
    edit(alice, "store.py", 'line.split(",")', 'line.split(";")')
    edit(bob, "store.py", "int(count)", "int(count, 10)")
    sync(alice, bob)
    analysis = alice.analysis()
    assert analysis.conflicts == ()
    assert [n.kind for n in analysis.notices] == ["merged"]
    assert 'split(";")' in alice.render("store.py")
    assert "int(count, 10)" in alice.render("store.py")


def test_taking_a_side_resolves_on_every_replica(repo: Path) -> None:
    alice, bob = overlapped(repo)
    (conflict,) = bob.conflicts()
    bob.resolve_conflict(conflict.id, take="alice")
    sync(alice, bob)
    for ws in (alice, bob):
        assert ws.conflicts() == []
        assert "return name, int(count) * 2\n" in ws.render("store.py")
        assert "float" not in ws.render("store.py")


def test_resolving_with_a_text_and_by_a_prefix_of_the_id(repo: Path) -> None:
    alice, bob = overlapped(repo)
    (conflict,) = alice.conflicts()
    text = (
        'def parse_line(line):\n    name, count = line.split(",")\n'
        "    return name, 2.0 * float(count)\n"
    )
    alice.resolve_conflict(conflict.id[:6], text="\n\n" + text)
    sync(alice, bob)
    assert bob.conflicts() == []
    assert text in bob.render("store.py")


def test_an_edit_that_has_seen_both_heads_resolves(repo: Path) -> None:
    alice, bob = overlapped(repo)
    assert alice.conflicts()
    text = bob.render("store.py")  # the overlap reads as both sides and the base
    start = text.index("<<<<<<< ")
    end = text.index("\n", text.index(">>>>>>> ")) + 1
    bob.write("store.py", text[:start] + "    return name, round(float(count) * 2)\n" + text[end:])
    sync(alice, bob)
    assert alice.conflicts() == []
    assert "return name, round(float(count) * 2)\n" in alice.render("store.py")


def test_resolve_refuses_unknown_ids_and_agents(repo: Path) -> None:
    alice, _bob = overlapped(repo)
    (conflict,) = alice.conflicts()
    with pytest.raises(DocumentError, match="no open conflict"):
        alice.resolve_conflict("ffffffffff", take="alice")
    with pytest.raises(DocumentError, match="no side by 'carol'"):
        alice.resolve_conflict(conflict.id, take="carol")
    with pytest.raises(DocumentError, match="either"):
        alice.resolve_conflict(conflict.id)
    assert alice.conflicts() == [conflict]


def test_ours_and_theirs(repo: Path) -> None:
    alice, _bob = overlapped(repo)
    (conflict,) = alice.conflicts()
    alice.resolve_conflict(conflict.id, take="theirs")
    assert "float(count)" in alice.render("store.py")
    assert alice.conflicts() == []


def test_delete_edit_and_keeping_the_edit_restores_the_node_in_place(repo: Path) -> None:
    alice, bob = pair(repo)
    alice.delete("store.py::load")
    old, new = "return [parse_line(x) for x in lines]", "return list(map(parse_line, lines))"
    edit(bob, "store.py", old, new)
    sync(alice, bob)
    conflicts = [c for c in alice.conflicts() if c.kind == "delete-edit"]
    assert len(conflicts) == 1
    assert "alice deleted load while bob edited it" in conflicts[0].message
    alice.resolve_conflict(conflicts[0].id, take="bob")
    sync(alice, bob)
    text = bob.render("store.py")
    assert "return list(map(parse_line, lines))" in text
    assert text.index("def parse_line") < text.index("def load") < text.index("class Shelf")
    assert [c.kind for c in bob.conflicts()] == []


def test_delete_edit_taking_the_delete(repo: Path) -> None:
    alice, bob = pair(repo)
    alice.delete("store.py::Shelf.add")
    edit(bob, "store.py", "self.items.append(item)", "self.items.insert(0, item)")
    sync(alice, bob)
    (conflict,) = [c for c in bob.conflicts() if c.kind == "delete-edit"]
    bob.resolve_conflict(conflict.id, take="alice")
    sync(alice, bob)
    assert "def add" not in alice.render("store.py")
    assert alice.conflicts() == []


def test_move_move_renders_once_and_taking_a_side_places_it(repo: Path) -> None:
    alice, bob = pair(repo)
    alice.move("store.py::load", "store.py::Shelf")
    bob.move("store.py::load", "main.py")
    sync(alice, bob)
    (conflict,) = [c for c in alice.conflicts() if c.kind == "move-move"]
    assert alice.render_all() == bob.render_all()
    both = alice.render("store.py") + alice.render("main.py")
    assert both.count("def load") == 1
    alice.resolve_conflict(conflict.id, take="bob")
    sync(alice, bob)
    assert "def load" in bob.render("main.py")
    assert "def load" not in bob.render("store.py")
    assert bob.conflicts() == []


def test_add_add_of_one_name_and_dropping_one(repo: Path) -> None:
    alice, bob = pair(repo)
    alice.write("store.py", alice.render("store.py") + "\n\ndef total(xs):\n    return sum(xs)\n")
    bob.write("store.py", bob.render("store.py") + "\n\ndef total(xs):\n    return len(xs)\n")
    sync(alice, bob)
    (conflict,) = [c for c in alice.conflicts() if c.kind == "add-add"]
    assert conflict.agents == ("alice", "bob")
    alice.resolve_conflict(conflict.id, take="bob")
    sync(alice, bob)
    text = alice.render("store.py")
    assert text.count("def total") == 1
    assert "len(xs)" in text
    assert alice.conflicts() == []


def test_both_creating_one_path_keeps_both_texts_and_reports_it(repo: Path) -> None:
    alice, bob = pair(repo)
    alice.write("util.py", "def a():\n    return 1\n")
    bob.write("util.py", "def b():\n    return 2\n")
    sync(alice, bob)
    for ws in (alice, bob):
        text = ws.render("util.py")
        assert "def a" in text
        assert "def b" in text
    (conflict,) = [c for c in alice.conflicts() if c.kind == "add-add"]
    assert {p.path for p in conflict.places} == {"util.py"}


def test_identical_edits_merge_as_one(repo: Path) -> None:
    alice, bob = pair(repo)
    edit(alice, "store.py", "int(count)", "int(count.strip())")
    edit(bob, "store.py", "int(count)", "int(count.strip())")
    sync(alice, bob)
    sync(alice, bob)
    for ws in (alice, bob):
        assert "return name, int(count.strip())\n" in ws.render("store.py")
        assert ws.conflicts() == []
    assert alice.render_all() == bob.render_all()


def test_identical_additions_merge_as_one(repo: Path) -> None:
    alice, bob = pair(repo)
    for ws in (alice, bob):
        ws.write("main.py", "import sys\n" + ws.render("main.py"))
        ws.write("store.py", ws.render("store.py") + "\n\ndef count(xs):\n    return len(xs)\n")
    sync(alice, bob)
    sync(alice, bob)
    for ws in (alice, bob):
        assert ws.render("main.py").count("import sys") == 1
        assert ws.render("store.py").count("def count") == 1
        assert ws.conflicts() == []
    assert alice.render_all() == bob.render_all()


def test_identical_edits_fold_among_many_edited_nodes_and_in_a_new_one(tmp_path: Path) -> None:
    """A merge looks only at the logs it grew (observed, not asked one by one): identical
    edits still fold once, in a node edited long before among 120 others, and in a node
    that one replica made after they parted."""
    funcs = 120
    source = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(funcs))
    repo = make_repo(tmp_path / "many", {"m.py": source})
    alice = Workspace.from_commit(repo, agent="alice")
    for i in range(funcs):
        alice.replace(f"m.py::f{i}", f"def f{i}():\n    return {i} + 1\n\n\n")
    bob = alice.replica("bob")
    for ws in (alice, bob):
        ws.replace("m.py::f7", "def f7():\n    return 'same'\n\n\n")
    alice.write("new.py", "def fresh():\n    return 0\n")
    sync(alice, bob)
    for ws in (alice, bob):
        ws.replace("new.py::fresh", "def fresh():\n    return 'again'\n")
    sync(alice, bob)
    sync(alice, bob)
    for ws in (alice, bob):
        assert ws.render("m.py").count("return 'same'") == 1
        assert ws.render("new.py") == "def fresh():\n    return 'again'\n"
        assert ws.conflicts() == []
    assert alice.render_all() == bob.render_all()


def test_dangling_reference_across_files_and_reverting_a_side(repo: Path) -> None:
    alice, bob = pair(repo)
    edit(alice, "store.py", "def load(lines):", "def load_all(lines):")
    alice.write("main.py", alice.render("main.py").replace("load", "load_all"))
    new_code = "\n\ndef first(lines):\n    return load(lines)[0]\n"
    bob.write("main.py", bob.render("main.py") + new_code)
    sync(alice, bob)
    (conflict,) = alice.conflicts()
    assert conflict.kind == "dangling-reference"
    assert "alice renamed load to load_all" in conflict.message
    assert {p.path for p in conflict.places} == {"main.py", "store.py"}
    alice.resolve_conflict(conflict.id, take="alice")  # bob's new function goes away
    sync(alice, bob)
    assert "def first" not in bob.render("main.py")
    assert bob.conflicts() == []


def test_broken_is_one_sided(repo: Path) -> None:
    alice, bob = pair(repo)
    edit(alice, "store.py", "def parse_line(line):", "def parse_row(line):")
    sync(alice, bob)
    analysis = bob.analysis()
    assert analysis.conflicts == ()
    (broken,) = analysis.broken
    assert broken.kind == "broken"
    assert broken.agents == ("alice",)
    assert "load" in [p.name for p in broken.places]


def test_signature_change_against_a_new_call(repo: Path) -> None:
    alice, bob = pair(repo)
    edit(alice, "store.py", "def parse_line(line):", "def parse_line(line, sep):")
    edit(alice, "store.py", 'line.split(",")', "line.split(sep)")
    edit(alice, "store.py", "parse_line(x) for", 'parse_line(x, ",") for')
    bob.write("store.py", bob.render("store.py") + "\n\ndef one(x):\n    return parse_line(x)\n")
    sync(alice, bob)
    kinds = [c.kind for c in alice.conflicts()]
    assert kinds == ["signature-mismatch"]


def test_concurrent_resolutions_of_one_conflict_are_reported(repo: Path) -> None:
    alice, bob = overlapped(repo)
    (conflict,) = alice.conflicts()
    alice.resolve_conflict(conflict.id, take="alice")
    bob.resolve_conflict(conflict.id, take="bob")
    sync(alice, bob)
    kinds = sorted(c.kind for c in alice.conflicts())
    assert "resolve-resolve" in kinds
    assert alice.analysis() == bob.analysis()


def test_conflicts_survive_a_reopen(repo: Path) -> None:
    durable = Workspace.init(repo, agent="alice")
    bob = durable.replica("bob")
    edit(durable, "store.py", "int(count)", "int(count) * 2")
    edit(bob, "store.py", "int(count)", "float(count)")
    sync(durable, bob)
    before = durable.analysis()
    durable.close()
    again = Workspace.open(repo, agent="alice")
    try:
        assert again.analysis() == before
    finally:
        again.close()


def test_merge_that_no_longer_parses_is_a_syntax_conflict(tmp_path: Path) -> None:
    base = "def f(x):\n    if x:\n        a()\n    b()\n"
    repo = make_repo(tmp_path / "syn", {"m.py": base})
    alice, bob = pair(repo)
    alice.write("m.py", "def f(x):\n    a()\n    b()\n")  # drops the `if`, dedents its body
    bob.write("m.py", "def f(x):\n    if x:\n        a()\n    else:\n        c()\n    b()\n")
    sync(alice, bob)
    kinds = [c.kind for c in alice.conflicts()]
    assert kinds == ["syntax"]
    (conflict,) = alice.conflicts()
    assert conflict.places[0].name == "f"
    assert "does not parse" in conflict.message


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_delivery_order_reports_the_same_conflicts(repo: Path, seed: int) -> None:
    rnd = random.Random(seed)
    alice, bob = pair(repo)
    carol = Workspace.from_commit(repo, agent="carol")
    sent: list[bytes] = []
    for ws in (alice, bob, carol):
        ws.subscribe(sent.append)
    edit(alice, "store.py", "int(count)", "int(count) * 2")
    edit(bob, "store.py", "int(count)", "float(count)")
    edit(alice, "store.py", "def load(lines):", "def load_all(lines):")
    carol.write("main.py", carol.render("main.py") + "\n\ndef first(xs):\n    return load(xs)[0]\n")
    carol.delete("store.py::Shelf.add")
    edit(bob, "store.py", "self.items.append(item)", "self.items.insert(0, item)")
    replicas = [Workspace.from_commit(repo, agent=f"r{i}") for i in range(3)]
    for replica in replicas:
        batch = sent + rnd.sample(sent, k=len(sent) // 2)
        rnd.shuffle(batch)
        for update in batch:
            replica.apply_update(update)
    analyses = [r.analysis() for r in replicas]
    assert all(a == analyses[0] for a in analyses)
    kinds = sorted(c.kind for c in analyses[0].conflicts)
    assert kinds == ["dangling-reference", "delete-edit", "overlap"]


def test_a_name_that_cannot_be_resolved_for_sure_is_a_possible_conflict(tmp_path: Path) -> None:
    base = (
        "from base import Base\n\n\nclass Job(Base):\n"
        "    def helper(self):\n        return 1\n\n"
        "    def run(self):\n        return 0\n"
    )
    repo = make_repo(tmp_path / "possible", {"job.py": base})
    alice, bob = pair(repo)
    alice.delete("job.py::Job.helper")
    edit(bob, "job.py", "        return 0\n", "        return self.helper()\n")
    sync(alice, bob)
    (conflict,) = alice.conflicts()
    assert (conflict.kind, conflict.severity) == ("dangling-reference", "possible")
    assert conflict.agents == ("alice", "bob")


def test_malformed_log_entries_from_a_peer_are_ignored(repo: Path) -> None:
    alice, bob = overlapped(repo)
    _, nid = alice.resolve("store.py::parse_line")
    assert nid is not None
    with alice.doc.transaction():
        log = alice.document.node(nid)["log"]
        log.insert(0, {"agent": "mallory"})  # no id
        log.insert(0, {"id": "x.1", "agent": "m", "sv": "nonsense", "edits": [1]})
        log.insert(0, "not a map")
    sync(alice, bob)
    for ws in (alice, bob):
        assert [c.kind for c in ws.conflicts()] == ["overlap"]


# -- stable ids and wording: the same situation, the same finding, whatever the client ids ----


def against_id_order(repo: Path) -> tuple[Workspace, Workspace]:
    """alice and bob, named so that their names and their entry ids sort in opposite orders
    (alice's entry ids, which embed her random client id, sort after bob's): where a message
    naming the sides in entry-id order would say "bob and alice"."""
    one, two = Workspace.from_commit(repo, agent="x"), Workspace.from_commit(repo, agent="y")
    if f"{one.client_id:x}." < f"{two.client_id:x}.":
        one, two = two, one
    one.agent, two.agent = "alice", "bob"
    return one, two


def _overlap(alice: Workspace, bob: Workspace) -> None:
    edit(alice, "store.py", "int(count)", "int(count) * 2")
    edit(bob, "store.py", "int(count)", "float(count)")


def _merged(alice: Workspace, bob: Workspace) -> None:
    edit(alice, "store.py", 'line.split(",")', 'line.split(";")')
    edit(bob, "store.py", "int(count)", "int(count, 10)")


def _add_add(alice: Workspace, bob: Workspace) -> None:
    alice.write("store.py", alice.render("store.py") + "\n\ndef total(xs):\n    return sum(xs)\n")
    bob.write("store.py", bob.render("store.py") + "\n\ndef total(xs):\n    return len(xs)\n")


def _move_move(alice: Workspace, bob: Workspace) -> None:
    alice.move("store.py::load", "store.py::Shelf")
    bob.move("store.py::load", "main.py")


def both_orders(repo: Path, alice: Workspace, bob: Workspace) -> tuple[Workspace, Workspace]:
    """Two fresh replicas given alice's and bob's updates, one in each order."""
    updates = [alice.update_since(), bob.update_since()]
    first = Workspace.from_commit(repo, agent="carol")
    second = Workspace.from_commit(repo, agent="dave")
    for update in updates:
        first.apply_update(update)
    for update in reversed(updates):
        second.apply_update(update)
    return first, second


@pytest.mark.parametrize(
    ("scenario", "kind", "wording"),
    [
        (_overlap, "overlap", "alice and bob changed the same lines of parse_line."),
        (_merged, "merged", "alice and bob changed different lines of parse_line"),
        (_add_add, "add-add", "alice and bob both added total (different code)."),
        (_move_move, "move-move", "alice and bob moved "),  # where it renders: by client id
    ],
)
def test_replicas_report_one_id_and_one_wording_whatever_the_update_order(
    repo: Path, scenario: object, kind: str, wording: str
) -> None:
    alice, bob = against_id_order(repo)
    assert callable(scenario)
    scenario(alice, bob)
    first, second = both_orders(repo, alice, bob)
    sync(alice, bob)
    seen = [
        [(c.id, c.kind, c.message, c.agents, c.sides) for c in ws.analysis()]
        for ws in (first, second, alice, bob)
    ]
    assert seen[0] == seen[1] == seen[2] == seen[3]
    (finding,) = [c for c in first.analysis() if c.kind == kind]
    assert finding.message.startswith(wording)
    # the situation under test: alice's entry id sorts after bob's
    entries = {s.agent: s.entry for s in finding.sides}
    assert entries["alice"] > entries["bob"]


def test_racing_resolutions_are_named_by_agent_whatever_the_update_order(repo: Path) -> None:
    alice, bob = against_id_order(repo)
    _overlap(alice, bob)
    sync(alice, bob)
    (conflict,) = alice.conflicts()
    alice.resolve_conflict(conflict.id, take="bob")
    bob.resolve_conflict(conflict.id, take="alice")
    first, second = both_orders(repo, alice, bob)
    seen = [[(c.id, c.kind, c.message) for c in ws.analysis()] for ws in (first, second)]
    assert seen[0] == seen[1]
    (race,) = [c for c in first.conflicts() if c.kind == "resolve-resolve"]
    assert race.message.startswith("alice (take bob) and bob (take alice) resolved")


def test_one_line_changed_two_ways_is_an_overlap_even_when_one_edit_is_shared() -> None:
    """From ``200090``, ``100091`` and ``200091`` share their last character edit; the line was
    still changed two ways (the merge would invent ``1000911``)."""
    from crdtspace.conflicts.findings import overlapping

    base, left, right = "v = 200090\n", "v = 100091\n", "v = 200091\n"
    assert overlapping({"text": base}, {"text": left}, {"text": right})
    assert not overlapping({"text": base}, {"text": right}, {"text": right})


def test_three_agents_changing_one_line_are_one_conflict_of_three_sides(repo: Path) -> None:
    """One block of markers, one conflict: not a pair for every two of them."""
    alice, bob = pair(repo)
    carol = Workspace.from_commit(repo, agent="carol")
    for ws, new in ((alice, "int(count) * 2"), (bob, "float(count)"), (carol, "abs(int(count))")):
        edit(ws, "store.py", "int(count)", new)
    sync(alice, bob)
    sync(bob, carol)
    sync(alice, carol)
    found = [ws.conflicts() for ws in (alice, bob, carol)]
    assert found[0] == found[1] == found[2]
    (conflict,) = found[0]
    assert conflict.kind == "overlap"
    assert conflict.agents == ("alice", "bob", "carol")
    assert conflict.message == "alice, bob and carol changed the same lines of parse_line."
    assert conflict.resolutions == ("take alice", "take bob", "take carol", "edit")
    carol.resolve_conflict(conflict.id, take="bob")
    sync(alice, carol)
    sync(bob, carol)
    for ws in (alice, bob, carol):
        assert ws.conflicts() == []
        assert "return name, float(count)\n" in ws.render("store.py")
