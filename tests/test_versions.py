"""Reads carry a version, writes carry a base: no write undoes what its writer had not seen."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace import Workspace
from crdtspace.model.collect import read_version
from crdtspace.model.versions import VersionError, snapshot
from crdtspace.testing import commit_files, git, make_repo
from tests.test_restore import gap_updates

FUNCS = 6
SOURCE = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(FUNCS)).rstrip() + "\n"


def changed(text: str, func: int, mark: str) -> str:
    """`text` with function `func`'s return line given a trailing comment `mark`; a function
    that reads as a conflict block (an open overlap) is resolved to that line instead."""
    start = text.index(f"def f{func}():")
    end = text.find("\ndef ", start)
    end = len(text) if end < 0 else end
    region = text[start:end]
    if "<<<<<<< " in region:
        i = region.index("<<<<<<< ")
        j = region.index("\n", region.index(">>>>>>> ")) + 1
        region = region[:i] + f"    return {func}  # {mark}\n" + region[j:]
    else:
        at = region.index(f"    return {func}")
        eol = region.index("\n", at)
        region = region[:eol] + f"  # {mark}" + region[eol:]
    return text[:start] + region + text[end:]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"m.py": SOURCE})


def kinds(ws: Workspace) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((c.kind, tuple(p.name for p in c.places)) for c in ws.conflicts())


# -- the library -----------------------------------------------------------------------------


def test_a_whole_file_write_from_a_stale_read_keeps_what_arrived_since(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    alice_read = ws.read("m.py", agent="alice")
    bob_read = ws.read("m.py", agent="bob")
    ws.write("m.py", changed(alice_read, 0, "alice"), agent="alice")
    ws.write("m.py", changed(bob_read, 1, "bob"), agent="bob")  # bob never saw alice's edit
    text = ws.render("m.py")
    assert "return 0  # alice" in text
    assert "return 1  # bob" in text
    assert ws.conflicts() == []


def test_a_write_from_a_read_made_before_typing_keeps_the_typing(repo: Path) -> None:
    """Typing on a workspace nobody listens to is held back from pycrdt; a read made before it
    still names the state before it, so a write from that read keeps the typed text (here
    after the agent's own write, whose version the read reuses)."""
    ws = Workspace.from_commit(repo, agent="home")
    seen = ws.read("m.py", agent="alice")
    ws.write("m.py", changed(seen, 0, "first"), agent="alice", base=seen.version)
    seen = ws.read("m.py", agent="alice")
    text = ws.render("m.py")
    at = text.index("return 3") + len("return 3")
    ws.splice("m.py", at, 0, " + 30")  # home types into f3
    ws.write("m.py", changed(seen, 1, "second"), agent="alice", base=seen.version)
    text = ws.render("m.py")
    assert "return 3 + 30" in text
    assert "return 1  # second" in text
    assert "return 0  # first" in text
    assert ws.conflicts() == []


def test_typing_inside_acting_as_is_that_agents(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    with ws.acting_as("alice"):
        text = ws.render("m.py")
        ws.splice("m.py", text.index("return 2") + len("return 2"), 0, " + 20")
    ws.render("m.py")  # (anything after the block: it must not take the typing for home's)
    typed = [e for nid in ws.document.edited_nodes() for e in ws.document.log(nid) if e.edits]
    assert [e.agent for e in typed] == ["alice"]


def test_an_explicit_base_is_honoured_whoever_read_last(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    old = ws.render("m.py")
    ws.replace("m.py::f2", "def f2():\n    return 'two'\n\n\n")
    ws.write("m.py", changed(old, 4, "late"), base=old.version)
    text = ws.render("m.py")
    assert "return 'two'" in text
    assert "return 4  # late" in text


def test_a_node_replace_from_an_older_read_is_concurrent(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    before = ws.read("m.py::f3", agent="bob")
    ws.replace("m.py::f3", before.replace("return 3", "return 30"), agent="alice")
    ws.replace("m.py::f3", before.replace("return 3", "return 33"), agent="bob")
    [conflict] = ws.conflicts()
    assert conflict.kind == "overlap"
    assert conflict.agents == ("alice", "bob")


def test_a_delete_of_a_node_edited_since_is_a_delete_edit(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    ws.read("m.py", agent="bob")
    ws.replace("m.py::f1", "def f1():\n    return 'edited'\n\n\n", agent="alice")
    ws.delete("m.py::f1", agent="bob")
    assert [c.kind for c in ws.conflicts()] == ["delete-edit"]


def test_the_same_change_twice_is_folded(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    a = ws.read("m.py", agent="alice")
    b = ws.read("m.py", agent="bob")
    ws.write("m.py", a.replace("return 5", "return 55"), agent="alice")
    ws.write("m.py", b.replace("return 5", "return 55"), agent="bob")
    assert ws.render("m.py").count("return 55") == 1
    assert ws.conflicts() == []


def test_an_agent_chains_its_own_writes_without_reading(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    mine = ws.read("m.py", agent="alice")
    ws.replace("m.py::f0", "def f0():\n    return 'other'\n\n\n", agent="bob")
    first = changed(mine, 1, "one")
    ws.write("m.py", first, agent="alice")
    ws.write("m.py", changed(first, 2, "two"), agent="alice")  # based on its own first write
    text = ws.render("m.py")
    assert "return 'other'" in text
    assert "return 1  # one" in text
    assert "return 2  # two" in text
    assert ws.conflicts() == []


def test_an_unknown_version_is_an_error_and_changes_nothing(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    with pytest.raises(VersionError, match="not known"):
        ws.write("m.py", "x = 1\n", base="v0000000000000000")
    assert ws.render("m.py") == SOURCE


def test_a_write_from_a_version_yrs_cannot_restore_merges(repo: Path) -> None:
    """An editor (a raw Yjs peer, as through the sync server) types into f1 in three
    keystrokes; bob's read came between the second and the third, and yrs's own restore panics
    on that version (pinned below): the fork is restored by `crdtspace.model.restore`."""
    from pycrdt import Doc, Map, Snapshot

    from crdtspace.model.versions import new_doc

    ws = Workspace.from_commit(repo, agent="home")
    editor = new_doc(77)
    editor.apply_update(ws.update_since())
    nodes = editor.get("nodes", type=Map)
    [f1] = [n for n in nodes.values() if n.get("name") == "f1" and "text" in n]
    at = len(str(f1["text"]).split("return")[0])  # the editor's cursor: before "return 1"

    def keystroke(offset: int, char: str) -> None:
        before = editor.get_state()
        f1["text"].insert(at + offset, char)
        ws.apply_update(editor.get_update(before))

    keystroke(0, "a")
    keystroke(0, "b")  # before the "a": the editor moved its cursor back
    seen = ws.read("m.py", agent="bob")
    keystroke(1, "c")  # between the two
    with pytest.raises(BaseException, match="EndOfBuffer"):  # a pyo3 panic: a BaseException
        Doc.from_snapshot(Snapshot.decode(ws.versions.get(seen.version)), ws.doc)
    assert "bareturn 1" in seen
    ws.write("m.py", changed(seen, 3, "bob"), agent="bob")
    text = ws.render("m.py")
    assert "bcareturn 1" in text  # the editor's third keystroke, which bob had not seen, stays
    assert "return 3  # bob" in text
    assert ws.conflicts() == []


def test_outline_and_read_give_the_same_version_until_a_change(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    outline = ws.outline("m.py")
    text = ws.read("m.py")
    ws.replace("m.py::f0", "def f0():\n    return None\n\n\n")
    assert outline.version == text.version
    assert ws.render("m.py").version != text.version


def test_a_durable_workspace_bases_unread_writes_on_the_last_commit(repo: Path) -> None:
    Workspace.init(repo, agent="home").close()
    with Workspace.open(repo, agent="alice") as ws:
        ws.write("m.py", changed(SOURCE, 0, "alice"))
    with Workspace.open(repo, agent="bob") as ws:  # another process, no read: git's view
        ws.write("m.py", changed(SOURCE, 1, "bob"))
    with Workspace.open(repo, agent="carol") as ws:
        text = ws.render("m.py")
        assert "# alice" in text
        assert "# bob" in text
        assert ws.conflicts() == []


def test_versions_outlive_the_process_and_a_gate_commit(repo: Path) -> None:
    Workspace.init(repo, agent="home").close()
    with Workspace.open(repo, agent="bob") as ws:
        version = ws.read("m.py").version
    with Workspace.open(repo, agent="alice") as ws:
        ws.write("m.py", changed(SOURCE, 0, "alice"))
        assert ws.commit("alice", run_check=False).ok
    with Workspace.open(repo, agent="bob") as ws:
        ws.write("m.py", changed(SOURCE, 3, "bob"), base=version)
        text = ws.render("m.py")
    assert "# alice" in text
    assert "# bob" in text


def test_sync_git_keeps_pending_edits_to_other_functions(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as ws:
        ws.replace("m.py::f4", "def f4():\n    return 'agent'\n\n\n", agent="agent")
        commit_files(repo, {"m.py": changed(SOURCE, 1, "person")}, message="abort")
        report = ws.sync_git()
        assert report.changed
        text = ws.render("m.py")
        assert "return 'agent'" in text
        assert "return 1  # person" in text
        assert ws.conflicts() == []
        # the next unread write is based on the new commit: it keeps the person's change
        ws.write("m.py", changed(changed(SOURCE, 1, "person"), 5, "late"), agent="late")
        text = ws.render("m.py")
        assert "return 'agent'" in text
        assert "# person" in text
        assert "# late" in text


def test_sync_git_against_a_pending_edit_of_the_same_line_is_an_overlap(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as ws:
        ws.replace("m.py::f2", "def f2():\n    return 'agent'\n\n\n", agent="agent")
        commit_files(repo, {"m.py": SOURCE.replace("return 2", "return 'git'")}, message="two")
        ws.sync_git()
        [conflict] = ws.conflicts()
        assert conflict.kind == "overlap"
        assert "agent" in conflict.agents


def test_sync_git_property_pending_edits_survive_outside_commits(repo: Path) -> None:
    rng = random.Random(11)
    with Workspace.init(repo, agent="home") as ws:
        for round_ in range(8):
            mine = rng.sample(range(FUNCS), 2)
            theirs = [f for f in rng.sample(range(FUNCS), 2) if f not in mine]
            for f in mine:
                ws.replace(f"m.py::f{f}", changed(ws.read(f"m.py::f{f}"), f, f"a{round_}"))
            on_disk = git(repo, "show", "HEAD:m.py")
            for f in theirs:
                on_disk = changed(on_disk, f, f"g{round_}")
            commit_files(repo, {"m.py": on_disk}, message=f"round {round_}")
            ws.sync_git()
            text = ws.render("m.py")
            for f in mine:
                assert f"# a{round_}" in text.split(f"def f{f}():")[1].split("def ")[0]
            for f in theirs:
                assert f"# g{round_}" in text.split(f"def f{f}():")[1].split("def ")[0]
            assert ws.conflicts() == []
            assert ws.commit(f"round {round_}", run_check=False).ok
            assert git(repo, "show", "HEAD:m.py") == text


# -- the property: N agents, stale reads, random write order -----------------------------------


@dataclass
class Agent:
    name: str
    text: str | None = None
    version: str | None = None
    seen: set[int] = field(default_factory=set)


@dataclass
class Write:
    agent: str
    funcs: tuple[int, ...]
    seen: frozenset[int]


def step(
    ws: Workspace, agent: Agent, op: str, funcs: set[int], explicit: bool, writes: list[Write]
) -> None:
    """The agent reads the file, or changes `funcs` in what it last read (or wrote) and writes
    it back, with its version as the base (`explicit`) or through its tracked read, or types
    into the file as it is now (an editor: an edit that has seen every write before it). A
    typist's buffer is the file as it is (a write it makes with no version is based on the
    current state: see `Replica.splice`), so its next step reads it."""
    if op == "type":
        if not ws.conflicts():  # (a render with conflict blocks gives no offsets to type at)
            with ws.acting_as(agent.name):
                for f in sorted(funcs):
                    text = ws.render("m.py")
                    at = text.index("\n", text.index(f"def f{f}():") + len(f"def f{f}():\n"))
                    ws.splice("m.py", at, 0, f"  # w{len(writes)}")
            writes.append(Write(agent.name, tuple(sorted(funcs)), frozenset(range(len(writes)))))
            agent.text = None
        return
    if op == "read" or agent.text is None:
        reading = ws.read("m.py", agent=agent.name)
        agent.text, agent.version = reading, reading.version
        agent.seen = set(range(len(writes)))
        return
    text = agent.text
    for f in sorted(funcs):
        text = changed(text, f, f"w{len(writes)}")
    ws.write("m.py", text, agent=agent.name, base=agent.version if explicit else None)
    writes.append(Write(agent.name, tuple(sorted(funcs)), frozenset(agent.seen)))
    agent.seen.add(len(writes) - 1)
    agent.text = text
    agent.version = ws.versions.last_read(agent.name, "m.py")


def assert_outcome(ws: Workspace, writes: list[Write]) -> None:
    """Per function: untouched, or the one write no other write had seen (nothing reverted
    it), or, with several such concurrent writes, an overlap reported (not one picked)."""
    final = ws.render("m.py")
    overlaps = {p.name for c in ws.conflicts() if c.kind == "overlap" for p in c.places}
    for f in range(FUNCS):
        touching = [i for i, w in enumerate(writes) if f in w.funcs]
        heads = [i for i in touching if not any(i in writes[j].seen for j in touching)]
        body = final.split(f"def f{f}():")[1].split("\ndef ")[0]
        if not heads:
            assert body.strip() == f"return {f}", (f, body)
        elif len(heads) == 1:
            assert f"# w{heads[0]}" in body, (f, heads, body)
            assert f"f{f}" not in overlaps
        else:
            assert f"f{f}" in overlaps, (f, heads, body)


ops = st.lists(
    st.tuples(
        st.sampled_from(["read", "write", "write", "type"]),
        st.integers(0, 4),  # which agent (taken modulo the number of agents)
        st.sets(st.integers(0, FUNCS - 1), min_size=1, max_size=2),
        st.booleans(),  # explicit base, or the agent's tracked read
    ),
    min_size=4,
    max_size=24,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(agents=st.integers(2, 5), steps=ops, seed=st.integers(0, 2**16), quiet=st.booleans())
def test_stale_writes_lose_nothing_and_report_every_overlap(
    repo: Path, agents: int, steps: list[tuple[str, int, set[int], bool]], seed: int, quiet: bool
) -> None:
    """`quiet`: nobody listens to the workspace, so typing is held back from pycrdt until
    something reads it (see `ReplicaCore._quiet`)."""
    home = Workspace.from_commit(repo, agent="home")
    updates: list[bytes] = []
    if not quiet:
        home.subscribe(updates.append)
    crew = [Agent(f"agent{i}") for i in range(agents)]
    writes: list[Write] = []
    for op, who, funcs, explicit in steps:
        step(home, crew[who % agents], op, funcs, explicit, writes)

    assert_outcome(home, writes)

    # replicas that get the same updates in any order, with duplicates, agree byte for byte
    if quiet:
        updates = [home.update_since()]
    other = Workspace.from_commit(repo, agent="other")
    shuffled = updates + updates[: len(updates) // 2]
    random.Random(seed).shuffle(shuffled)
    for update in shuffled:
        other.apply_update(update)
    assert other.render_all() == home.render_all()
    assert [c.id for c in other.conflicts()] == [c.id for c in home.conflicts()]


def test_three_agents_on_a_real_package_write_from_stale_reads(tmp_path: Path) -> None:
    """A real project's sources (the standard library's `json` package, from this Python):
    three agents read the same file, think, and write it whole back in another order."""
    import json

    source = Path(json.__file__).parent
    files = {
        f"json/{n}": (source / n).read_text(encoding="utf-8")
        for n in ("__init__.py", "decoder.py", "encoder.py", "scanner.py")
    }
    repo = make_repo(tmp_path / "real", files)
    Workspace.init(repo, agent="home").close()
    path = "json/decoder.py"
    with Workspace.open(repo, agent="home") as ws:
        reads = {a: ws.read(path, agent=a) for a in ("alice", "bob", "carol")}
    # each agent changes a different function of the same file, from the same old read
    edits = {
        "alice": ("def py_scanstring(", "def py_scanstring(  # alice\n        "),
        "bob": ("def JSONObject(", "def JSONObject(  # bob\n        "),
        "carol": ("def JSONArray(", "def JSONArray(  # carol\n        "),
    }
    for agent in ("carol", "alice", "bob"):  # one process per write, like the CLI
        with Workspace.open(repo, agent=agent) as ws:
            old, new = edits[agent]
            assert reads[agent].count(old) == 1
            ws.write(path, reads[agent].replace(old, new))
    with Workspace.open(repo, agent="check") as ws:
        text = ws.render(path)
        for _old, new in edits.values():
            assert new in text
        assert ws.conflicts() == []
        assert ws.commit("three agents", run_check=False).ok
    assert git(repo, "show", f"HEAD:{path}") == text


# -- the same property through durable workspaces, one process per command (as the CLI) -------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(agents=st.integers(2, 4), steps=ops)
def test_stale_writes_through_reopened_durable_workspaces(
    tmp_path_factory: pytest.TempPathFactory,
    agents: int,
    steps: list[tuple[str, int, set[int], bool]],
) -> None:
    """Every read and write opens the durable workspace anew (as `crdtspace show` and
    `crdtspace write --agent` do): tracked reads and explicit versions outlive the process."""
    repo = make_repo(tmp_path_factory.mktemp("durable") / "repo", {"m.py": SOURCE})
    Workspace.init(repo, agent="init").close()
    crew = [Agent(f"agent{i}") for i in range(agents)]
    writes: list[Write] = []
    for op, who, funcs, explicit in steps:
        agent = crew[who % agents]
        with Workspace.open(repo, agent=agent.name) as ws:
            step(ws, agent, op, funcs, explicit, writes)
    with Workspace.open(repo, agent="check") as ws:
        assert_outcome(ws, writes)


def test_a_workspace_from_before_versions_says_so_and_keeps_working(repo: Path) -> None:
    from crdtspace import CrdtspaceWarning

    with Workspace.init(repo, agent="home") as ws, ws.transaction("as made before versions"):
        del ws.document.meta["base_version"]
    with pytest.warns(CrdtspaceWarning, match="predates versions"):
        ws = Workspace.open(repo, agent="alice")
    with ws:
        ws.write("m.py", changed(SOURCE, 0, "alice"))
        assert "# alice" in ws.render("m.py")
        ws.sync_git()  # nothing new, but it needs the base commit's version
    with Workspace.open(repo, agent="bob") as ws:  # recorded once: no warning again
        ws.write("m.py", changed(SOURCE, 1, "bob"))
        text = ws.render("m.py")
    assert "# alice" in text
    assert "# bob" in text


def test_a_write_over_the_size_limit_is_refused_at_once(repo: Path) -> None:
    import time

    from crdtspace import DocumentError
    from crdtspace.git import gitio

    ws = Workspace.from_commit(repo, agent="home")
    huge = "x = 1\n" * (gitio.DEFAULT_SIZE_LIMIT // 6 + 10)
    began = time.monotonic()
    with pytest.raises(DocumentError, match="size limit"):
        ws.write("m.py", huge)
    assert time.monotonic() - began < 2
    assert ws.render("m.py") == SOURCE


def test_a_compacted_log_leaves_out_deleted_text_and_every_kept_version_still_works(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reopening a long log compacts it to the document without the deleted content no kept
    version shows (crdtspace.model.collect): writes from versions read before still merge."""
    from crdtspace.git import workspaces

    Workspace.init(repo, agent="home").close()
    with Workspace.open(repo, agent="bob") as ws:
        bob = ws.read("m.py")
        bob_version = bob.version
    with Workspace.open(repo, agent="alice") as ws:
        at = SOURCE.index("return 5") + len("return 5")
        for i in range(40):  # typed and deleted again in one typing session, never read
            ws.splice("m.py", at, 0, f"  # scratch {i}")
            ws.splice("m.py", at, len(f"  # scratch {i}"), "")
        ws.write("m.py", changed(SOURCE, 0, "alice"))
        state = ws.stored_update()
        whole = bytes(ws.doc.get_update())
        render = ws.render("m.py")
    # The 40 runs typed and deleted again are gone from the text; the log's entries, which
    # say who typed and deleted what, keep theirs (two a run).
    assert whole.count(b"scratch") == 120
    assert state.count(b"scratch") == 80
    assert len(state) < len(whole) - 400
    log = repo / ".git" / "crdtspace"
    monkeypatch.setattr(workspaces, "COMPACT_AFTER", 1)
    with Workspace.open(repo, agent="carol") as ws:
        assert ws.render("m.py") == render
    size = sum(f.stat().st_size for f in log.rglob("updates.log"))
    assert size < len(whole) - 400
    with Workspace.open(repo, agent="bob") as ws:
        assert ws.render("m.py") == render
        ws.write("m.py", changed(str(bob), 3, "bob"), base=bob_version)
        text = ws.render("m.py")
    assert "# alice" in text
    assert "# bob" in text
    assert "scratch" not in text


_PARSE = "def parse(line):\n    return line.split()\n\n\ndef other():\n    pass\n"


def test_writes_from_the_last_read_after_identical_inserts_restore(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": _PARSE})
    texts = [_PARSE.split("\n\n\n")[0] + "\n", "def parse(line):\n    return None\n"]
    for seed in range(150):  # (client ids are random: a run hits it about one time in ten)
        rnd = random.Random(seed)
        replicas = [Workspace.from_commit(repo, agent=f"agent{i}") for i in range(3)]
        sent: list[bytes] = []
        for ws in replicas:
            ws.subscribe(sent.append)
        for _ in range(20):
            actor = rnd.choice(replicas)
            if rnd.random() < 0.7:
                actor.replace("app.py::parse", rnd.choice(texts))
            else:
                other = next(e.key for e in actor.outline("app.py") if e.qualname == "other")
                actor.insert(
                    actor.document.roots("app.py")[0], other, "\n\ndef extra():\n    pass\n"
                )
            if rnd.random() < 0.6 and sent:
                target = rnd.choice(replicas)
                for update in rnd.sample(sent, k=rnd.randint(1, len(sent))):
                    target.apply_update(update)


def test_a_replicas_versions_show_what_it_holds_past_a_gap(repo: Path) -> None:
    """A replica's versions leave out looking for items held past a gap in a client's clocks
    once a look found none (it costs milliseconds with many clients), until a merge holds an
    update back: a version taken while yrs holds "Z" past a missing "d" shows "Z", as the
    full look does, and once "d" arrives the look finds nothing again."""
    ws = Workspace.from_commit(repo, agent="reader")
    ws.version()  # (a look: nothing past a gap)
    updates = gap_updates()
    for index in (0, 2):  # (the "d" missing: "Z" lies past the gap it leaves)
        ws.apply_update(updates[index])
    seen = ws.versions.get(ws.version())
    assert seen == snapshot(ws.doc)
    assert read_version(seen)[2] == {1: [(4, 5)]}
    ws.apply_update(updates[1])
    filled = ws.versions.get(ws.version())
    assert filled == snapshot(ws.doc)
    assert read_version(filled)[2] == {}
