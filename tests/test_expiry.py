"""Expiring last reads (`crdtspace.model.versions`): a read older than the TTL expires at the next
squash, its history can be folded, and a write from it is refused, never based on another
version. Time is a clock the tests move, never a sleep."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_versions import SOURCE, changed

from crdtspace import Workspace
from crdtspace.agents.tools import Session, ToolError
from crdtspace.model.versions import STORE_NAME, VersionError, VersionStore, read_ttl
from crdtspace.testing import make_repo

HOUR = 3600.0
EXPIRED = re.compile(
    r"Your read of m\.py \(version v[0-9a-f]{16}, at \d\d:\d\d\) expired after 1 h without a "
    r"write; read the file again and redo your edit from it\."
)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"m.py": SOURCE})


def timed(ws: Workspace, ttl: float = HOUR) -> Clock:
    clock = Clock()
    ws.versions.clock = clock
    ws.versions.ttl = ttl
    return clock


def alice_writes(ws: Workspace, times: int = 3) -> None:
    for i in range(times):
        ws.write("m.py", changed(ws.read("m.py", agent="alice"), 0, f"a{i}"), agent="alice")


def entries(ws: Workspace) -> int:
    return sum(len(ws.document.log(n)) for n in ws.document.edited_nodes())


def commit_and_squash(ws: Workspace) -> None:
    """As the gate does: a commit, a squash, the commit's version taken anew (twice: the
    versions alice's writes handed out live through one squash)."""
    for _ in range(2):
        ws.committed("c" * 40)
        if ws.squash_history():
            ws.committed("c" * 40)


def test_a_read_within_the_ttl_then_a_stale_write_merges(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    clock = timed(ws)
    bob = ws.read("m.py", agent="bob")
    alice_writes(ws)
    clock.now += HOUR - 60
    commit_and_squash(ws)
    ws.write("m.py", changed(str(bob), 3, "bob"), agent="bob")
    text = ws.render("m.py")
    assert "# a2" in text
    assert "# bob" in text
    assert ws.conflicts() == []


def test_a_read_past_the_ttl_is_refused_after_a_squash_and_changes_nothing(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    clock = timed(ws)
    bob = ws.read("m.py", agent="bob")
    alice_writes(ws)
    clock.now += HOUR + 1
    commit_and_squash(ws)
    before, state = ws.render("m.py"), ws.state()
    # Every write that would be based on bob's read: refused, whatever its kind.
    with pytest.raises(VersionError, match=EXPIRED):
        ws.write("m.py", changed(str(bob), 3, "bob"), agent="bob")
    with pytest.raises(VersionError, match=EXPIRED):
        ws.replace("m.py::f3", "def f3():\n    return 33\n", agent="bob")
    with pytest.raises(VersionError, match=EXPIRED):
        ws.delete("m.py::f3", agent="bob")
    with pytest.raises(VersionError, match=EXPIRED), ws.acting_as("bob"):
        ws.write("m.py", changed(str(bob), 3, "bob"))
    # Naming the expired version: unknown, and said why.
    with pytest.raises(VersionError, match=r"expired after 1 h without a write"):
        ws.write("m.py", changed(str(bob), 3, "bob"), agent="bob", base=bob.version)
    assert ws.render("m.py") == before
    assert ws.state() == state
    # Others are not concerned; bob reads again and his write goes through.
    ws.write("m.py", changed(ws.read("m.py", agent="carol"), 4, "carol"), agent="carol")
    again = ws.read("m.py", agent="bob")
    ws.write("m.py", changed(str(again), 3, "bob"), agent="bob")
    text = ws.render("m.py")
    assert "# a2" in text
    assert "# carol" in text
    assert "# bob" in text


def test_a_write_from_a_version_given_clears_the_mark(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="home")
    clock = timed(ws)
    ws.read("m.py", agent="bob")
    alice_writes(ws, 1)
    clock.now += 2 * HOUR
    commit_and_squash(ws)
    fresh = ws.read("m.py", agent="carol")
    ws.write("m.py", changed(str(fresh), 3, "bob"), agent="bob", base=fresh.version)
    ws.write("m.py", changed(ws.render("m.py"), 4, "bob2"), agent="bob")  # (from his write)
    assert "# bob2" in ws.render("m.py")


def test_the_squash_after_expiry_folds_what_the_read_had_pinned(repo: Path) -> None:
    sizes, counts = [], []
    for late in (False, True):
        ws = Workspace.from_commit(repo, agent="home")
        clock = timed(ws)
        ws.read("m.py", agent="bob")
        alice_writes(ws, 8)
        clock.now += 2 * HOUR if late else 60
        before = entries(ws)
        commit_and_squash(ws)
        counts.append((before, entries(ws)))
        sizes.append(len(ws.stored_update()))
    (held_before, held), (expired_before, folded) = counts
    assert held == held_before  # bob's read pinned alice's entries
    assert folded < expired_before
    assert folded == len([n for n in ws.document.edited_nodes() if ws.document.log(n)])
    assert sizes[1] < sizes[0]


def test_an_expired_read_is_remembered_across_processes(repo: Path) -> None:
    Workspace.init(repo, agent="home").close()
    clock = Clock()
    with Workspace.open(repo, agent="bob") as ws:
        ws.versions.clock = clock
        bob = ws.read("m.py")
        bob_text, bob_version = str(bob), bob.version  # (the version makes the read stick)
    with Workspace.open(repo, agent="alice") as ws:
        ws.versions.clock = clock
        alice_writes(ws, 2)
        clock.now += 2 * HOUR
        ws.versions.ttl = HOUR
        commit_and_squash(ws)
    records = [json.loads(line) for line in _store(repo).read_text().splitlines()]
    assert any(r.get("x", [None])[:2] == ["bob", "m.py"] for r in records)
    with Workspace.open(repo, agent="carol") as ws:
        render = ws.render("m.py")  # (a render is a read: not bob's)
    with Workspace.open(repo, agent="bob") as ws:
        with pytest.raises(VersionError, match=EXPIRED):
            ws.write("m.py", changed(bob_text, 3, "bob"))
        with pytest.raises(VersionError, match="expired"):
            ws.write("m.py", changed(bob_text, 3, "bob"), base=bob_version)
    with Workspace.open(repo, agent="carol") as ws:
        assert ws.render("m.py") == render
    with Workspace.open(repo, agent="bob") as ws:
        ws.write("m.py", changed(ws.read("m.py"), 3, "bob"))
    with Workspace.open(repo, agent="bob") as ws:  # the new read is remembered too
        ws.write("m.py", changed(ws.render("m.py"), 4, "bob2"))
        text = ws.render("m.py")
    assert "# a1" in text
    assert "# bob" in text
    assert "# bob2" in text


def _store(repo: Path) -> Path:
    [path] = (repo / ".git" / "crdtspace").rglob(STORE_NAME)
    return path


def test_reads_recorded_without_a_time_count_as_read_at_load(tmp_path: Path) -> None:
    old = '{"v":"v0000000000000001","s":"AA=="}\n{"r":["bob","m.py","v0000000000000001"]}\n'
    (tmp_path / STORE_NAME).write_text(old)
    clock = Clock()
    store = VersionStore(tmp_path, ttl=HOUR, clock=clock)
    clock.now += HOUR - 1
    store.squashed()  # (not yet: it counts as read when loaded)
    assert store.last_read("bob", "m.py") == "v0000000000000001"
    assert store.expired_read("bob", "m.py") is None
    # Its time was written down: a later process expires it a TTL after that load.
    later = VersionStore(tmp_path, ttl=HOUR, clock=clock)
    clock.now += 2
    later.squashed()
    assert later.last_read("bob", "m.py") is None
    gone = later.expired_read("bob", "m.py")
    assert gone is not None
    assert gone.version == "v0000000000000001"
    assert "v0000000000000001" not in later
    reopened = VersionStore(tmp_path, ttl=HOUR, clock=clock)
    assert reopened.expired_read("bob", "m.py") == gone
    reopened.note_read("bob", "m.py", "v0000000000000002")
    assert VersionStore(tmp_path, ttl=HOUR, clock=clock).expired_read("bob", "m.py") is None


def test_a_ttl_of_0_keeps_every_last_read(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRDTSPACE_READ_TTL", "0")
    ws = Workspace.from_commit(repo, agent="home")
    assert ws.versions.ttl == 0
    clock = Clock()
    ws.versions.clock = clock
    bob = ws.read("m.py", agent="bob")
    alice_writes(ws)
    clock.now += 1000 * HOUR
    before = entries(ws)
    commit_and_squash(ws)
    assert entries(ws) == before
    ws.write("m.py", changed(str(bob), 3, "bob"), agent="bob")
    assert "# bob" in ws.render("m.py")
    assert "# a2" in ws.render("m.py")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("", HOUR), ("0", 0), ("never", 0), ("90", 90), ("2h", 7200), ("30m", 1800), (" 1d ", 86400)],
)
def test_the_ttl_setting(raw: str, seconds: float) -> None:
    assert read_ttl(raw) == seconds


@pytest.mark.parametrize("raw", ["soon", "-5", "nan", "1w"])
def test_a_ttl_that_is_not_a_duration_is_an_error(raw: str) -> None:
    from crdtspace import CrdtspaceError

    with pytest.raises(CrdtspaceError, match="CRDTSPACE_READ_TTL"):
        read_ttl(raw)


def test_the_agent_tools_refuse_a_write_from_an_expired_read(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as ws:
        clock = timed(ws)
        session = Session(ws, "bob")
        session.call("read", {"ref": "m.py"})
        alice_writes(ws)
        clock.now += 2 * HOUR
        commit_and_squash(ws)
        render = ws.render("m.py")
        with pytest.raises(ToolError, match=EXPIRED):
            session.call("write_file", {"path": "m.py", "text": changed(SOURCE, 3, "bob")})
        with pytest.raises(ToolError, match=EXPIRED):
            session.call("replace_node", {"ref": "m.py::f3", "text": "def f3():\n    return 33\n"})
        assert ws.render("m.py") == render
        # The edit tool reads afresh: it goes through.
        session.call("edit", {"ref": "m.py::f3", "old": "return 3", "new": "return 33"})
        assert "return 33" in ws.render("m.py")


def test_the_cli_refuses_a_write_from_an_expired_read(repo: Path) -> None:
    from test_cli_versions import run, shown

    assert run(repo, "init", "--agent", "home")[0] == 0
    seen = shown(repo, "m.py", "--agent", "bob")
    with Workspace.open(repo, agent="alice") as ws:
        alice_writes(ws)
        clock = Clock()
        ws.versions.clock = clock
        ws.versions.ttl = HOUR
        clock.now = ws.versions._times[("bob", "m.py")] + 2 * HOUR
        commit_and_squash(ws)
        render = ws.render("m.py")
    stale = changed(seen["text"], 3, "bob")
    code, _, err = run(repo, "write", "m.py", "--agent", "bob", stdin=stale)
    assert code == 4
    assert "Your read of m.py" in err
    assert "expired after 1 h without a write" in " ".join(err.split())
    with Workspace.open(repo, agent="carol") as ws:
        assert ws.render("m.py") == render


def test_an_editors_reads_do_not_expire_while_it_is_watched(tmp_path: Path) -> None:
    """A watch notes the editor's reads itself (each time the workspace changes a file): they
    are the bases of its saves, kept while it runs; they expire once it stops."""
    from crdtspace.live.watch import Watcher

    root = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    ws = Workspace.from_commit(root, agent="home")
    clock = timed(ws)
    watcher = Watcher(ws, root)
    watcher.tick()
    ws.write("m.py", changed(SOURCE, 1, "bob"), agent="bob")
    watcher.tick()  # (bob's change written to disk: the editor's read of it noted)
    assert ws.versions.last_read(watcher.agent, "m.py") is not None
    clock.now += 2 * HOUR
    assert ws.versions.expire() == set()
    watcher.close()
    assert ws.versions.expire()
    assert ws.versions.expired_read(watcher.agent, "m.py") is not None
