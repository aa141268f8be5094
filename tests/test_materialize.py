"""An open overlap reads as both sides and their base, never as interleaved characters."""

from __future__ import annotations

import itertools
import json
import random
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crdtspace import Workspace, sync
from crdtspace.cli import app
from crdtspace.errors import DocumentError
from crdtspace.model.materialize import MARKERS, OPEN, Sides, block, has_markers, merge3
from crdtspace.testing import make_repo
from tests.conflict_views import conflict_blocks, take_side

SOURCE = (
    'def debug():\n    """Whether debug mode is on."""\n    return False\n\n\n'
    "def other():\n    return 2\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"m.py": SOURCE})


def overlapped(ws: Workspace) -> None:
    """alice and bob rewrite the same docstring line from one read."""
    a = ws.read("m.py", agent="alice")
    b = ws.read("m.py", agent="bob")
    ws.write("m.py", a.replace("Whether debug mode is on", "True when debugging"), agent="alice")
    ws.write("m.py", b.replace("Whether debug mode is on", "Tells if debug is on"), agent="bob")


VIEW = (
    "def debug():\n"
    "<<<<<<< alice\n"
    '    """True when debugging."""\n'
    "||||||| base\n"
    '    """Whether debug mode is on."""\n'
    "=======\n"
    '    """Tells if debug is on."""\n'
    ">>>>>>> bob\n"
    "    return False\n\n\n"
    "def other():\n    return 2\n"
)


def test_an_overlap_reads_as_both_sides_and_the_base(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    assert [c.kind for c in ws.conflicts()] == ["overlap"]
    assert ws.render("m.py") == VIEW
    assert ws.read("m.py::debug") == VIEW.split("\n\n\n")[0] + "\n"
    # the document keeps the CRDT's merge; only reads materialize it
    assert "<<<<<<<" not in ws.document.render("m.py")


def test_every_replica_shows_the_same_bytes_whatever_the_order(repo: Path) -> None:
    home = Workspace.from_commit(repo, agent="home")
    updates: list[bytes] = []
    home.subscribe(updates.append)
    overlapped(home)
    for seed in range(5):
        other = Workspace.from_commit(repo, agent=f"r{seed}")
        shuffled = updates + updates[:1]
        random.Random(seed).shuffle(shuffled)
        for update in shuffled:
            other.apply_update(update)
        assert other.render("m.py") == VIEW
        assert [c.id for c in other.conflicts()] == [c.id for c in home.conflicts()]


def test_a_view_given_back_unchanged_leaves_the_conflict_open(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    seen = ws.read("m.py", agent="carol")
    ws.write("m.py", seen.replace("return 2", "return 22"), agent="carol")
    assert [c.kind for c in ws.conflicts()] == ["overlap"]
    assert ws.render("m.py") == VIEW.replace("return 2", "return 22")


def test_writing_the_node_without_markers_resolves_it(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    seen = ws.read("m.py::debug", agent="carol")
    assert has_markers(seen)
    ws.replace(
        "m.py::debug",
        'def debug():\n    """True when debug is on."""\n    return False\n',
        agent="carol",
    )
    assert ws.conflicts() == []
    assert ws.render("m.py") == SOURCE.replace("Whether debug mode is on", "True when debug is on")


def test_a_text_that_keeps_markers_is_refused_and_changes_nothing(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    seen = ws.read("m.py", agent="carol")
    with pytest.raises(DocumentError, match="conflict markers"):
        ws.write("m.py", seen.replace("True when debugging", "True when debugging!"), agent="carol")
    assert ws.render("m.py") == VIEW


def test_merge3_merges_separate_lines_and_blocks_clashing_ones() -> None:
    base = "a\nb\nc\nd\n"
    assert merge3(base, ("x", "A\nb\nc\nd\n"), ("y", "a\nb\nc\nD\n")) == "A\nb\nc\nD\n"
    assert merge3(base, ("x", "a\nB\nc\nd\n"), ("y", "a\nB\nc\nd\n")) == "a\nB\nc\nd\n"
    clash = merge3(base, ("x", "a\nX\nc\nd\n"), ("y", "a\nY\nc\nd\n"))
    assert clash == "a\n<<<<<<< x\nX\n||||||| base\nb\n=======\nY\n>>>>>>> y\nc\nd\n"
    no_newline = merge3("a", ("x", "b"), ("y", "c"))
    assert no_newline == "<<<<<<< x\nb\n||||||| base\na\n=======\nc\n>>>>>>> y\n"


def test_three_sides_are_one_block_with_a_section_each() -> None:
    text = block("base\n", [("a", "1\n"), ("b", "2\n"), ("c", "3\n")])
    assert text == "<<<<<<< a\n1\n||||||| base\nbase\n======= b\n2\n=======\n3\n>>>>>>> c\n"


def test_cli_conflicts_json_carries_the_base_and_each_side(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as ws:
        overlapped(ws)
    result = CliRunner().invoke(app, ["-C", str(repo), "conflicts", "--json"])
    assert result.exit_code == 1, result.output
    [conflict] = json.loads(result.output)["conflicts"]
    assert conflict["kind"] == "overlap"
    assert '"""Whether debug mode is on."""' in conflict["base_text"]
    sides = {s["agent"]: s["text"] for s in conflict["side_texts"]}
    assert '"""True when debugging."""' in sides["alice"]
    assert '"""Tells if debug is on."""' in sides["bob"]


def test_cli_resolve_edit_shows_both_sides_and_the_base(repo: Path, tmp_path: Path) -> None:
    with Workspace.init(repo, agent="home") as ws:
        overlapped(ws)
        [conflict] = ws.conflicts()
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import shutil, sys\n"
        f"shutil.copy(sys.argv[1], {str(seen)!r})\n"
        "open(sys.argv[1], 'w').write("
        '\'def debug():\\n    """On when debugging."""\\n    return False\\n\')\n',
        encoding="utf-8",
    )
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    import sys

    result = CliRunner().invoke(
        app,
        ["-C", str(repo), "resolve", conflict.id, "--edit"],
        env={"EDITOR": f"{sys.executable} {editor}"},
    )
    assert result.exit_code == 0, result.output
    shown = seen.read_text(encoding="utf-8")
    assert "<<<<<<< alice" in shown
    assert "||||||| base" in shown
    assert ">>>>>>> bob" in shown
    with Workspace.open(repo, agent="check") as ws:
        assert ws.conflicts() == []
        assert '"""On when debugging."""' in ws.render("m.py")


def test_three_sides_keep_the_lines_they_share_outside_the_block(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    reads = {a: ws.read("m.py", agent=a) for a in ("alice", "bob", "carol")}
    for agent, text in reads.items():
        ws.write("m.py", text.replace("return 2", f"return '{agent}'"), agent=agent)
    assert ws.render("m.py") == (
        SOURCE.split("def other")[0]
        + "def other():\n<<<<<<< alice\n    return 'alice'\n||||||| base\n    return 2\n"
        "======= bob\n    return 'bob'\n=======\n    return 'carol'\n>>>>>>> carol\n"
    )


def test_a_resolution_made_from_an_older_read_keeps_what_changed_since(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    [conflict] = ws.conflicts()
    seen = ws.read("m.py::debug", agent="carol")
    ws.replace("m.py::other", "\n\ndef other():\n    return 'dave'\n", agent="dave")
    resolved = 'def debug():\n    """On when debugging."""\n    return False\n'
    ws.resolve_conflict(conflict.id, text=resolved, base=seen.version)
    assert ws.conflicts() == []
    text = ws.render("m.py")
    assert '"""On when debugging."""' in text
    assert "return 'dave'" in text


def test_a_resolution_racing_another_on_the_node_is_reported_not_lost(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    [conflict] = ws.conflicts()
    seen = ws.read("m.py::debug", agent="carol")
    ws.resolve_conflict(conflict.id, take="alice")  # someone else resolves it meanwhile
    resolved = 'def debug():\n    """On when debugging."""\n    return False\n'
    with pytest.raises(DocumentError, match="no open conflict"):
        ws.resolve_conflict(conflict.id, text=resolved, base=seen.version)
    ws.replace("m.py::debug", resolved, base=seen.version, agent="carol")
    [race] = ws.conflicts()  # carol's text and alice's are both kept, and reported
    assert race.kind == "overlap"
    assert set(race.agents) == {"carol", "home"}


def test_two_agents_resolving_one_overlap_differently_are_reported(repo: Path) -> None:
    """Both saw both sides (a criss-cross): one keeps alice's text, the other writes its own.
    Judged against the merge they both started from, they changed the same lines twice."""
    ws = Workspace.from_commit(repo, agent="home")
    overlapped(ws)
    carol = ws.read("m.py", agent="carol")
    dave = ws.read("m.py", agent="dave")
    start, end = carol.index("<<<<<<< "), carol.index("\n", carol.index(">>>>>>> ")) + 1
    keep_alice = carol[:start] + '    """True when debugging."""\n' + carol[end:]
    ws.write("m.py", keep_alice, agent="carol")
    ws.write("m.py", dave[:start] + '    """Debugging?"""\n' + dave[end:], agent="dave")
    [race] = ws.conflicts()
    assert race.kind == "overlap"
    assert race.agents == ("carol", "dave")


# -- several replicas on one line -----------------------------------------------------------

LINE = "def f(x):\n    return x + 0\n\n\ndef g(x):\n    return x\n"
AGENTS = ("alice", "bob", "carol", "dave")


def one_line_from_four_replicas(repo: Path) -> list[Workspace]:
    """Four replicas each rewrite f's return line while apart, then exchange everything."""
    replicas = [Workspace.from_commit(repo, agent=agent) for agent in AGENTS]
    for ws in replicas:
        ws.replace("m.py::f", f"def f(x):\n    return x + 1  # {ws.agent}\n")
    for a, b in itertools.combinations(replicas, 2):
        sync(a, b)
    return replicas


@pytest.fixture
def one_line_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "line", {"m.py": LINE})


def test_four_replicas_rewriting_one_line_read_as_one_block(one_line_repo: Path) -> None:
    replicas = one_line_from_four_replicas(one_line_repo)
    views = [ws.read("m.py::f") for ws in replicas]
    assert all(view == views[0] for view in views)
    [block] = conflict_blocks(views[0])
    assert block.base == "    return x + 0\n"
    assert block.sides == tuple((a, f"    return x + 1  # {a}\n") for a in AGENTS)
    assert views[0].count(OPEN) == 1


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda v: v.rpartition("return")[0] + "return 9\n", id="before-the-last-side"),
        pytest.param(lambda v: v.replace(">>>>>>> dave\n", ""), id="without-the-closing-line"),
        pytest.param(lambda v: "def f(x):\n" + v[v.rindex("=======\n") :].split(">")[0], id="tail"),
        pytest.param(lambda v: v.replace("||||||| base\n    return x + 0\n", ""), id="no-base"),
    ],
)
def test_a_piece_of_a_block_written_back_is_refused(
    one_line_repo: Path, cut: Callable[[str], str]
) -> None:
    """A cut of a view (the soak's agent once wrote the text before the last ``return``)
    would put marker lines into the document as code, and later views would nest them."""
    [ws, *_] = one_line_from_four_replicas(one_line_repo)
    view = ws.read("m.py::f")
    before = ws.document.render("m.py")
    with pytest.raises(DocumentError, match="conflict markers"):
        ws.replace("m.py::f", cut(view))
    assert ws.document.render("m.py") == before
    assert ws.read("m.py::f") == view


@pytest.mark.parametrize("side", range(len(AGENTS)))
def test_a_side_taken_from_the_block_resolves_it_on_every_replica(
    one_line_repo: Path, side: int
) -> None:
    replicas = one_line_from_four_replicas(one_line_repo)
    resolver = replicas[side - 1]  # (another replica than the side's own)
    resolver.replace("m.py::f", take_side(resolver.read("m.py::f"), side))
    for a, b in itertools.combinations(replicas, 2):
        sync(a, b)
    expected = LINE.replace("x + 0", f"x + 1  # {AGENTS[side]}")
    for ws in replicas:
        assert ws.conflicts() == []
        assert ws.render("m.py") == expected
        assert ws.document.render("m.py") == expected


def test_lines_shaped_like_markers_in_the_code_may_be_kept(tmp_path: Path) -> None:
    """Only markers the view added are refused: a file that holds such lines as content
    (a merge test's fixture, say) is written as usual while one of its nodes is in overlap."""
    fixture = 'FIXTURE = """\n<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n"""\n\n\n'
    repo = make_repo(tmp_path / "fixture", {"m.py": fixture + LINE})
    ws = Workspace.from_commit(repo, agent="home")
    reads = {a: ws.read("m.py", agent=a) for a in AGENTS[:3]}
    for agent, text in reads.items():
        ws.write("m.py", text.replace("x + 0", f"x + {agent}"), agent=agent)
    seen = ws.read("m.py", agent="dave")
    assert len(conflict_blocks(seen.split('"""')[2])) == 1
    ws.write("m.py", seen.replace("return x\n", "return -x\n"), agent="dave")
    assert "return -x" in ws.document.render("m.py")
    assert ws.render("m.py").count(OPEN) == 2  # the fixture's, and the open overlap's
    conflict = ws.conflicts()[0]  # (one overlap a pair: three sides, three conflicts)
    ws.resolve_conflict(conflict.id, text=take_side(ws.read("m.py::f"), 1))
    assert ws.conflicts() == []
    expected = fixture + LINE.replace("x + 0", "x + bob").replace("return x\n", "return -x\n")
    assert ws.render("m.py") == expected


# -- the view's shape, by property ----------------------------------------------------------

BASE_LINES = [f"line {n}\n" for n in range(6)]


@st.composite
def concurrent_sides(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A base of a few lines and 2 to 5 sides, each rewriting, adding or dropping lines."""
    size = draw(st.integers(1, len(BASE_LINES)))
    base = BASE_LINES[:size]
    sides = []
    for n in range(draw(st.integers(2, 5))):
        lines = list(base)
        for at in draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=3)):
            action = draw(st.sampled_from(["rewrite", "add", "drop"]))
            at = min(at, len(lines) - 1) if lines else 0
            if action == "rewrite" and lines:
                lines[at] = f"side {n} {draw(st.integers(0, 3))}\n"
            elif action == "add":
                lines.insert(at, f"new {n}\n")
            elif lines:
                del lines[at]
        sides.append((f"agent{n}", "".join(lines)))
    return "".join(base), sides


@settings(max_examples=300, deadline=None)
@given(concurrent_sides())
def test_any_number_of_sides_reads_as_well_formed_blocks(
    case: tuple[str, list[tuple[str, str]]],
) -> None:
    base, sides = case
    view = Sides("n", {"text": base}, tuple((a, {"text": t}) for a, t in sides)).view("text")
    blocks = conflict_blocks(view)  # (fails on a nested, unclosed or stray marker)
    texts = [text for _, text in sides]
    if len(set(texts)) == 1:
        assert view == texts[0]
        return
    if len(sides) > 2:  # one block, a section per side: each side's text can be taken back
        assert len(blocks) == 1
        assert [take_side(view, n) for n in range(len(sides))] == texts
        assert [name for name, _ in blocks[0].sides] == [agent for agent, _ in sides]
    lines = view.splitlines(keepends=True)
    for end in range(len(lines) + 1):  # any cut that keeps a marker line is refused
        cut = "".join(lines[:end])
        assert has_markers(cut) == any(line[:7] in MARKERS for line in lines[:end])


KLASS = "class K:\n    def a(self):\n        return 1\n\n    def b(self):\n        return 2\n"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), steps=st.integers(2, 14))
def test_a_files_overlaps_are_found_by_a_walk_as_by_every_edited_node(
    tmp_path_factory: pytest.TempPathFactory, seed: int, steps: int
) -> None:
    """`in_file` over many edited nodes walks the file's nodes instead of asking every edited
    node: the same overlaps, whatever the agents did (overlaps in both files, moves between
    them, deletions, a file both created)."""
    from crdtspace.model.materialize import in_file

    rnd = random.Random(seed)
    repo = make_repo(tmp_path_factory.mktemp("walk"), {"m.py": SOURCE, "k.py": KLASS})
    spaces = [Workspace.from_commit(repo, agent=name) for name in ("alice", "bob", "carol")]
    for step in range(steps):
        ws = rnd.choice(spaces)
        what = rnd.choice(["edit", "edit", "move", "delete", "create", "sync"])
        try:
            if what == "edit":
                ref = rnd.choice(["m.py::debug", "m.py::other", "k.py::K.a", "k.py::K.b"])
                text = ws.read(ref)
                ws.replace(ref, text.replace("return", f"return {step} +", 1))
            elif what == "move":
                ws.move(rnd.choice(["m.py::other", "k.py::K.b"]), rnd.choice(["m.py", "k.py"]))
            elif what == "delete":
                ws.delete(rnd.choice(["m.py::other", "k.py::K.a"]))
            elif what == "create":
                ws.write("new.py", f"def made_by_{ws.agent}():\n    return {step}\n")
            else:
                sync(ws, rnd.choice(spaces))
        except DocumentError:
            pass  # (a node another step took away)
    sync(spaces[0], spaces[1])
    sync(spaces[1], spaces[2])
    sync(spaces[0], spaces[2])
    document = spaces[0].document
    for path in [*document.paths(), "gone.py"]:
        assert in_file(document, path, walk_above=0) == in_file(document, path, walk_above=10**9)
