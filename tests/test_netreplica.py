"""Networked replicas against a real pycrdt-websocket server on 127.0.0.1: sync, partitions,
reconnection, claims, and the gate's view of connected peers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from pycrdt.websocket import ASGIServer, WebsocketServer

from crdtspace.errors import AuthError
from crdtspace.netreplica import NetworkReplica, connect, room_url
from crdtspace.testing import make_repo
from crdtspace.workspace import Workspace

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
        self.query = f"token={TOKEN}".encode()

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
                if scope["type"] == "websocket" and scope["query_string"] != self.query:
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
        replica = connect(server.url, TOKEN, agent=agent, **options)
        made.append(replica)
        return replica

    yield make
    for replica in made:
        replica.close()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def converged(*replicas: NetworkReplica) -> bool:
    renders = [r.render_all() for r in replicas]
    return all(r == renders[0] for r in renders)


def conflict_kinds(replica: NetworkReplica) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((c.kind, tuple(sorted(c.nodes))) for c in replica.conflicts())


# -- sync ------------------------------------------------------------------------------------


def test_the_room_url_carries_the_workspace_and_the_token() -> None:
    assert room_url("ws://h:1", "a b", "ws") == "ws://h:1/ws?token=a%20b"
    assert room_url("ws://h:1/room?x=1", "t") == "ws://h:1/room?x=1&token=t"


def test_a_replica_gets_the_servers_document(replicas: Callable[..., NetworkReplica]) -> None:
    alice = replicas("alice")
    assert alice.connected
    assert alice.render("app.py") == APP


def test_a_wrong_token_is_refused(server: TestServer) -> None:
    with pytest.raises(AuthError):
        connect(server.url, "wrong", agent="mallory", timeout=5)


def test_workspace_connect_delegates(server: TestServer) -> None:
    replica = Workspace.connect(server.url, TOKEN, agent="alice")
    try:
        assert isinstance(replica, NetworkReplica)
        assert replica.render("app.py") == APP
    finally:
        replica.close()


def test_edits_to_different_functions_converge(replicas: Callable[..., NetworkReplica]) -> None:
    alice, bob = replicas("alice"), replicas("bob")
    alice.replace("app.py::f1", "def f1(x):\n    return x * 100\n")
    bob.replace("app.py::f2", "def f2(x):\n    return x * 200\n")
    eventually(lambda: converged(alice, bob) and "x * 200" in alice.render("app.py"))
    text = alice.render("app.py")
    assert "x * 100" in text
    assert text.count("def f1") == 1
    assert text.count("def f2") == 1
