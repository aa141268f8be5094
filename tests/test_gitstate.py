"""Git-native state: save, push and pull through a real bare remote and two real clones."""

from __future__ import annotations

import importlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace.cli import app
from crdtspace.errors import GitStateError, PathError, SyncError
from crdtspace.git import gitstate
from crdtspace.testing import commit_files, git, make_repo
from crdtspace.workspace import Workspace

# The commands register themselves on import (cli/__init__ imports them too).
importlib.import_module("crdtspace.cli.state")

SOURCE = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
REF = "refs/crdtspace/default"


@dataclass
class Setup:
    remote: Path
    alice_dir: Path
    bob_dir: Path
    alice: Workspace
    bob: Workspace


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """A bare remote and two clones, each with its own durable workspace of the same commit."""
    origin = make_repo(tmp_path / "origin", {"mod.py": SOURCE, "README.md": "# demo\n"})
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(origin), str(remote))
    alice_dir, bob_dir = tmp_path / "alice", tmp_path / "bob"
    git(tmp_path, "clone", "--quiet", str(remote), str(alice_dir))
    git(tmp_path, "clone", "--quiet", str(remote), str(bob_dir))
    for root in (remote, alice_dir):  # bob's clone has no identity: state commits need none
        git(root, "config", "user.name", "Test User")
        git(root, "config", "user.email", "test@example.com")
    alice = Workspace.init(alice_dir, agent="alice")
    bob = Workspace.init(bob_dir, agent="bob")
    state = Setup(remote, alice_dir, bob_dir, alice, bob)
    try:
        yield state
    finally:  # a test may have reopened one: close the current ones
        state.alice.close()
        state.bob.close()


def edit(workspace: Workspace, old: str, new: str) -> None:
    text = workspace.render("mod.py")
    assert old in text
    workspace.write("mod.py", text.replace(old, new))


def repo_snapshot(root: Path) -> tuple[str, str, str]:
    """What save must never change: HEAD, the branches, the index and the working tree."""
    return (
        git(root, "rev-parse", "HEAD"),
        git(root, "for-each-ref", "refs/heads", "refs/remotes", "refs/tags"),
        git(root, "status", "--porcelain", "--untracked-files=all"),
    )


# --------------------------------------------------------------------------------------------
# save and load


def test_save_writes_a_state_commit_and_load_reads_it(setup: Setup) -> None:
    edit(setup.alice, "return 1", "return 10")
    report = gitstate.save(setup.alice, setup.alice_dir)
    assert report.changed
    assert report.previous is None
    assert report.ref == REF
    assert report.agents == ["alice"]
    assert git(setup.alice_dir, "rev-parse", REF).strip() == report.commit
    names = git(setup.alice_dir, "ls-tree", "--name-only", report.commit).split()
    assert names == ["meta.json", "state.bin"]
    meta = json.loads(git(setup.alice_dir, "cat-file", "blob", f"{report.commit}:meta.json"))
    assert meta["format"] == gitstate.FORMAT
    assert meta["base"] == git(setup.alice_dir, "rev-parse", "HEAD").strip()
    assert meta["agents"] == ["alice"]
    assert str(setup.alice.client_id) in meta["state_vector"]
    update = gitstate.load(setup.alice_dir, REF)
    assert update == setup.alice.update_since(None)
    with Workspace.from_commit(setup.bob_dir, agent="carol") as carol:
        assert gitstate.merge_into(carol, update)
        assert carol.render("mod.py") == setup.alice.render("mod.py")
        assert not gitstate.merge_into(carol, update)  # idempotent: nothing new the second time


def test_save_keeps_a_history_of_states(setup: Setup) -> None:
    first = gitstate.save(setup.alice, setup.alice_dir)
    edit(setup.alice, "return 1", "return 10")
    second = gitstate.save(setup.alice, setup.alice_dir)
    assert second.previous == first.commit
    assert git(setup.alice_dir, "rev-parse", f"{second.commit}^").strip() == first.commit


def test_save_with_nothing_new_does_not_move_the_ref(setup: Setup) -> None:
    first = gitstate.save(setup.alice, setup.alice_dir)
    again = gitstate.save(setup.alice, setup.alice_dir)
    assert not again.changed
    assert again.commit == first.commit
    assert git(setup.alice_dir, "rev-parse", REF).strip() == first.commit


def test_save_never_touches_index_working_tree_or_branches(setup: Setup) -> None:
    root = setup.alice_dir
    (root / "README.md").write_text("# changed, not staged\n")
    (root / "staged.txt").write_text("staged\n")
    git(root, "add", "staged.txt")
    (root / "untracked.txt").write_text("untracked\n")
    before = repo_snapshot(root)
    index = (root / ".git" / "index").read_bytes()
    edit(setup.alice, "return 1", "return 10")
    gitstate.save(setup.alice, root)
    edit(setup.alice, "return 2", "return 20")
    gitstate.save(setup.alice, root)
    assert repo_snapshot(root) == before
    assert (root / ".git" / "index").read_bytes() == index
    assert (root / "README.md").read_text() == "# changed, not staged\n"


def test_save_refuses_when_the_ref_moved_meanwhile(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = gitstate.save(setup.alice, setup.alice_dir)
    edit(setup.alice, "return 1", "return 10")
    real = gitstate._move_ref

    def racing(runner: gitstate._Git, ref: str, new: str, old: str | None) -> None:
        git(setup.alice_dir, "update-ref", ref, git(setup.alice_dir, "rev-parse", "HEAD").strip())
        real(runner, ref, new, old)

    monkeypatch.setattr(gitstate, "_move_ref", racing)
    with pytest.raises(GitStateError, match="moved while the state was being saved"):
        gitstate.save(setup.alice, setup.alice_dir)
    assert git(setup.alice_dir, "rev-parse", REF).strip() != first.commit  # the racer's value


def test_state_ref_survives_gc(setup: Setup) -> None:
    edit(setup.alice, "return 1", "return 10")
    saved = gitstate.save(setup.alice, setup.alice_dir)
    gitstate.push(setup.alice, setup.alice_dir, "origin")
    git(setup.alice_dir, "gc", "--quiet", "--prune=now")
    git(setup.remote, "gc", "--quiet", "--prune=now")
    assert gitstate.load(setup.alice_dir, REF) == setup.alice.update_since(None)
    assert git(setup.alice_dir, "rev-parse", REF).strip() == saved.commit
    gitstate.pull(setup.bob, setup.bob_dir, "origin")
    assert setup.bob.render("mod.py") == setup.alice.render("mod.py")


def test_names_of_refs() -> None:
    assert gitstate.state_ref("team") == "refs/crdtspace/team"
    assert gitstate.remote_ref("origin", "team") == "refs/crdtspace-remote/origin/team"
    assert gitstate.remote_ref("/tmp/x/remote.git") == (
        "refs/crdtspace-remote/tmp_x_remote.git/default"
    )
    assert gitstate.remote_ref("../a..b.lock") == "refs/crdtspace-remote/a_b.lock_/default"
    with pytest.raises(PathError):
        gitstate.state_ref("../escape")


def test_load_without_a_state_is_a_git_state_error(setup: Setup) -> None:
    with pytest.raises(GitStateError, match="no state commit"):
        gitstate.load(setup.alice_dir, REF)


# --------------------------------------------------------------------------------------------
# push and pull


def test_two_clones_converge_through_the_remote(setup: Setup) -> None:
    alice, bob = setup.alice, setup.bob
    edit(alice, "return 1", "return 10")  # alice edits f
    edit(bob, "return 2", "return 20")  # bob edits g
    first = gitstate.push(alice, setup.alice_dir, "origin")
    assert first.pushed
    assert not first.merged
    assert first.sent_bytes > 0
    second = gitstate.push(bob, setup.bob_dir, "origin")  # not a fast-forward: merged
    assert second.merged
    assert second.new_from_remote
    assert second.pushed
    assert second.received_bytes > 0
    assert second.attempts == 2
    assert second.agents == ["alice", "bob"]
    merge = git(setup.remote, "rev-list", "--parents", "-n", "1", REF).split()
    assert len(merge) == 3  # a merge commit of both states
    assert first.commit in merge[1:]
    pulled = gitstate.pull(alice, setup.alice_dir, "origin")
    assert pulled.new
    assert pulled.commit == second.commit
    assert pulled.agents == ["alice", "bob"]
    expected = SOURCE.replace("return 1", "return 10").replace("return 2", "return 20")
    assert alice.render("mod.py") == expected
    assert bob.render("mod.py") == expected
    assert alice.render_all() == bob.render_all()
    assert alice.conflicts() == bob.conflicts() == []
    remote = gitstate.remote_ref("origin")
    assert git(setup.alice_dir, "rev-parse", remote).strip() == second.commit


def test_a_conflict_survives_the_trip(setup: Setup) -> None:
    alice, bob = setup.alice, setup.bob
    edit(alice, "return 1", "return 10")
    edit(bob, "return 1", "return 11")  # the same line
    gitstate.push(alice, setup.alice_dir, "origin")
    gitstate.push(bob, setup.bob_dir, "origin")
    gitstate.pull(alice, setup.alice_dir, "origin")
    assert alice.render_all() == bob.render_all()
    for workspace in (alice, bob):
        overlaps = [c for c in workspace.conflicts() if c.kind == "overlap"]
        assert len(overlaps) == 1
        assert set(overlaps[0].agents) == {"alice", "bob"}
    assert alice.conflicts() == bob.conflicts()


def test_pulled_edits_are_durable(setup: Setup) -> None:
    edit(setup.alice, "return 1", "return 10")
    gitstate.push(setup.alice, setup.alice_dir, "origin")
    gitstate.pull(setup.bob, setup.bob_dir, "origin")
    setup.bob.close()
    setup.bob = Workspace.open(setup.bob_dir, agent="bob")
    assert setup.bob.render("mod.py") == SOURCE.replace("return 1", "return 10")


def test_rounds_of_edits_keep_converging(setup: Setup) -> None:
    alice, bob = setup.alice, setup.bob
    for round_ in range(3):
        edit(alice, f"return {1 + 10 * round_}", f"return {11 + 10 * round_}")
        edit(bob, f"return {2 + 10 * round_}", f"return {12 + 10 * round_}")
        gitstate.push(alice, setup.alice_dir, "origin")
        gitstate.push(bob, setup.bob_dir, "origin")
        gitstate.pull(alice, setup.alice_dir, "origin")
        assert alice.render_all() == bob.render_all()
    assert alice.render("mod.py") == SOURCE.replace("return 1", "return 31").replace(
        "return 2", "return 32"
    )
    # the remote's history: every state commit reachable, merges included
    history = git(setup.remote, "rev-list", "--count", REF).strip()
    assert int(history) >= 6
    assert git(setup.remote, "rev-list", "--merges", REF).split()


def test_push_gives_up_when_the_remote_keeps_moving(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitstate.push(setup.bob, setup.bob_dir, "origin")
    monkeypatch.setattr(gitstate, "_push_once", lambda runner, remote, ref: "rejected")
    with pytest.raises(GitStateError, match="kept moving: 3 pushes"):
        gitstate.push(setup.alice, setup.alice_dir, "origin", attempts=3)


def test_pushing_twice_with_nothing_new_is_a_no_op(setup: Setup) -> None:
    edit(setup.alice, "return 1", "return 10")
    first = gitstate.push(setup.alice, setup.alice_dir, "origin")
    again = gitstate.push(setup.alice, setup.alice_dir, "origin")
    assert first.pushed
    assert not again.pushed
    assert again.sent_bytes == 0
    assert not again.merged
    assert again.commit == first.commit
    assert git(setup.remote, "rev-parse", REF).strip() == first.commit


def test_push_after_pull_with_nothing_new_fast_forwards(setup: Setup) -> None:
    edit(setup.alice, "return 1", "return 10")
    first = gitstate.push(setup.alice, setup.alice_dir, "origin")
    gitstate.save(setup.bob, setup.bob_dir)  # bob's own older state commit
    gitstate.pull(setup.bob, setup.bob_dir, "origin")
    report = gitstate.push(setup.bob, setup.bob_dir, "origin")
    assert report.merged
    assert not report.new_from_remote
    assert not report.pushed  # bob's ref moved to alice's commit: the remote had it all
    assert git(setup.bob_dir, "rev-parse", REF).strip() == first.commit
    assert git(setup.remote, "rev-parse", REF).strip() == first.commit


def test_pull_from_a_remote_without_state(setup: Setup) -> None:
    with pytest.raises(GitStateError, match="has no crdtspace state"):
        gitstate.pull(setup.alice, setup.alice_dir, "origin")


def test_an_unreachable_remote_is_a_git_state_error(setup: Setup, tmp_path: Path) -> None:
    with pytest.raises(GitStateError, match="push"):
        gitstate.push(setup.alice, setup.alice_dir, str(tmp_path / "nowhere.git"))


def corrupt_remote(setup: Setup, state: bytes, meta: dict[str, object] | None = None) -> None:
    """Point the remote's state ref at a commit whose state.bin is ``state``."""
    root = setup.remote
    meta_text = json.dumps(meta if meta is not None else {"format": gitstate.FORMAT})
    blobs = {}
    for name, data in (("state.bin", state), ("meta.json", meta_text.encode())):
        path = root.parent / name
        path.write_bytes(data)
        blobs[name] = git(root, "hash-object", "-w", str(path)).strip()
    listing = "".join(f"100644 blob {sha}\t{name}\n" for name, sha in sorted(blobs.items()))
    tree = _mktree(root, listing)
    commit = git(root, "commit-tree", tree, "-m", "hostile").strip()
    git(root, "update-ref", REF, commit)


def _mktree(root: Path, listing: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "mktree"], input=listing.encode(), capture_output=True, check=True
    )
    return done.stdout.decode().strip()


@pytest.mark.parametrize(
    ("state", "meta", "message"),
    [
        (b"garbage, not an update", None, "not a valid update"),
        (b"\x00\x00", None, "not a crdtspace workspace"),
        (b"", {"format": 99}, "format 99"),
        (b"", {"no": "format"}, "unreadable meta.json"),
    ],
)
def test_a_bad_remote_state_is_refused_and_changes_nothing(
    setup: Setup, state: bytes, meta: dict[str, object] | None, message: str
) -> None:
    bob = setup.bob
    edit(bob, "return 2", "return 20")
    corrupt_remote(setup, state, meta)
    before = bob.update_since(None), bob.render_all()
    with pytest.raises(SyncError, match=message):
        gitstate.pull(bob, setup.bob_dir, "origin")
    with pytest.raises(SyncError, match=message):
        gitstate.push(bob, setup.bob_dir, "origin")  # rejected, fetched, refused
    assert (bob.update_since(None), bob.render_all()) == before
    bob.close()
    setup.bob = Workspace.open(setup.bob_dir, agent="bob")  # the durable log is intact too
    assert setup.bob.render_all() == before[1]


def test_a_state_from_an_unrelated_workspace_is_refused(setup: Setup) -> None:
    commit_files(setup.alice_dir, {"other.py": "x = 1\n"}, "another base")
    with Workspace.init(setup.alice_dir, agent="alice", workspace="other") as other:
        gitstate.push(other, setup.alice_dir, "origin", name="default")
    before = setup.bob.update_since(None)
    with pytest.raises(SyncError, match="shares no history"):
        gitstate.pull(setup.bob, setup.bob_dir, "origin")
    assert setup.bob.update_since(None) == before


# --------------------------------------------------------------------------------------------
# the command line


def run(root: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["-C", str(root), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_cli_push_and_pull(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {"mod.py": SOURCE})
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(origin), str(remote))
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for root in (alice, bob):
        git(tmp_path, "clone", "--quiet", str(remote), str(root))
        assert run(root, "init", "--agent", "x", "--json")[0] == 0
    changed = SOURCE.replace("return 1", "return 10")
    assert run(alice, "write", "mod.py", "--agent", "alice", stdin=changed)[0] == 0
    code, out, err = run(alice, "push", "origin", "--agent", "alice")
    assert code == 0, err
    assert "Pushed refs/crdtspace/default to origin" in out
    assert "agents: alice" in out
    code, out, _ = run(alice, "push", "origin")
    assert code == 0
    assert "origin already has everything" in out
    code, out, err = run(bob, "pull", "origin", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["new"] is True
    assert report["agents"] == ["alice"]
    assert report["received_bytes"] > 0
    assert run(bob, "show", "mod.py")[1] == changed
    code, out, _ = run(bob, "pull", "origin")
    assert code == 0
    assert "nothing new" in out
    code, out, _ = run(bob, "push", str(remote), "--json")  # a path works as well as a name
    assert code == 0
    assert json.loads(out)["merged"] is True


def test_cli_errors_are_one_line_with_an_exit_code(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"mod.py": SOURCE})
    git(tmp_path, "init", "--quiet", "--bare", str(tmp_path / "empty.git"))
    assert run(root, "init", "--agent", "x")[0] == 0
    code, _, err = run(root, "pull", str(tmp_path / "empty.git"))
    assert code == GitStateError.exit_code
    assert err.startswith("error: The remote")
    assert "has no crdtspace state" in err
