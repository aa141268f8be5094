"""Networked replicas against a real pycrdt-websocket server on 127.0.0.1: sync, partitions,
reconnection, claims, and the gate's view of connected peers."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from pycrdt import create_update_message
from pycrdt.websocket import ASGIServer, WebsocketServer
from typer.testing import CliRunner
from websockets.sync.client import connect

from crdtspace.cli import app
from crdtspace.errors import AuthError, SyncError
from crdtspace.git.gate import behind
from crdtspace.live.access import fetch_status
from crdtspace.live.connection import INLINE_MAX
from crdtspace.live.netreplica import NetworkReplica, room_url
from crdtspace.live.server import running_server
from crdtspace.model.replica import Replica
from crdtspace.model.versions import new_doc
from crdtspace.testing import git, make_repo
from crdtspace.workspace import Workspace
from tests.conflict_views import conflict_blocks, take_side
from tests.deadlines import end, exit_code, read_line

TOKEN = "s3cret"
APP = (
    "import os\n\n\n"
    + "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(8))
    + "def main():\n    return f0(1)\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestServer:
    """A plain pycrdt-websocket server (rooms kept when empty) with token auth, on a thread.

    `seed` is applied to the `/default` room at start, as `crdtspace serve` loads the
    workspace; stop() and start() again on the same port simulate a server restart (with
    nothing persisted: the replicas' handshakes bring the document back)."""

    __test__ = False

    def __init__(self, seed: bytes, port: int | None = None) -> None:
        self.seed = seed
        self.port = port or free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.websocket_server: WebsocketServer | None = None
        self.token = TOKEN

    def start(self) -> TestServer:
        self._ready.clear()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the test server did not start"
        return self

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.graceful_timeout = 0.2
        config.accesslog = None
        config.errorlog = None
        async with WebsocketServer(auto_clean_rooms=False) as wss:
            self.websocket_server = wss
            room = await wss.get_room("/default")
            room.ydoc.apply_update(self.seed)
            inner = ASGIServer(wss)

            async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
                # Refused before any document data, as a close before accept: HTTP 403.
                # (Other parameters, such as crdtspace's ``acks=1``, are ignored.)
                presented = parse_qs(scope.get("query_string", b"").decode()).get("token")
                if scope["type"] == "websocket" and presented != [self.token]:
                    await receive()
                    await send({"type": "websocket.close"})
                    return
                await inner(scope, receive, send)

            stop = self._stop
            task = asyncio.create_task(
                serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
            )
            await asyncio.sleep(0.1)
            while not _listening(self.port):
                await asyncio.sleep(0.02)
            self._ready.set()
            await task

    def stop(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        assert self._loop is not None
        assert self._stop is not None
        assert self._thread is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def seed(tmp_path: Path) -> bytes:
    repo = make_repo(tmp_path / "repo", {"app.py": APP, "README.md": "# demo\n"})
    return Workspace.from_commit(repo, agent="seed").update_since()


@pytest.fixture
def server(seed: bytes) -> Iterator[TestServer]:
    server = TestServer(seed).start()
    yield server
    server.stop()


@pytest.fixture
def replicas(server: TestServer) -> Iterator[Callable[..., NetworkReplica]]:
    made: list[NetworkReplica] = []

    def make(agent: str, **options: Any) -> NetworkReplica:
        replica = Workspace.connect(server.url, TOKEN, agent=agent, **options)
        made.append(replica)
        return replica

    yield make
    for replica in made:
        replica.close()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s"
        time.sleep(0.02)


def converged(*replicas: NetworkReplica) -> bool:
    renders = [r.render_all() for r in replicas]
    return all(r == renders[0] for r in renders)


def settled(*replicas: NetworkReplica) -> bool:
    """Connected, holding the same state vector, and (so) rendering the same."""
    states = {tuple(sorted(_decoded(r.state()).items())) for r in replicas}
    return len(states) == 1 and all(r.connected for r in replicas)


def conflict_kinds(replica: NetworkReplica) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((c.kind, c.id, c.agents) for c in replica.conflicts())


def edit(
    replica: NetworkReplica | Workspace, unit: str, old: str, new: str, **options: Any
) -> None:
    """Change `old` to `new` in a unit's text (its leading blank lines kept)."""
    ref = f"app.py::{unit}"
    text = replica.read(ref)
    assert old in text
    replica.replace(ref, text.replace(old, new), **options)


def edit_apart(
    a: NetworkReplica, b: NetworkReplica, unit: str, old: str, news: tuple[str, str]
) -> None:
    """`a` and `b` each change `old` in a unit while offline (to `news`), then reconnect."""
    a.disconnect()
    b.disconnect()
    edit(a, unit, old, news[0])
    edit(b, unit, old, news[1])
    a.reconnect()
    b.reconnect()


# -- sync ------------------------------------------------------------------------------------


def test_the_room_url_carries_the_workspace_and_the_token() -> None:
    assert room_url("ws://h:1", "a b", "ws") == "ws://h:1/ws?token=a%20b"
    assert room_url("ws://h:1/room?x=1", "t") == "ws://h:1/room?x=1&token=t"


def test_a_replica_gets_the_servers_document(replicas: Callable[..., NetworkReplica]) -> None:
    alice = replicas("alice")
    assert alice.connected
    assert alice.render("app.py") == APP


def test_a_wrong_token_is_refused(server: TestServer) -> None:
    with pytest.raises(AuthError) as refused:
        Workspace.connect(server.url, "wrong", agent="mallory", timeout=5)
    assert "wrong" not in str(refused.value)


def test_workspace_connect_delegates(server: TestServer) -> None:
    replica = Workspace.connect(server.url, TOKEN, agent="alice")
    try:
        assert isinstance(replica, NetworkReplica)
        assert replica.render("app.py") == APP
    finally:
        replica.close()


def test_edits_to_different_functions_converge(replicas: Callable[..., NetworkReplica]) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    edit(alice, "f1", "return x + 1\n", "return x * 100\n")
    edit(bob, "f2", "return x + 2\n", "return x * 200\n")
    eventually(lambda: converged(alice, bob) and "x * 200" in alice.render("app.py"))
    text = alice.render("app.py")
    assert "x * 100" in text
    assert text.count("def f1") == 1
    assert text.count("def f2") == 1


def test_same_line_edits_converge_to_the_same_conflict(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    edit_apart(alice, bob, "f1", "return x + 1\n", ("return x + 10\n", "return x + 20\n"))
    eventually(lambda: settled(alice, bob))
    assert converged(alice, bob)
    assert alice.conflicts() == bob.conflicts()
    assert conflict_kinds(alice), "concurrent edits of one line are a conflict"


# -- partitions ------------------------------------------------------------------------------


def test_a_server_restart_loses_nothing_and_duplicates_nothing(
    server: TestServer, replicas: Callable[..., NetworkReplica]
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    server.stop()
    eventually(lambda: not alice.connected and not bob.connected)
    edit(alice, "f1", "return x + 1\n", "return x * 100\n")
    edit(bob, "f2", "return x + 2\n", "return x * 200\n")
    bob.insert("app.py", "app.py::main", "\n\ndef extra():\n    return 'bob'\n")
    server.start()  # empty but for the seed: the replicas' handshakes bring the rest back
    eventually(lambda: alice.connected and bob.connected)
    eventually(lambda: converged(alice, bob) and "x * 100" in bob.render("app.py"))
    text = alice.render("app.py")
    for piece in ("x * 100", "x * 200", "def extra", "def f3", "def main"):
        assert text.count(piece) == 1, piece
    carol = replicas("carol")  # a newcomer gets it all from the restarted server
    eventually(lambda: converged(alice, carol))


def test_a_replica_started_offline_syncs_when_the_server_comes(
    seed: bytes, replicas: Callable[..., NetworkReplica]
) -> None:
    server = TestServer(seed)
    alice = Workspace.connect(server.url, TOKEN, agent="alice", wait=False)
    try:
        time.sleep(0.3)
        assert not alice.connected
        assert isinstance(alice.last_error, SyncError)
        assert TOKEN not in str(alice.last_error), "messages never show the token"
        server.start()
        assert alice.wait_synced(10)
        assert alice.render("app.py") == APP
        assert alice.last_error is None
    finally:
        alice.close()
        server.stop()


def test_a_dropped_connection_reconnects_by_itself(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    alice.drop()
    edit(alice, "f3", "return x + 3\n", "return x - 3\n")
    eventually(lambda: "x - 3" in bob.render("app.py"))
    assert alice.connected
    assert converged(alice, bob)


def test_offline_edits_survive_a_crash_through_the_state_dir(
    server: TestServer, replicas: Callable[..., NetworkReplica], tmp_path: Path
) -> None:
    bob = replicas("bob")
    alice = replicas("alice", state_dir=tmp_path / "alice")
    alice.disconnect()
    edit(alice, "f4", "return x + 4\n", "return 'offline'\n")
    alice.close()  # closed offline: nothing was sent; a crash would leave the same log
    assert "offline" not in bob.render("app.py")
    again = replicas("alice", state_dir=tmp_path / "alice")
    assert "offline" in again.render("app.py")
    eventually(lambda: "offline" in bob.render("app.py"))
    eventually(lambda: converged(again, bob))
    assert bob.render("app.py").count("offline") == 1


def test_incoming_updates_wait_for_the_lock_and_the_connection_stays_up(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    with alice.lock:
        edit(bob, "f7", "return x + 7\n", "return 'seven'\n")
        time.sleep(0.3)
        assert "'seven'" not in alice.document.render("app.py"), "nothing lands mid-call"
    eventually(lambda: "'seven'" in alice.render("app.py"))
    assert alice.connected


def test_an_update_read_while_an_earlier_one_waits_is_merged_after_it(
    server: TestServer, replicas: Callable[..., NetworkReplica]
) -> None:
    """Updates are merged as they are read when the reader is idle (no task wake-up); one
    read while an earlier message still waits (here a large update, merged on the worker,
    which is held back) waits behind it. The updates come from a bare websocket client that
    sends nothing else (a replica's presence would queue between them)."""
    alice = replicas("alice")
    with alice.lock:
        state = alice.update_since()
    writer = Replica(new_doc(), agent="writer")
    writer.apply_update(state)
    sent: list[bytes] = []
    writer.subscribe(sent.append)
    writer.write("big.txt", "'first'\n" + "x" * (INLINE_MAX + 1000))  # (for the worker)
    edit(writer, "f6", "return x + 6\n", "return 'second'\n")
    first, second = (create_update_message(u) for u in sent)

    connection = alice._connection
    go = threading.Event()
    waiting = connection._handle_waiting

    def held_back(message: bytes) -> bytes | None:
        go.wait(10)
        return waiting(message)

    connection._handle_waiting = held_back  # type: ignore[method-assign]
    merged: list[bytes] = []
    merge = alice._merge_remote

    def recording(update: bytes, *, follow: bool = True) -> None:
        merged.append(update)
        merge(update, follow=follow)

    alice._merge_remote = recording  # type: ignore[method-assign]
    with connect(room_url(server.url, TOKEN), max_size=None) as raw:
        raw.send(first)
        time.sleep(0.3)  # (read, and handed to the worker, held back there)
        raw.send(second)
        time.sleep(0.3)
        with alice.lock:
            assert "'second'" not in alice.document.render("app.py"), "it did not wait"
        go.set()
        eventually(lambda: "'second'" in alice.render("app.py"))
    order = [mark for update in merged for mark in (b"'first'", b"'second'") if mark in update]
    assert order == [b"'first'", b"'second'"]


def test_an_update_that_found_the_lock_busy_is_merged_by_the_next_call(
    server: TestServer, replicas: Callable[..., NetworkReplica]
) -> None:
    """An update that finds the replica's lock busy is left for whoever takes the lock next:
    the next public call merges it before it reads, though the connection's worker (which
    would) cannot run. A caller taking the lock again and again (a read in a loop) starved
    that worker: an edit took 100-135 ms to show there, Python's locks being unfair."""
    alice, bob = replicas("alice"), replicas("bob")
    eventually(lambda: "bob" in alice.present())  # (bob's presence is no longer on its way)
    busy = threading.Event()
    alice._connection._worker.submit(busy.wait, 10)  # (the worker can merge nothing)
    try:
        with alice.lock:
            edit(bob, "f4", "return x + 4\n", "return 'four'\n")
            eventually(lambda: bool(alice._arrived))
            assert "'four'" not in alice.document.render("app.py")
        assert "'four'" in alice.render("app.py")
        assert not alice._arrived
    finally:
        busy.set()
    eventually(lambda: converged(alice, bob))


def test_identical_edits_fold_on_every_replica_of_the_loop_without_a_read(
    replicas: Callable[..., NetworkReplica],
) -> None:
    """Alice and Bob make the same edit offline. Once they are back, every replica holds it
    once: carol's too. All three merge on the process's one network loop, which follows each
    merge up (identical changes folded) only after the others merged theirs; the follow-ups
    run by themselves, with no read asking for them."""
    alice, bob, carol = replicas("alice"), replicas("bob"), replicas("carol")
    edit_apart(alice, bob, "f1", "return x + 1\n", ("return x * 7\n", "return x * 7\n"))
    everyone = (alice, bob, carol)

    def raw(replica: NetworkReplica) -> tuple[tuple[tuple[int, int], ...], str]:
        with replica.lock:  # (no public method: none of them runs a follow-up)
            state = _decoded(bytes(replica.doc.get_state()))  # (yrs orders clients its way)
            return tuple(sorted(state.items())), replica.document.render("app.py")

    def folded() -> bool:
        seen = {raw(r) for r in everyone}
        return len(seen) == 1 and next(iter(seen))[1].count("x * 7") == 1

    eventually(folded)
    assert not any(r._merge_due for r in everyone)


def test_a_merge_left_to_follow_up_is_followed_up_before_any_use(
    replicas: Callable[..., NetworkReplica], seed: bytes
) -> None:
    """A merge whose follow-up is due (as the network loop leaves it) is followed up by the
    next public call, before it reads anything, and by the loop's own follow-up even while
    someone held the lock when it came (then on the connection's worker, once it is free).
    Dave goes offline for the second part: no message merged on the loop follows it up."""
    dave = replicas("dave")
    alice, bob = Workspace(new_doc(), agent="alice"), Workspace(new_doc(), agent="bob")
    for side in (alice, bob):
        side.apply_update(seed)
        edit(side, "f2", "return x + 2\n", "return x * 9\n")
    dave._merge_remote(alice.update_since(seed_state(seed)), follow=False)
    dave._merge_remote(bob.update_since(seed_state(seed)), follow=False)
    assert dave._merge_due
    assert dave.render("app.py").count("x * 9") == 1  # (its fold ran first)
    assert not dave._merge_due

    dave.disconnect()
    for side in (alice, bob):
        edit(side, "f3", "return x + 3\n", "return x * 8\n")
    dave._merge_remote(alice.update_since(dave.state()), follow=False)
    dave._merge_remote(bob.update_since(dave.state()), follow=False)
    connection = dave._connection
    with dave.lock:
        connection._loop.call_soon_threadsafe(connection.follow_up)
        time.sleep(0.2)
        assert dave._merge_due, "it waits for the lock"
    eventually(lambda: not dave._merge_due, timeout=1.0)  # (not at the next heartbeat)
    with dave.lock:
        assert dave.document.render("app.py").count("x * 8") == 1


def seed_state(seed: bytes) -> bytes:
    doc = new_doc()
    doc.apply_update(seed)
    return bytes(doc.get_state())


# -- awareness and claims --------------------------------------------------------------------


def test_claims_are_seen_by_the_others_and_expire(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    # Long enough to be seen before it expires on a loaded machine (a claim takes a tenth of a
    # second to arrive, on two busy cores), short enough for the test.
    claim = alice.claim("app.py::f3", ttl=3.0)
    assert (claim.agent, claim.path, claim.name) == ("alice", "app.py", "f3")
    eventually(lambda: bool(bob.claims()))
    [seen] = bob.claims()
    assert (seen.agent, seen.node, seen.path, seen.name) == ("alice", claim.node, "app.py", "f3")
    assert alice.claims() == [], "claims() lists the other agents' claims"
    assert [c.name for c in alice.my_claims()] == ["f3"]
    # Expired: from its own expiry on, however slowly this machine gets there.
    eventually(lambda: bob.claims() == [], timeout=claim.expires - time.time() + 10)
    assert time.time() >= claim.expires, "gone before it expired"


def test_a_replica_slow_to_be_made_shows_its_presence_from_the_start(
    replicas: Callable[..., NetworkReplica], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection starts once the replica is whole. (On a loaded machine a connection
    started in the middle of the constructor published first, from a replica that had not
    all its state yet: its awareness task died, and no peer ever saw the replica.)"""
    subscribe = NetworkReplica.subscribe

    def slowly(self: NetworkReplica, listener: Callable[[bytes], None]) -> Callable[[], None]:
        time.sleep(0.5)  # (the constructor subscribes after it made the connection)
        return subscribe(self, listener)  # (which takes the lock, after the pause)

    slowly._takes_the_lock = True  # type: ignore[attr-defined]  # (not wrapped in the lock)
    monkeypatch.setattr(NetworkReplica, "subscribe", slowly)
    bob = replicas("bob")
    alice = replicas("alice")
    monkeypatch.undo()
    eventually(lambda: [p.agent for p in bob.peers()] == ["alice"])
    eventually(lambda: [p.agent for p in alice.peers()] == ["bob"])
    assert alice.last_error is None
    assert bob.last_error is None


def test_a_released_claim_disappears(replicas: Callable[..., NetworkReplica]) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    alice.claim("app.py::f4")
    eventually(lambda: [c.name for c in bob.claims()] == ["f4"])
    alice.release("app.py::f4")
    eventually(lambda: bob.claims() == [])


def test_presence_names_the_peers_and_their_state(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    eventually(lambda: [p.agent for p in alice.peers()] == ["bob"])
    eventually(lambda: [p.agent for p in bob.peers()] == ["alice"])
    edit(bob, "f5", "return x + 5\n", "return 5\n")
    eventually(lambda: alice.peer_states().get("bob") == dict(_decoded(bob.state())))


def _decoded(state: bytes) -> dict[int, int]:
    from crdtspace.model.logentry import decode_state

    return dict(decode_state(state))


def test_an_edit_to_a_claimed_node_is_made_and_reported(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    alice.claim("app.py::f5")
    edit(alice, "f5", "return x + 5\n", "return 'alice'\n")
    assert alice.claim_violations() == [], "editing one's own claim is fine"
    eventually(lambda: bool(bob.claims()) and "'alice'" in bob.render("app.py"))
    edit(bob, "f5", "return 'alice'\n", "return 'bob'\n", description="fix f5")
    assert "'bob'" in bob.render("app.py")
    [violation] = bob.claim_violations()
    assert (violation.claimed_by, violation.path, violation.name) == ("alice", "app.py", "f5")
    assert violation.description == "fix f5"
    edit(bob, "f6", "return x + 6\n", "return 6\n")
    assert len(bob.claim_violations()) == 1, "an unclaimed node is no violation"


def test_an_edit_anywhere_in_a_claimed_file_is_reported(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    claim = alice.claim("app.py")
    assert (claim.node, claim.path) == ("", "app.py")
    eventually(lambda: bool(bob.claims()))
    edit(bob, "f2", "return x + 2\n", "return 2\n")
    [violation] = bob.claim_violations()
    assert (violation.claimed_by, violation.path, violation.name) == ("alice", "app.py", "f2")


def test_the_gate_names_a_connected_peer_that_is_behind(
    replicas: Callable[..., NetworkReplica],
) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    eventually(lambda: "bob" in alice.peer_states())
    bob.disconnect()  # its last published state stays in alice's view until it times out
    edit(alice, "f6", "return x + 6\n", "return 'new'\n")
    with alice.lock:
        assert behind(alice) == ["bob (connected, behind)"]
    bob.reconnect()

    def caught_up() -> bool:
        with alice.lock:
            return behind(alice) == []

    eventually(caught_up)


# -- many replicas ---------------------------------------------------------------------------


def _random_edits(replicas: list[NetworkReplica], rounds: int, rng: random.Random) -> None:
    """Each replica rewrites the return line of a random function, every round; an agent
    that reads a conflict block (a line others rewrote while it was apart) resolves it as an
    agent does: it keeps one side, then half the time rewrites the line anyway. (Writing a
    piece of the block back, markers and all, is refused: `test_materialize`.)"""
    for step in range(rounds):
        for replica in replicas:
            if rng.random() < 0.15:
                replica.disconnect()
            elif not replica.connected and rng.random() < 0.5:
                replica.reconnect()
            ref = f"app.py::f{rng.randrange(8)}"
            text = replica.read(ref)
            blocks = conflict_blocks(text)  # (and the read is well formed: no nested blocks)
            if blocks:
                text = take_side(text, rng.randrange(min(len(b.sides) for b in blocks)))
                if rng.random() < 0.5:
                    replica.replace(ref, text)
                    continue
            head, _, _ = text.rpartition("return")
            body = f"return x + {rng.randrange(1000)}  # {replica.agent} {step}"
            replica.replace(ref, f"{head}{body}\n")
    for replica in replicas:
        replica.reconnect()


@pytest.mark.parametrize(
    "rounds",
    [
        3,
        pytest.param(
            30,
            marks=[
                pytest.mark.slow,
                pytest.mark.skipif(
                    not os.environ.get("CRDTSPACE_FULL"), reason="a long soak: CRDTSPACE_FULL=1"
                ),
            ],
        ),
    ],
)
def test_eight_replicas_making_random_edits_converge(
    replicas: Callable[..., NetworkReplica], rounds: int
) -> None:
    group = [replicas(f"agent{n}") for n in range(8)]
    _random_edits(group, rounds, random.Random(rounds))

    eventually(lambda: settled(*group), timeout=30.0)
    renders = [r.render_all() for r in group]
    assert all(render == renders[0] for render in renders)
    kinds = [conflict_kinds(r) for r in group]
    assert all(k == kinds[0] for k in kinds)
    assert renders[0]["app.py"].count("def f0") == 1
    views = [r.read("app.py") for r in group]  # open overlaps as blocks: the same, well formed
    assert all(view == views[0] for view in views)
    conflict_blocks(views[0])


# -- the command -----------------------------------------------------------------------------


def test_connect_once_prints_agents_and_claims(
    server: TestServer, replicas: Callable[..., NetworkReplica]
) -> None:
    alice = replicas("alice")
    alice.claim("app.py::f2")
    result = CliRunner().invoke(
        app,
        # (--once shows what arrived within --settle: alice's presence comes back only after
        # the newcomer's reached her, a round trip that takes longer on two busy cores)
        ["connect", server.url, "--token", TOKEN, "--agent", "cli", "--once", "--settle", "3"],
    )
    assert result.exit_code == 0, result.output
    assert "cli (connected); agents here: alice" in result.output
    assert "alice claims app.py::f2" in result.output


def test_connect_with_a_wrong_token_fails_clearly(server: TestServer) -> None:
    result = CliRunner().invoke(
        app, ["connect", server.url, "--token", "nope", "--agent", "cli", "--once"]
    )
    assert result.exit_code != 0
    assert "refused the token" in result.output


def test_a_closed_replica_leaves_at_once(replicas: Callable[..., NetworkReplica]) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    eventually(lambda: [p.agent for p in alice.peers()] == ["bob"])
    bob.claim("app.py::f1")
    eventually(lambda: bool(alice.claims()))
    bob.close()
    eventually(lambda: alice.peers() == [] and alice.claims() == [], timeout=3.0)


# -- against crdtspace serve -----------------------------------------------------------------


def test_through_crdtspace_serve_replicas_converge_and_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "served", {"app.py": APP})
    Workspace.init(repo, agent="home").close()
    with running_server(repo, token=TOKEN) as server:
        alice = Workspace.connect(server.url, TOKEN, agent="alice", root=repo)
        bob = Workspace.connect(server.url, TOKEN, agent="bob")
        try:
            edit(alice, "f1", "return x + 1\n", "return 'alice'\n")
            edit(bob, "f2", "return x + 2\n", "return 'bob'\n")
            bob.claim("app.py::f3")
            eventually(lambda: settled(alice, bob) and "'bob'" in alice.render("app.py"))
            eventually(lambda: "bob" in fetch_status(server.url, TOKEN)["claims"])
            [claim] = fetch_status(server.url, TOKEN)["claims"]["bob"]
            assert claim["path"] == "app.py"  # the server reads the claims replicas publish
            report = alice.commit("alice and bob", run_check=False, wait=5)
            assert report.ok, report.steps
            committed = git(repo, "show", "HEAD:app.py")
            assert "'alice'" in committed
            assert "'bob'" in committed
        finally:
            alice.close()
            bob.close()


def test_connect_shows_claims_live_until_ctrl_c(
    server: TestServer, replicas: Callable[..., NetworkReplica]
) -> None:
    alice = replicas("alice")
    command = [sys.executable, "-m", "crdtspace", "connect", server.url]
    with subprocess.Popen(
        [*command, "--token", TOKEN, "--agent", "viewer"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ) as process:
        lines: list[str] = []

        def shown(text: str) -> bool:
            while not any(text in line for line in lines):
                line = read_line(process, f"{text!r} shown; it showed {lines!r}")
                assert line, f"the command ended early, before {text!r}; it showed {lines!r}"
                lines.append(line)
            return True

        try:
            assert shown("viewer (connected)")
            alice.claim("app.py::f6")
            assert shown("alice claims app.py::f6")
            process.send_signal(signal.SIGINT)
            assert exit_code(process, "the command to stop on Ctrl-C") == 0
        finally:
            end(process)
