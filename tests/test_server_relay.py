"""How the sync server relays (issue 16): a peer's update goes to every other client at once,
before it is durable, never back to its sender; its sender is told once it is durable, and a
networked replica's `wait_sent` waits for that; a burst from several peers shares fsyncs and
loses nothing acknowledged to a kill -9; a log that cannot be written stops the server from
taking updates; a networked replica does not answer every update with an awareness message;
an update that deletes log entries is refused. No timed assertions: every check waits for an
event that orders what it looks at."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
import websockets
from pycrdt import (
    Array,
    Awareness,
    Doc,
    Map,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
)
from pycrdt import read_message as read_payload
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from crdtspace import Workspace
from crdtspace.live import connection
from crdtspace.live.netreplica import connect
from crdtspace.live.protocol import (
    CLOSE_INTERNAL,
    DURABLE,
    Hostile,
    awareness_states,
    durable_message,
)
from crdtspace.live.server import Server, running_server
from crdtspace.live.wire import FrameReader, unmask
from crdtspace.testing import make_repo
from tests.deadlines import output
from tests.test_server import (
    TOKEN,
    _start,
    client,
    eventually,
    hand_back,
    opened_after_a_kill,
    read_below,
    run,
    write_counting_acks,
)

APP = "def main():\n    return 0\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"app.py": APP, "notes.txt": "start\n"})
    Workspace.init(root, agent="setup").close()
    return root


def updates_of(repo: Path, agent: str, paths: list[str]) -> list[bytes]:
    """One update per path: a replica of the base commit writing the file, one after another."""
    replica = Workspace.from_commit(repo, agent=agent)
    out = []
    for path in paths:
        before = replica.state()
        replica.write(path, f"{path}\n")
        out.append(replica.update_since(before))
    return out


def masked(message: bytes) -> bytes:
    """`message` as a client's websocket frame (binary, final, masked: RFC 6455 5.3)."""
    size = len(message)
    head = bytes((0x82, 0x80 | size)) if size < 126 else bytes((0x82, 0xFE)) + size.to_bytes(2)
    key = os.urandom(4)
    return head + key + unmask(message, key)  # (masking and unmasking are one XOR)


def paths_in(update: bytes) -> set[str]:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return set(doc.get("files", type=Map).keys())


async def next_update(ws: ClientConnection) -> bytes:
    """The payload of the next sync update (or step 2) the server sends on `ws`."""
    while True:
        message = await ws.recv()
        assert isinstance(message, bytes)
        if message[0] == YMessageType.SYNC and message[1] in (
            YSyncMessageType.SYNC_STEP2,
            YSyncMessageType.SYNC_UPDATE,
        ):
            payload = bytes(read_payload(message[2:]))
            if payload != b"\x00\x00":
                return payload


def test_an_update_is_relayed_to_the_others_and_not_back_to_its_sender(repo: Path) -> None:
    [mine] = updates_of(repo, "alice", ["a.txt"])
    [theirs] = updates_of(repo, "bob", ["b.txt"])

    async def main(url: str) -> None:
        async with (
            websockets.connect(f"{url}?token={TOKEN}") as alice,
            websockets.connect(f"{url}?token={TOKEN}") as bob,
        ):
            with anyio.fail_after(20):
                await alice.send(create_update_message(mine))
                assert "a.txt" in paths_in(await next_update(bob))
                await bob.send(create_update_message(theirs))
                # The server relays to each client in order: had it sent alice's own update
                # back, alice would get it before bob's, which it sent after it was relayed.
                back = paths_in(await next_update(alice))
                assert "b.txt" in back
                assert "a.txt" not in back

    with running_server(repo, token=TOKEN) as server:
        run(lambda: main(server.url))


def test_relays_written_straight_to_the_socket_keep_their_order(repo: Path) -> None:
    """A client that agreed no compression gets each relayed update framed once and written
    to its socket at once (`_Wire`); one that agreed compression gets it through the ASGI
    send. Both get every update, in the order the server took them, and whole."""
    updates = updates_of(repo, "alice", [f"f{n}.txt" for n in range(30)])

    async def main(server: Server) -> None:
        async with (
            websockets.connect(f"{server.url}?token={TOKEN}", compression=None) as plain,
            websockets.connect(f"{server.url}?token={TOKEN}") as deflated,
            websockets.connect(f"{server.url}?token={TOKEN}", compression=None) as alice,
        ):
            await eventually(lambda: len(server._channels) == 3)
            wires = sorted(channel._wire is not None for channel in server._channels)
            assert wires == [False, True, True]  # (the compressed one goes the ASGI way)
            with anyio.fail_after(20):
                for update in updates:  # (no waiting between them: some queue, some not)
                    await alice.send(create_update_message(update))
                for ws in (plain, deflated):
                    got = [paths_in(await next_update(ws)) for _ in updates]
                    assert got == [{f"f{n}.txt"} for n in range(len(updates))]

    with running_server(repo, token=TOKEN) as server:
        run(lambda: main(server))


def test_a_socket_read_below_hypercorn_is_given_back_whole(repo: Path) -> None:
    """A client that agreed no compression has its socket read by the server's own reader
    once hypercorn holds nothing of it (`crdtspace.live.wire`): its updates are taken as they
    are read, in order, and its pings answered there. A message that reader does not read (in
    fragments, here) gives the socket back to hypercorn with every byte not read yet: that
    message and the ones after it are taken too, in order."""
    updates = updates_of(repo, "alice", [f"f{n}.txt" for n in range(24)])

    async def main(server: Server) -> None:
        async with (
            websockets.connect(f"{server.url}?token={TOKEN}", compression=None) as alice,
            websockets.connect(f"{server.url}?token={TOKEN}", compression=None) as bob,
        ):
            await eventually(lambda: len(server._channels) == 2)
            await eventually(lambda: all(read_below(c) for c in server._channels))
            [mine] = [c for c in server._channels if c._peer.agent == "client-1"]
            with anyio.fail_after(20):
                for update in updates[:8]:  # (no waiting between them)
                    await alice.send(create_update_message(update))
                await (await alice.ping(b"still there?"))
                assert read_below(mine)
                message = create_update_message(updates[8])
                await alice.send([message[:5], message[5:]])  # (in two fragments)
                for update in updates[9:]:
                    await alice.send(create_update_message(update))
                got = [paths_in(await next_update(bob)) for _ in updates]
                assert got == [{f"f{n}.txt"} for n in range(len(updates))]
                assert mine._reader is not None
                assert not mine._reader.reading
                await (await alice.ping(b"and now?"))  # (hypercorn answers it)

    with running_server(repo, token=TOKEN) as server:
        run(lambda: main(server))


def test_a_flood_read_below_hypercorn_waits_in_the_socket(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages the room must handle (presence, here) that a client sends faster than the
    room takes them wait in the socket, not in the server: its own reader stops reading at a
    few dozen waiting, and reads again as the room catches up; the update sent after them is
    relayed."""
    [update] = updates_of(repo, "alice", ["after.txt"])
    paused = [0]
    pause = FrameReader.pause

    def counting(reader: FrameReader) -> None:
        paused[0] += 1
        pause(reader)

    monkeypatch.setattr(FrameReader, "pause", counting)
    doc: Doc[Any] = Doc()
    awareness = Awareness(doc)
    awareness.set_local_state({"agent": "alice"})
    presence = masked(create_awareness_message(awareness.encode_awareness_update([doc.client_id])))

    async def main(server: Server) -> None:
        # (max_queue=None: the presence the clients get back, unread, does not stop them
        # reading their own socket, and their closing handshakes end at once)
        url = f"{server.url}?token={TOKEN}"
        async with (
            websockets.connect(url, compression=None, max_queue=None) as alice,
            websockets.connect(url, compression=None, max_queue=None) as bob,
        ):
            await eventually(lambda: len(server._channels) == 2)
            await eventually(lambda: all(read_below(c) for c in server._channels))
            with anyio.fail_after(8):
                alice.transport.write(presence * 500)  # (at once: read in a few reads)
                await eventually(lambda: paused[0] >= 1)
                await alice.send(create_update_message(update))  # (read once it reads again)
                assert "after.txt" in paths_in(await next_update(bob))

    with running_server(repo, token=TOKEN) as server:
        run(lambda: main(server))


def test_a_burst_from_several_peers_loses_nothing_acknowledged(repo: Path) -> None:
    """Four peers send bursts with no pause (group commit: many share one fsync), counting the
    server's acknowledgements; the server is killed mid-burst; every update acknowledged is in
    the log on restart, and every update an observer saw relayed is back once it reconnects."""
    names = ["alice", "bob", "carol", "dave"]
    bursts = {n: updates_of(repo, n, [f"burst/{n}{i}.txt" for i in range(40)]) for n in names}
    acked = {name: [0] for name in names}
    process, url = _start(repo)
    observer: Doc[Any] = Doc()
    seen: set[str] = set()
    try:

        async def main() -> None:
            files = observer.get("files", type=Map)
            async with client(url, observer), anyio.create_task_group() as group:
                for name in names:
                    group.start_soon(write_counting_acks, url, bursts[name], acked[name])
                await eventually(lambda: len(list(files.keys())) >= 2 + 30, timeout=60)
                await eventually(lambda: sum(a[0] for a in acked.values()) >= 20, timeout=60)
                process.send_signal(signal.SIGKILL)
                seen.update(files.keys())

        run(main)
    finally:
        process.kill()
        output(process, "the killed server's output", 30)
    durable = {f"burst/{n}{i}.txt" for n in names for i in range(acked[n][0])}
    assert len(durable) >= 20
    assert len(seen) >= 32
    with opened_after_a_kill(repo) as ws:
        assert durable <= set(ws.paths())
    process, url = _start(repo)
    try:
        run(lambda: hand_back(url, observer, seen))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    with Workspace.open(repo, agent="check") as ws:
        assert seen <= set(ws.paths())


@pytest.fixture
def held_committer(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The server's committer waits, before applying each batch, until the event is set."""
    release = threading.Event()
    apply = Server._apply

    def waiting(self: Server, *args: Any) -> None:
        release.wait(30)
        apply(self, *args)

    monkeypatch.setattr(Server, "_apply", waiting)
    return release


def test_an_update_is_relayed_before_it_is_durable_and_acknowledged_after(
    repo: Path, held_committer: threading.Event
) -> None:
    [update] = updates_of(repo, "alice", ["a.txt"])

    async def main(url: str) -> None:
        acks: list[int] = []
        async with (
            websockets.connect(f"{url}?token={TOKEN}&acks=1") as alice,
            websockets.connect(f"{url}?token={TOKEN}") as bob,
        ):
            with anyio.fail_after(20):
                # Acknowledgements are on: said before anything else.
                assert await alice.recv() == durable_message(0)
                await alice.send(create_update_message(update))
                assert "a.txt" in paths_in(await next_update(bob))  # the log has not got it
                assert not held_committer.is_set()
                held_committer.set()
                while not acks:
                    message = await alice.recv()
                    assert isinstance(message, bytes)
                    if message[0] == DURABLE:
                        acks.append(message[1])
        assert acks == [1]

    with running_server(repo, token=TOKEN) as server:
        run(lambda: main(server.url))
        assert "a.txt" in server.workspace.paths()


def test_a_replica_waits_for_the_server_to_make_its_edit_durable(
    repo: Path, held_committer: threading.Event
) -> None:
    """`wait_sent` (and so `close`) waits for the acknowledgement, not for the send."""
    with running_server(repo, token=TOKEN) as server:
        held_committer.set()  # (the handshake's step 2 is acknowledged too)
        alice = connect(server.url, TOKEN, agent="alice")
        bob = connect(server.url, TOKEN, agent="bob")
        try:
            assert alice.wait_sent(10)
            held_committer.clear()
            alice.write("a.txt", "alice\n")
            deadline = time.monotonic() + 10
            while "a.txt" not in bob.paths():  # relayed while the committer is held
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert not alice.wait_sent(0.3)
            held_committer.set()
            assert alice.wait_sent(10)
            assert "a.txt" in server.workspace.paths()
        finally:
            held_committer.set()
            alice.close()
            bob.close()


async def acks_until_closed(ws: ClientConnection) -> tuple[int, int | None]:
    """The updates acknowledged on `ws` until the server closed it, and its close code."""
    acked = 0
    try:
        while True:
            message = await ws.recv()
            assert isinstance(message, bytes)
            if message[0] == DURABLE:
                acked += message[1]
    except ConnectionClosed as closed:
        return acked, closed.rcvd.code if closed.rcvd is not None else None


def test_a_log_that_cannot_be_written_stops_the_server_taking_updates(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The committer cannot apply a batch (a full disk, say): nothing is acknowledged, every
    connection is closed (1011), and a client that connects again has no update taken."""
    [first, second] = updates_of(repo, "alice", ["a.txt", "b.txt"])

    def broken(self: Server, *args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Server, "_apply", broken)

    async def main(url: str) -> None:
        async with websockets.connect(f"{url}?token={TOKEN}&acks=1") as alice:
            with anyio.fail_after(20):
                assert await alice.recv() == durable_message(0)
                await alice.send(create_update_message(first))
                assert await acks_until_closed(alice) == (0, CLOSE_INTERNAL)
        async with websockets.connect(f"{url}?token={TOKEN}&acks=1") as again:
            with anyio.fail_after(20):
                with contextlib.suppress(ConnectionClosed):  # (it may be closed already)
                    await again.send(create_update_message(second))
                assert await acks_until_closed(again) == (0, CLOSE_INTERNAL)

    with running_server(repo, token=TOKEN) as server:
        run(lambda: main(server.url))
        assert server.failure is not None
        assert "b.txt" not in server.room_doc.get("files", type=Map)


@pytest.fixture
def quiet_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replica's state vector waits a minute for a pause in the edits before it is
    published: any awareness message it sends meanwhile was sent for another reason."""
    monkeypatch.setattr(connection, "STATE_QUIET", 60.0)
    monkeypatch.setattr(connection, "STATE_LATEST", 60.0)


@pytest.mark.usefixtures("quiet_state")
def test_a_replica_does_not_publish_its_awareness_for_every_update(repo: Path) -> None:
    feed = updates_of(repo, "feeder", [f"fed/{i}.txt" for i in range(5)])
    with running_server(repo, token=TOKEN) as server:
        replica = connect(server.url, TOKEN, agent="watcher", heartbeat=600.0)
        try:
            mine = replica.client_id

            async def main() -> list[dict[str, Any]]:
                heard: list[dict[str, Any]] = []
                async with (
                    websockets.connect(f"{server.url}?token={TOKEN}") as observer,
                    websockets.connect(f"{server.url}?token={TOKEN}") as feeder,
                ):

                    async def listen() -> None:
                        async for message in observer:
                            assert isinstance(message, bytes)
                            if message[0] != YMessageType.AWARENESS:
                                continue
                            for who, state in awareness_states(bytes(read_payload(message[1:]))):
                                if who == mine and isinstance(state, dict):
                                    heard.append(state)

                    async def hear(agent: str) -> int:
                        while not any(h.get("agent") == agent for h in heard):
                            await anyio.sleep(0.01)
                        return next(i for i, h in enumerate(heard) if h.get("agent") == agent)

                    async with anyio.create_task_group() as group:
                        group.start_soon(listen)
                        with anyio.fail_after(30):
                            replica.rename_agent("before")  # published at once
                            await hear("before")
                            for number, update in enumerate(feed):
                                await feeder.send(create_update_message(update))
                                while f"fed/{number}.txt" not in replica.paths():
                                    await anyio.sleep(0.01)
                                # (longer than the pause between two publications: each
                                # update merged could be published on its own)
                                await anyio.sleep(connection.AWARENESS_INTERVAL * 2)
                            replica.rename_agent("after")
                            await hear("after")
                        group.cancel_scope.cancel()
                return heard

            heard = run_for(main)
        finally:
            replica.close()
    # What the replica published from its first "before" to its first "after": nothing for
    # the 5 updates it merged meanwhile.
    first = next(i for i, h in enumerate(heard) if h.get("agent") == "before")
    last = next(i for i, h in enumerate(heard) if h.get("agent") == "after")
    assert last == first + 1, heard[first : last + 1]


def run_for(main: Any) -> Any:
    """What `main()` returns, on an event loop (within `run`'s deadline)."""
    out: list[Any] = []

    async def wrapped() -> None:
        out.append(await main())

    run(wrapped)
    return out[0]


def test_an_update_deleting_log_entries_is_refused(repo: Path) -> None:
    with Workspace.open(repo, agent="lead") as ws:
        ws.write("app.py", APP.replace("0", "1"))
    server = Server(repo, token=TOKEN)
    try:
        peer = Workspace(Doc(), agent="mallory")
        peer.apply_update(server.workspace.update_since())
        [nid] = [n for n in peer.document.edited_nodes() if len(peer.document.log(n))]
        before = peer.state()
        with peer.doc.transaction():
            log = peer.document.node(nid)["log"]
            assert isinstance(log, Array)
            del log[0]
        with pytest.raises(Hostile, match="deletes entries of the log"):
            server.check_update(peer.update_since(before))
    finally:
        server.close()


def test_a_known_peer_deleting_log_entries_is_refused(repo: Path) -> None:
    """The check reads a log's change only when the update deletes anything (asked of yrs
    against the clients it knows): a peer the server has taken edits from before, deleting
    an old entry of a log while it appends one, is refused as a newcomer is."""
    with Workspace.open(repo, agent="lead") as ws:
        for n in range(5):
            ws.write("app.py", APP.replace("0", str(n + 1)))
    server = Server(repo, token=TOKEN)
    try:
        peer = Workspace(Doc(), agent="mallory")
        peer.apply_update(server.workspace.update_since())
        [nid] = [n for n in peer.document.edited_nodes() if len(peer.document.log(n)) > 3]
        before = peer.state()
        peer.write("app.py", APP.replace("0", "honest"))
        _, logged = server.check_update(peer.update_since(before))
        assert nid in logged  # (an honest edit of a known client: taken)
        before = peer.state()
        with peer.doc.transaction():
            log = peer.document.node(nid)["log"]
            assert isinstance(log, Array)
            del log[3]
        peer.write("app.py", APP.replace("0", "again"))
        with pytest.raises(Hostile, match="deletes entries of the log"):
            server.check_update(peer.update_since(before))
    finally:
        server.close()
