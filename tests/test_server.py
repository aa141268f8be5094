"""The sync server: real servers on loopback, real websocket clients, hostile input, kill -9."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
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
    Provider,
    Text,
    create_awareness_message,
    create_update_message,
)
from typer.testing import CliRunner
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from crdtspace import Workspace
from crdtspace.cli import app
from crdtspace.errors import AuthError, SyncError
from crdtspace.live.access import fetch_status, token_for
from crdtspace.live.hocuspocus import read_var_uint
from crdtspace.live.protocol import DURABLE
from crdtspace.live.server import GuardedChannel, running_server
from crdtspace.testing import WebsocketChannel, make_repo
from tests.deadlines import output, read_line

TOKEN = "s3cret-token"
RUN_TIMEOUT = 180.0
"""Seconds a test's session with the server may take at most: a deadline for its waits."""
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "repo",
        {
            "app.py": "def main():\n    return 0\n\n\ndef helper():\n    return 1\n",
            "notes.txt": "start\n",
        },
    )
    Workspace.init(root, agent="setup").close()
    return root


@asynccontextmanager
async def client(
    url: str, doc: Doc[Any], token: str = TOKEN, agent: str | None = None
) -> AsyncIterator[Provider]:
    """A pycrdt Provider syncing `doc` with the server, initial sync done."""
    named = f"&agent={agent}" if agent else ""
    async with (
        websockets.connect(f"{url}?token={token}{named}", max_size=None) as ws,
        Provider(doc, WebsocketChannel(ws, "/default")) as provider,
    ):
        with anyio.fail_after(10):
            await provider.synced.wait()
        yield provider


async def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    with anyio.fail_after(timeout):
        while not check():
            await anyio.sleep(0.005)


async def drain(ws: ClientConnection) -> None:
    """Read until the server closes the connection."""
    while True:
        await ws.recv()


def render(doc: Doc[Any]) -> dict[str, str]:
    copy: Doc[Any] = Doc()
    copy.apply_update(doc.get_update())
    return Workspace(copy, agent="reader").render_all()


def edit_update(repo: Path, agent: str, edit: Callable[[Workspace], object]) -> bytes:
    """The update a replica of the base commit makes with `edit`."""
    replica = Workspace.from_commit(repo, agent=agent)
    before = replica.state()
    edit(replica)
    return replica.update_since(before)


def apply_in(doc: Doc[Any], update: bytes) -> None:
    """Apply as a local change of a client doc (so its Provider sends it)."""
    doc.apply_update(update)


def run(main: Callable[[], Awaitable[None]], timeout: float = RUN_TIMEOUT) -> None:
    """`main()` on an event loop, failing the test if it has not finished within `timeout`
    seconds (every `recv` and wait in it ends by then)."""

    async def bounded() -> None:
        with anyio.move_on_after(timeout) as deadline:
            await main()
        if deadline.cancelled_caught:
            raise AssertionError(f"the session with the server took over {timeout:g} s")

    anyio.run(bounded)


# -- sync -------------------------------------------------------------------------------


def test_two_clients_edit_and_the_server_merges_durably(repo: Path) -> None:
    alice = edit_update(
        repo, "alice", lambda w: w.replace("app.py::main", "def main():\n    return 2\n")
    )
    bob = edit_update(
        repo, "bob", lambda w: w.replace("app.py::helper", "def helper():\n    return 3\n")
    )
    with running_server(repo, token=TOKEN) as server:

        async def main() -> None:
            a: Doc[Any] = Doc()
            b: Doc[Any] = Doc()
            async with client(server.url, a), client(server.url, b):
                apply_in(a, alice)
                apply_in(b, bob)
                await eventually(lambda: "return 2" in render(b).get("app.py", ""))
                await eventually(lambda: "return 3" in render(a).get("app.py", ""))
                assert render(a) == render(b)

        run(main)
    merged = Workspace.from_commit(repo, agent="check")
    merged.apply_update(alice)
    merged.apply_update(bob)
    with Workspace.open(repo, agent="check") as ws:
        assert ws.render_all() == merged.render_all()
        assert "return 2" in ws.render("app.py")
        assert "return 3" in ws.render("app.py")


def test_status_names_clients_and_needs_the_token(repo: Path) -> None:
    with running_server(repo, token=TOKEN) as server:
        base = f"http://127.0.0.1:{server.port}/status"

        async def main() -> None:
            async with websockets.connect(f"{server.url}?token={TOKEN}&agent=alice") as ws:
                await ws.recv()  # the server's sync step 1: we are in
                status = await anyio.to_thread.run_sync(lambda: _get(base, TOKEN))
                assert status["workspace"] == "default"
                assert [c["agent"] for c in status["clients"]] == ["alice"]
                assert len(status["base"]) == 40
                assert status["warnings"] == []

        run(main)
        with pytest.raises(AuthError):
            _get(base, "wrong")


def test_status_shows_awareness_state_vectors_and_claims(repo: Path) -> None:
    """What a networked replica publishes in awareness: its agent, state vector and claims."""
    with running_server(repo, token=TOKEN) as server:

        async def main() -> None:
            doc: Doc[Any] = Doc()
            awareness = Awareness(doc)
            vector = bytes(doc.get_state())
            awareness.set_local_state({"agent": "bob", "state": vector.hex(), "claims": ["n.1"]})
            update = awareness.encode_awareness_update([doc.client_id])
            async with websockets.connect(f"{server.url}?token={TOKEN}") as ws:
                await ws.send(create_awareness_message(update))
                await eventually(lambda: bool(server.peer_states()))
                assert server.peer_states() == {"bob": vector}
                status = await anyio.to_thread.run_sync(lambda: _get(server.url, TOKEN))
                assert [c["agent"] for c in status["clients"]] == ["bob"]
                assert status["clients"][0]["state_vector"] == vector.hex()
                assert status["claims"] == {"bob": ["n.1"]}
                result = await anyio.to_thread.run_sync(
                    lambda: CliRunner().invoke(
                        app, ["-C", str(repo), "status", "--server", server.url, "--token", TOKEN]
                    )
                )
                assert result.exit_code == 0, result.output
                assert "bob" in result.output
                assert "claims        bob: ['n.1']" in result.output
            refused = CliRunner().invoke(
                app, ["-C", str(repo), "status", "--server", server.url, "--token", "nope"]
            )
            assert refused.exit_code == AuthError.exit_code

        run(main)


def _get(url: str, token: str) -> dict[str, Any]:
    return fetch_status(url, token)


# -- auth -------------------------------------------------------------------------------


def test_a_wrong_or_missing_token_is_refused_before_any_data(repo: Path) -> None:
    with running_server(repo, token=TOKEN) as server:

        async def main() -> None:
            for url in (server.url, f"{server.url}?token=wrong", f"{server.url}x?token={TOKEN}"):
                with pytest.raises(InvalidStatus) as refused:
                    async with websockets.connect(url) as ws:
                        await ws.recv()
                assert refused.value.response.status_code == 403
                assert not refused.value.response.body
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with websockets.connect(server.url, additional_headers=headers) as ws:
                assert (await ws.recv())[0] == 0  # a sync message: admitted

        run(main)


def test_the_token_is_created_once_with_mode_0600(repo: Path) -> None:
    token = token_for(repo)
    path = repo / ".git" / "crdtspace" / "default" / "token"
    assert path.stat().st_mode & 0o777 == 0o600
    assert token_for(repo) == token
    assert len(token) >= 32


def test_a_non_loopback_host_is_warned_about(repo: Path) -> None:
    with running_server(repo, token=TOKEN, host="0.0.0.0") as server:
        assert "not on loopback" in server.status()["warnings"][0]


# -- hostile input ---------------------------------------------------------------------


def _files_update(repo: Path, path: str) -> bytes:
    replica = Workspace.from_commit(repo, agent="mallory")
    before = replica.doc.get_state()
    with replica.doc.transaction():
        replica.doc.get("files", type=Map)[path] = Array(["x.1"])
    return bytes(replica.doc.get_update(before))


def _node_path_update(repo: Path, path: str) -> bytes:
    replica = Workspace.from_commit(repo, agent="mallory")
    before = replica.doc.get_state()
    root = replica.doc.get("files", type=Map)["notes.txt"][0]
    with replica.doc.transaction():
        replica.doc.get("nodes", type=Map)[root]["path"] = path
    return bytes(replica.doc.get_update(before))


def _second_update(repo: Path) -> bytes:
    """The second of two updates of one replica, without the first it depends on."""
    replica = Workspace.from_commit(repo, agent="mallory")
    replica.write("one.txt", "1\n")
    before = replica.state()
    replica.write("two.txt", "2\n")
    return replica.update_since(before)


def _mode_update(repo: Path, mode: str) -> bytes:
    return _raw_update(repo, lambda w: _node(w, _root(w)).__setitem__("mode", mode))


def _gitonly_update(repo: Path) -> bytes:
    ghost = {"reason": "binary", "blob": "ab" * 20, "mode": "120000"}
    return _raw_update(
        repo, lambda w: w.doc.get("gitonly", type=Map).__setitem__("ghost.bin", Map(ghost))
    )


def _through_link(repo: Path) -> bytes:
    """A file below a symbolic link of the working tree (to a folder outside it)."""
    link = repo / "linkdir"
    if not link.is_symlink():
        link.symlink_to(repo.parent)
    return _files_update(repo, "linkdir/evil.py")


def _raw_update(repo: Path, change: Callable[[Workspace], None]) -> bytes:
    """An update doing `change` straight on a replica's document (no crdtspace API)."""
    replica = Workspace.from_commit(repo, agent="mallory")
    before = replica.doc.get_state()
    with replica.doc.transaction():
        change(replica)
    return bytes(replica.doc.get_update(before))


def _root(ws: Workspace, path: str = "app.py") -> str:
    return str(ws.doc.get("files", type=Map)[path][0])


def _node(ws: Workspace, nid: str) -> Map[Any]:
    node: Map[Any] = ws.doc.get("nodes", type=Map)[nid]
    return node


def _cycle(ws: Workspace) -> None:
    a = ws.document.children(_root(ws))[0]
    b = ws.document.children(_root(ws))[1]
    _node(ws, a)["parent"] = b
    _node(ws, b)["parent"] = a


def _deep(ws: Workspace) -> None:
    nodes = ws.doc.get("nodes", type=Map)
    parent = _root(ws)
    for depth in range(400):
        nid = f"deep{depth}"
        fields = {"kind": "block", "name": "", "parent": parent, "head": Text(""), "tail": Text("")}
        nodes[nid] = Map({**fields, "body": Array(), "log": Array()})
        _node(ws, parent)["body"].append(nid)
        parent = nid


SCHEMA: dict[str, Callable[[Workspace], None]] = {
    "own parent": lambda w: _node(w, w.document.children(_root(w))[0]).__setitem__(
        "parent", w.document.children(_root(w))[0]
    ),
    "two-node cycle": _cycle,
    "deep nesting": _deep,
    "container without head": lambda w: _node(w, _root(w)).pop("head"),
    "numbers as roots": lambda w: w.doc.get("files", type=Map).__setitem__(
        "new.py", Array([1, 2.5, None])
    ),
    "string as node": lambda w: w.doc.get("nodes", type=Map).__setitem__("bad", "x"),
    "deleted node": lambda w: w.doc.get("nodes", type=Map).pop(_root(w, "notes.txt")),
    "file removed unrecorded": lambda w: w.doc.get("files", type=Map).pop("notes.txt"),
}


def _schema_case(change: Callable[[Workspace], None], repo: Path) -> bytes:
    return create_update_message(_raw_update(repo, change))


HOSTILE: dict[str, Callable[[Path], bytes | str]] = {
    "malformed sync": lambda _: b"\x00\x02\x05\xff\xff\xff\xff\xff",
    "garbage update": lambda _: create_update_message(b"\x01\x02\x03\x04\x05\x06"),
    "unknown type": lambda _: b"\x09\x00",
    "text frame": lambda _: "hello",
    "oversized": lambda _: create_update_message(b"\x00" * 5000),
    "absolute path": lambda r: create_update_message(_files_update(r, "/etc/passwd")),
    "dotdot path": lambda r: create_update_message(_files_update(r, "../outside.py")),
    "into .git": lambda r: create_update_message(_files_update(r, ".git/hooks/pre-commit")),
    "missing dependencies": lambda r: create_update_message(_second_update(r)),
    "node path": lambda r: create_update_message(_node_path_update(r, "../evil.txt")),
    "below a file": lambda r: create_update_message(_files_update(r, "notes.txt/sub.py")),
    "into .GIT": lambda r: create_update_message(_files_update(r, ".GIT/config")),
    "through a link": lambda r: create_update_message(_through_link(r)),
    "forged mode": lambda r: create_update_message(_mode_update(r, "120000")),
    "git-only entry": lambda r: create_update_message(_gitonly_update(r)),
    **{f"schema: {name}": functools.partial(_schema_case, c) for name, c in SCHEMA.items()},
}


@pytest.mark.parametrize("compression", ["deflate", None])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_closes_only_that_connection(
    repo: Path, case: str, compression: str | None
) -> None:
    """With compression, hypercorn reads the hostile client's socket; without, the server's
    own reader does (`crdtspace.live.wire`), once it took over, as it has here."""
    message = HOSTILE[case](repo)
    good = edit_update(repo, "alice", lambda w: w.write("ok.txt", "fine\n"))
    with running_server(repo, token=TOKEN, max_update=4096) as server:

        async def main() -> None:
            a: Doc[Any] = Doc()
            b: Doc[Any] = Doc()
            async with client(server.url, a), client(server.url, b):
                url = f"{server.url}?token={TOKEN}"
                async with websockets.connect(url, compression=compression) as bad:
                    if compression is None:
                        await eventually(lambda: any(read_below(c) for c in server._channels))
                    await bad.send(message)
                    with anyio.fail_after(5), pytest.raises(ConnectionClosed):
                        await drain(bad)
                    assert bad.close_code in (1008, 1009)
                apply_in(a, good)
                await eventually(lambda: "ok.txt" in render(b))
                assert render(a) == render(b)
                assert not any(p.startswith(("/", "..", ".git")) for p in render(b))

        run(main)
        assert server.status()["rejected"] == 1
    with Workspace.open(repo, agent="check") as ws:
        assert sorted(ws.paths()) == ["app.py", "notes.txt", "ok.txt"]


@contextmanager
def opened_after_a_kill(repo: Path) -> Iterator[Workspace]:
    """The workspace, opened after its server was killed (-9). A kill in the middle of a log
    write leaves a torn last record (never fsynced, so never acknowledged), which opening
    ignores with a warning: that warning, and no other, is expected."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ws = Workspace.open(repo, agent="check")
    said = [str(w.message) for w in caught]
    assert all("torn last record" in message for message in said), said
    with ws:
        yield ws


def read_below(channel: GuardedChannel) -> bool:
    """Whether the server's own reader reads this channel's socket (not hypercorn)."""
    return channel._reader is not None and channel._reader.reading


# -- kill -9 ---------------------------------------------------------------------------


def _start(repo: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRDTSPACE_TOKEN": TOKEN},
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = read_line(process, "serve to say it is serving")
    if not line.startswith("serving "):
        process.kill()
        raise AssertionError(output(process, "its error", 30)[1])
    return process, line.split()[1]


async def write_counting_acks(
    url: str, updates: list[bytes], acked: list[int], pause: float = 0.0
) -> None:
    """Send `updates` in order on a connection that asks for acknowledgements (``?acks=1``),
    counting in `acked[0]` how many the server said are durable; until the server goes."""
    async with websockets.connect(f"{url}?token={TOKEN}&acks=1") as ws:

        async def count() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for message in ws:
                    assert isinstance(message, bytes)
                    if message[0] == DURABLE:
                        acked[0] += read_var_uint(message, 1)[0]

        async with anyio.create_task_group() as group:
            group.start_soon(count)
            with contextlib.suppress(ConnectionClosed):
                for update in updates:
                    await ws.send(create_update_message(update))
                    await anyio.sleep(pause)
                await ws.wait_closed()  # the kill closes it


async def hand_back(url: str, doc: Doc[Any], paths: set[str]) -> None:
    """`doc` (a client that saw updates before the server was killed) connects to the
    restarted server; the handshake hands back what the server lacks: wait until another
    client holds every one of `paths`."""
    fresh: Doc[Any] = Doc()
    async with client(url, fresh), client(url, doc):
        await eventually(lambda: paths <= set(render(fresh)), timeout=30)


def test_kill_minus_nine_loses_nothing_acknowledged(repo: Path) -> None:
    """Two writers storm the server and count its acknowledgements; a third client sees the
    updates relayed (at once, before they are durable). After a SIGKILL, every update
    acknowledged to its writer is in the log; and every update the observer saw is back in
    the workspace once the observer reconnects (it held them: nothing anyone saw is lost)."""
    names = ("alice", "bob")
    updates = {
        name: [
            edit_update(repo, name, lambda w, n=name, i=i: w.write(f"storm/{n}{i}.txt", f"{i}\n"))
            for i in range(60)
        ]
        for name in names
    }
    acked = {name: [0] for name in names}
    process, url = _start(repo)
    observer: Doc[Any] = Doc()
    seen: set[str] = set()
    try:

        async def main() -> None:
            files = observer.get("files", type=Map)
            async with client(url, observer), anyio.create_task_group() as group:
                for name in names:
                    group.start_soon(write_counting_acks, url, updates[name], acked[name], 0.002)
                await eventually(lambda: len(list(files.keys())) >= 2 + 40)
                await eventually(lambda: sum(a[0] for a in acked.values()) >= 20)
                process.send_signal(signal.SIGKILL)
                seen.update(files.keys())

        run(main)
    finally:
        process.kill()
        output(process, "the killed server's output", 30)
    durable = {f"storm/{n}{i}.txt" for n in names for i in range(acked[n][0])}
    assert len(durable) >= 20
    assert len(seen) > 40
    with opened_after_a_kill(repo) as ws:
        assert durable <= set(ws.paths())
    process, url = _start(repo)
    try:
        run(lambda: hand_back(url, observer, seen))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
    with Workspace.open(repo, agent="check") as ws:
        assert seen <= set(ws.paths())


def test_a_port_in_use_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other", {"a.txt": "a\n"})
    Workspace.init(other, agent="setup").close()
    with running_server(repo, token=TOKEN) as server:
        result = CliRunner().invoke(app, ["-C", str(other), "serve", "--port", str(server.port)])
    assert result.exit_code == SyncError.exit_code
    assert "Cannot listen on 127.0.0.1" in result.output
    with Workspace.open(other, agent="check"):  # closed again after the failure
        pass


def test_serve_stops_cleanly_on_sigint(repo: Path) -> None:
    """Connected clients are told the server is going away (1001); exit status 0."""
    process, url = _start(repo)

    async def main() -> None:
        async with websockets.connect(f"{url}?token={TOKEN}") as ws:
            await ws.recv()
            process.send_signal(signal.SIGINT)
            with anyio.fail_after(5), pytest.raises(ConnectionClosed):
                await drain(ws)
            assert ws.close_code == 1001

    try:
        run(main)
    finally:
        stdout, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in stdout


def test_a_file_removed_through_the_api_is_accepted(repo: Path) -> None:
    gone = edit_update(repo, "alice", lambda w: w.remove("notes.txt"))
    with running_server(repo, token=TOKEN) as server:

        async def main() -> None:
            a: Doc[Any] = Doc()
            b: Doc[Any] = Doc()
            async with client(server.url, a), client(server.url, b):
                await eventually(lambda: "notes.txt" in render(b))
                apply_in(a, gone)
                await eventually(lambda: "notes.txt" not in render(b))  # (durable on exit)

        run(main)
        assert server.status()["rejected"] == 0
    with Workspace.open(repo, agent="check") as ws:
        assert ws.paths() == ["app.py"]


@pytest.mark.parametrize("client_stays", [True, False])
def test_sigterm_during_a_storm_stops_at_once(repo: Path, client_stays: bool) -> None:
    """A storm of tiny updates is queued in the connection when SIGTERM comes: the server stops
    reading (what it did not relay was not acknowledged, and the client still holds it) rather
    than checking and committing every queued update first; whether the client stays or goes."""
    import threading
    import time

    replica = Workspace.from_commit(repo, agent="storm")
    updates: list[bytes] = []
    replica.subscribe(updates.append)
    for _ in range(3000):
        replica.splice("notes.txt", 0, 0, "x")
    messages = [create_update_message(u) for u in updates]
    process, url = _start(repo)
    took: list[float] = []

    def wait_for_exit() -> None:
        began = time.monotonic()
        process.wait(120)
        took.append(time.monotonic() - began)

    async def main() -> None:
        async with websockets.connect(f"{url}?token={TOKEN}", close_timeout=1) as ws:
            await ws.recv()
            for message in messages:
                await ws.send(message)
            process.send_signal(signal.SIGTERM)
            waiter.start()
            if client_stays:
                await anyio.to_thread.run_sync(waiter.join)

    waiter = threading.Thread(target=wait_for_exit)
    try:
        run(main)
        waiter.join(120)
    finally:
        if process.poll() is None:
            process.kill()
        output(process, "the server's output", 30)
    assert took[0] < 5
    assert process.returncode == 0
    with Workspace.open(repo, agent="check") as ws:  # whatever it took is durable and whole
        text = ws.render("notes.txt")
        assert text.endswith("start\n")
        assert set(text[: -len("start\n")]) <= {"x"}


def test_a_plain_yjs_edit_gets_an_author_and_a_log_entry(repo: Path) -> None:
    """A client that types into a node's Text straight (no crdtspace entry): the server logs it
    as that client's edit, so the conflict layer weighs it against the others'."""
    seen = Workspace.from_commit(repo, agent="mallory")
    root = _root(seen, "notes.txt")
    concurrent = edit_update(repo, "alice", lambda w: w.write("notes.txt", "alice\n"))
    with running_server(repo, token=TOKEN) as server:

        async def main() -> None:
            a: Doc[Any] = Doc()
            b: Doc[Any] = Doc()
            async with client(server.url, a, agent="yjs-user"), client(server.url, b):
                await eventually(lambda: "notes.txt" in render(a))
                text = a.get("nodes", type=Map)[root]["text"]
                text.insert(0, "typed ")  # a plain Yjs edit: no log entry
                await eventually(lambda: render(b).get("notes.txt", "").startswith("typed "))
                apply_in(b, concurrent)
                await eventually(lambda: "alice" in render(a).get("notes.txt", ""))

        run(main)
    with Workspace.open(repo, agent="check") as ws:
        agents = [entry.agent for _, entry in ws.log("notes.txt")]
        assert "yjs-user" in agents
        assert "alice" in agents
        [conflict] = ws.conflicts()  # the raw edit and alice's rewrite of the same line
        assert conflict.kind == "overlap"
        assert set(conflict.agents) == {"alice", "yjs-user"}
