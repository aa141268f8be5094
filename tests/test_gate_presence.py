"""The gate knows when a replica is finished: clean closes, crashes, git exchanges, forgetting."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace import Workspace
from crdtspace.cli import app
from crdtspace.cli.commit import served_peers
from crdtspace.cli.common import SERVED_STATUS
from crdtspace.errors import DocumentError
from crdtspace.git import gitstate, presence
from crdtspace.git.gate import behind
from crdtspace.git.presence import Presence
from crdtspace.live.server import running_server
from crdtspace.model.links import connect, sync
from crdtspace.model.logentry import decode_state
from crdtspace.model.replica import Replica
from crdtspace.testing import git, make_repo
from tests.deadlines import end, read_line

TOKEN = "presence-token"
APP = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(6)).rstrip("\n") + "\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"app.py": APP, "README.md": "# demo\n"})
    Workspace.init(root, agent="home").close()
    return root


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def edit(ws: Replica, unit: str, new: str) -> None:
    ref = f"app.py::{unit}"
    head, _, _ = ws.read(ref).rpartition("return")
    ws.replace(ref, f"{head}return {new}\n")


def states(ws: Replica, **options: float) -> dict[str, str]:
    """agent -> state, for the replicas other than `ws` itself."""
    return {p.agent: p.state for p in presence.replicas(ws, **options) if p.state != "this"}


def by_agent(ws: Replica, agent: str, **options: float) -> Presence:
    [found] = [p for p in presence.replicas(ws, **options) if p.agent == agent]
    return found


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["-C", str(root), *args])
    return result.exit_code, result.output


# -- finished: a clean close never blocks ------------------------------------------------------


def test_networked_replicas_that_closed_cleanly_never_block(repo: Path) -> None:
    with running_server(repo, token=TOKEN) as server:
        alice = Workspace.connect(server.url, TOKEN, agent="alice")
        bob = Workspace.connect(server.url, TOKEN, agent="bob")
        carol = Workspace.connect(server.url, TOKEN, agent="carol", root=repo)
        try:
            edit(alice, "f1", "'alice'")
            edit(bob, "f2", "'bob'")
            eventually(lambda: "'alice'" in bob.render("app.py"))
            eventually(lambda: "'bob'" in alice.render("app.py"))
            bob.close()
            alice.close()  # neither waits for anything: their last report is sent on close

            def finished() -> bool:
                with carol.lock:
                    return states(carol) == {"alice": "finished", "bob": "finished"}

            eventually(finished)
            edit(carol, "f3", "'carol'")  # an edit neither of them ever saw
            with carol.lock:
                assert gate_names(carol) == []
            report = carol.commit("after a clean close", run_check=False)
            assert report.ok, report.steps
            assert "2 finished" in report.steps[0].detail
        finally:
            for replica in (alice, bob, carol):
                replica.close()
    # the durable workspace got the records too: a later commit from the command line passes
    (repo / "notes.md").write_text("notes\n")
    code, output = run(
        repo, "write", "README.md", "--agent", "dan", "--from", str(repo / "notes.md")
    )
    assert code == 0, output
    code, output = run(repo, "commit", "-m", "later", "--no-check")
    assert code == 0, output
    code, output = run(repo, "replicas", "--json")
    assert code == 0, output
    every = json.loads(output)["replicas"]
    listed = {r["agent"]: r for r in every if r["state"] != "fork"}
    assert listed["alice"]["state"] == "finished"
    assert listed["bob"]["state"] == "finished"
    assert listed["carol"]["state"] == "finished"
    assert {r["state"] for r in every if r["agent"] == "dan"} <= {"session", "finished", "fork"}
    assert not any(r["blocking"] for r in every)


def gate_names(ws: Replica) -> list[str]:
    return behind(ws)


def test_a_finished_replica_whose_awareness_lingers_is_finished(repo: Path) -> None:
    """A relay may not pass a farewell on (Hocuspocus with Redis, from a node the replica was
    the last client of): its last report says it closed; the gate does not wait for it."""
    with Workspace.open(repo, agent="home") as home:
        alice = Workspace(home.copy_doc(), agent="alice")
        edit(alice, "f1", "'alice'")
        alice.finish()
        home.apply_update(alice.update_since(home.state()))
        edit(home, "f2", "'home'")  # (alice never saw it)
        lingering = presence.Connected(alice.client_id, "alice", dict(decode_state(alice.state())))
        found = [p for p in presence.replicas(home, connected=[lingering]) if p.agent == "alice"]
        assert [(p.state, p.blocking) for p in found] == [("finished", False)]
        assert behind(home, connected=[lingering]) == []


def test_an_in_memory_replica_closed_behind_a_link_is_finished(repo: Path) -> None:
    with Workspace.open(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        link = connect(home, alice)
        edit(alice, "f1", "'alice'")
        alice.close()  # its last report travels over the link
        link.close()
        edit(bob, "f2", "'bob'")  # alice never saw this one
        sync(home, bob)
        assert states(home) == {"alice": "finished", "bob": "live"}
        report = home.commit("alice is done", run_check=False)
        assert report.ok, report.steps


# -- silent: a replica that vanished blocks until it has been silent long enough ---------------

CRASHING = """
import sys, time
from crdtspace import Workspace

bob = Workspace.connect(sys.argv[1], sys.argv[2], agent="bob", heartbeat=0.2)
text = bob.read("app.py::f2")
bob.replace("app.py::f2", text.replace("return x + 2", "return 'bob'"))
assert bob.wait_sent(10)
time.sleep(0.5)
print("edited", flush=True)
time.sleep(600)
"""


@pytest.fixture
def crashing_bob(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(url: str) -> subprocess.Popen[str]:
        script = tmp_path / "bob.py"
        script.write_text(CRASHING)
        process = subprocess.Popen(
            [sys.executable, str(script), url, TOKEN], stdout=subprocess.PIPE, text=True
        )
        started.append(process)
        assert read_line(process, "bob's edit to be sent").strip() == "edited"
        return process

    yield start
    for process in started:
        end(process)


def test_a_crashed_replica_is_silent_until_the_timeout(
    repo: Path, crashing_bob: Callable[[str], subprocess.Popen[str]]
) -> None:
    with running_server(repo, token=TOKEN) as server:
        alice = Workspace.connect(
            server.url, TOKEN, agent="alice", root=repo, heartbeat=0.2, peer_timeout=1.0
        )
        try:
            bob = crashing_bob(server.url)
            eventually(lambda: "'bob'" in alice.render("app.py") and "bob" in alice.present())
            bob.send_signal(signal.SIGKILL)  # no clean close: nothing says it is finished
            bob.wait(10)
            eventually(lambda: "bob" not in alice.present())  # its awareness timed out
            edit(alice, "f3", "'alice'")  # bob never sees this one
            report = alice.commit("not yet", run_check=False)
            assert not report.ok
            step = report.steps[0]
            assert step.name == "convergence"
            assert "bob" in step.detail
            assert "silent" in step.detail
            assert "--silent-after" in step.detail
            with alice.lock:
                seen = by_agent(alice, "bob")
            assert (seen.state, seen.blocking) == ("silent", True)
            time.sleep(0.6)
            report = alice.commit("without bob", run_check=False, silent_after=0.5)
            assert report.ok, report.steps
            assert "not waited for (silent): bob" in report.steps[0].detail
            assert "'bob'" in git(repo, "show", "HEAD:app.py")  # its edits that arrived count
        finally:
            alice.close()


def test_every_update_bringing_a_replicas_edits_renews_when_it_was_heard_of(repo: Path) -> None:
    # (it was renewed only by a replica's first edits: an update's own state vector counts a
    # client only from clock 0, so a replica editing steadily went silent after --silent-after)
    with Workspace.open(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        bob.apply_update(alice.update_since(bob.state()))  # (a first sync: not counted)
        edit(alice, "f1", "'one'")
        bob.apply_update(alice.update_since(bob.state()))
        first = bob.heard()[alice.client_id]
        time.sleep(0.01)
        edit(alice, "f1", "'two'")
        bob.apply_update(alice.update_since(bob.state()))
        assert bob.heard()[alice.client_id] > first
        assert bob.client_id not in bob.heard()  # (its own edits, a fold's say, are not news)
        again = bob.heard()[alice.client_id]
        bob.apply_update(alice.update_since(b"\x00"))  # nothing new: not heard of again
        assert bob.heard()[alice.client_id] == again


def test_a_silent_replica_stops_blocking_after_silent_after(repo: Path) -> None:
    """From the command line, across processes: the silence is counted from when the
    workspace first noticed the replica (kept in its folder), then --silent-after lets it go."""
    with Workspace.open(repo, agent="lead") as home:
        alice = home.replica("alice")
        edit(alice, "f1", "'alice'")
        home.apply_update(alice.update_since(home.state()))  # no report: alice never said
    code, output = run(repo, "commit", "-m", "x", "--no-check")
    assert code == 1
    assert "alice" in output
    assert "silent" in output
    time.sleep(0.4)
    code, output = run(repo, "commit", "-m", "x", "--no-check", "--silent-after", "0.3")
    assert code == 0, output
    assert "not waited for (silent): alice" in output


def test_edits_a_silent_replica_made_that_are_not_here_are_named(repo: Path) -> None:
    with Workspace.open(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        edit(alice, "f1", "'alice 1'")
        edit(bob, "f2", "'bob'")
        sync(home, alice)
        sync(home, bob)
        sync(home, alice)
        edit(alice, "f1", "'alice 2'")  # reaches bob only
        bob.apply_update(alice.update_since(bob.state()))
        said: list[bytes] = []
        stop = bob.subscribe(said.append)
        assert bob.report()  # bob says it saw alice's second edit...
        stop()
        home.apply_update(said[-1])  # ...and only that report reaches home
        seen = by_agent(home, "alice")
        assert seen.blocking
        assert "this workspace lacks" in seen.unseen
        report = home.commit("x", run_check=False)
        assert not report.ok
        assert "alice" in report.steps[0].detail
        assert "cannot be in a commit" in report.steps[0].detail
        time.sleep(0.3)
        report = home.commit("x", run_check=False, silent_after=0.2)
        assert report.ok, report.steps
        assert "not waited for (silent): alice" in report.steps[0].detail
        assert "cannot be in a commit" in report.steps[0].detail
    assert "'alice 1'" in git(repo, "show", "HEAD:app.py")


# -- exchanged: clones that pushed and pulled their states -----------------------------------


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    origin = make_repo(tmp_path / "origin", {"app.py": APP})
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(origin, "push", "--quiet", str(remote), "main")
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for root in (alice, bob):
        git(tmp_path, "clone", "--quiet", str(remote), str(root))
        git(root, "config", "user.name", "Test User")
        git(root, "config", "user.email", "test@example.com")
    return remote, alice, bob


def test_clones_that_exchanged_states_see_each_other_converged(
    clones: tuple[Path, Path, Path],
) -> None:
    """Sessions still open (nothing finished): what arrived through the pull is covered."""
    remote, alice_dir, bob_dir = clones
    alice = Workspace.init(alice_dir, agent="alice")
    bob = Workspace.init(bob_dir, agent="bob")
    try:
        edit(alice, "f1", "'alice'")
        gitstate.push(alice, alice_dir, str(remote))
        edit(bob, "f2", "'bob'")
        gitstate.push(bob, bob_dir, str(remote))  # merges alice's state first
        assert states(bob) == {"alice": "exchanged"}
        gitstate.pull(alice, alice_dir, str(remote))
        assert states(alice) == {"bob": "exchanged"}
        report = bob.commit("both, from bob's clone", run_check=False)
        assert report.ok, report.steps
        report = alice.commit("both, from alice's clone", run_check=False)
        assert report.ok, report.steps
        assert "1 exchanged" in report.steps[0].detail
        assert "'bob'" in git(alice_dir, "show", "HEAD:app.py")
        # more of alice's edits through a live link, not through git: judged as usual again
        carol = alice.replica("carol")
        edit(carol, "f4", "'carol'")
        alice.apply_update(carol.update_since(alice.state()))
        assert by_agent(alice, "carol").blocking
        assert by_agent(alice, "bob").state == "exchanged"
    finally:
        alice.close()
        bob.close()


def test_clones_exchanging_through_the_command_line(clones: tuple[Path, Path, Path]) -> None:
    remote, alice_dir, bob_dir = clones
    for root, agent in ((alice_dir, "alice"), (bob_dir, "bob")):
        assert run(root, "init", "--agent", agent)[0] == 0
        (root / "change.py").write_text(APP.replace("x + 1", f"'{agent}'", 1))
    change = str(alice_dir / "change.py")
    assert run(alice_dir, "show", "app.py", "--agent", "alice")[0] == 0  # (then no fork)
    assert run(alice_dir, "write", "app.py", "--from", change, "--agent", "alice")[0] == 0
    assert run(alice_dir, "push", str(remote))[0] == 0
    code, output = run(bob_dir, "pull", str(remote))
    assert code == 0, output
    code, output = run(bob_dir, "commit", "-m", "alice's work", "--no-check")
    assert code == 0, output
    assert "'alice'" in git(bob_dir, "show", "HEAD:app.py")
    code, output = run(bob_dir, "replicas", "--json")
    [seen] = [r for r in json.loads(output)["replicas"] if r["agent"] == "alice"]
    assert seen["state"] == "exchanged"  # its session's edits came through git
    assert seen["blocking"] is False


# -- crdtspace replicas, and forget ---------------------------------------------------------


def test_replicas_lists_and_forget_drops_one(repo: Path) -> None:
    with Workspace.open(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        edit(alice, "f1", "'alice'")
        edit(bob, "f2", "'bob'")
        home.apply_update(alice.update_since(home.state()))  # alice: silent
        sync(home, bob)  # bob: reported, seen everything
        alice_id = alice.client_id
    code, output = run(repo, "replicas")
    assert code == 0, output
    lines = {a: line for line in output.splitlines() for a in ("alice", "bob") if f" {a} " in line}
    assert lines["alice"].startswith("*")
    assert f"{alice_id:x}" in lines["alice"]
    assert "silent" in lines["alice"]
    assert "live" in lines["bob"]
    assert "the gate waits for 1 of them" in output
    code, output = run(repo, "replicas", "--json")
    listed = {r["agent"]: r for r in json.loads(output)["replicas"]}
    assert listed["alice"]["client"] == f"{alice_id:x}"
    assert listed["alice"]["state"] == "silent"
    assert listed["alice"]["blocking"] is True
    assert listed["bob"]["state"] == "live"
    assert listed["bob"]["seconds_since_heard"] < 60
    code, output = run(repo, "commit", "-m", "x", "--no-check")
    assert code == 1
    assert "replicas forget" in output
    code, output = run(repo, "replicas", "forget", "nobody")
    assert code == DocumentError.exit_code
    assert "No replica 'nobody'" in output
    code, output = run(repo, "replicas", "forget", f"{alice_id:x}")
    assert code == 0, output
    assert f"forgot alice ({alice_id:x}, was silent)" in output
    code, output = run(repo, "replicas", "--json")
    listed = {r["agent"]: r for r in json.loads(output)["replicas"]}
    assert listed["alice"]["state"] == "forgotten"
    assert listed["alice"]["blocking"] is False
    code, output = run(repo, "commit", "-m", "without alice", "--no-check")
    assert code == 0, output
    with Workspace.open(repo, agent="lead") as home:
        # recorded in the document: any replica of it agrees
        copy = home.replica("reader")
        assert by_agent(copy, "alice").state == "forgotten"
        # ...until more of alice's edits arrive: then it counts again
        edit(alice, "f4", "'alice again'")
        home.apply_update(alice.update_since(home.state()))
        assert by_agent(home, "alice").blocking


def test_forget_by_agent_name_and_never_itself(repo: Path) -> None:
    with Workspace.open(repo, agent="lead") as home:
        alice = home.replica("alice")
        edit(alice, "f1", "'alice'")
        home.apply_update(alice.update_since(home.state()))
        edit(home, "f2", "'lead'")
        with pytest.raises(DocumentError, match="cannot forget itself"):
            presence.forget(home, "lead")
        assert presence.forget(home, "alice").agent == "alice"
        assert states(home)["alice"] == "forgotten"
        assert home.commit("x", run_check=False).ok


def test_served_commands_see_the_services_clients() -> None:
    status = {
        "clients": [
            {"agent": "ann", "client_ids": [7, 8], "state_vector": "zz"},
            {"agent": "ben", "client_ids": [9], "state_vector": "010905"},
        ]
    }
    assert served_peers() is None
    token = SERVED_STATUS.set(status)
    try:
        peers = served_peers()
    finally:
        SERVED_STATUS.reset(token)
    assert peers is not None
    assert [(p.client, p.agent, dict(p.state)) for p in peers] == [
        (7, "ann", {}),
        (8, "ann", {}),
        (9, "ben", {9: 5}),
    ]
