"""Interop with real Yjs software from npm, no mocks.

- A Yjs client (the `yjs` and `y-websocket` npm packages, `tests/interop/client.mjs`) against
  `crdtspace serve`: it reads a node's text and edits it, and Python sees the edit in the
  rendered file; a Python edit reaches the Yjs client.
- The standard Yjs websocket server (`@y/websocket-server`, `tests/interop/relay.mjs`) as the
  relay, and Python replicas converging through it: the path of a team that outgrows one
  machine.

The npm packages are installed from `tests/interop/package-lock.json` by `tests/interop/install`
(`npm ci`, unless `node_modules` already matches), which the README's test command and the
`interop` fixture both run. The tests skip only when `node` or `npm` is not installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map, Provider, Text

from crdtspace.live.access import token_for
from crdtspace.live.netreplica import NetworkReplica
from crdtspace.testing import WebsocketChannel
from crdtspace.workspace import Workspace

INTEROP = Path(__file__).parent / "interop"
TIMEOUT = 20.0

MODULE = (
    "import os\n"
    "\n"
    "\n"
    "def greet(name):\n"
    '    return "hello " + name\n'
    "\n"
    "\n"
    "def main():\n"
    '    print(greet("world"))\n'
)


# -- npm and node -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def interop() -> Path:
    """`tests/interop` with its npm packages installed (`npm ci` from the lock file if needed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the Yjs interop tests (not found on PATH)")
    # `install` runs `npm ci` unless node_modules already matches the lock file (offline-safe).
    done = subprocess.run(
        ["sh", str(INTEROP / "install")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not (INTEROP / "node_modules" / "y-websocket").is_dir():
        pytest.fail(
            f"`npm ci` in {INTEROP} failed (exit {done.returncode}); the interop tests need "
            f"the npm registry or a populated node_modules:\n{done.stdout}\n{done.stderr}"
        )
    return INTEROP


class Lines:
    """A child process whose stdout is read line by line in a thread, with timeouts."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, daemon=True),
            threading.Thread(target=self._drain, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stdout:
            for line in stdout:
                self._lines.put(line)
        self._lines.put(None)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr as stderr:
            for line in stderr:
                self._stderr.append(line)

    def line(self, timeout: float = TIMEOUT) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no output from {self.args} within {timeout} s; stderr: {self.stderr}"
            ) from None
        if line is None:
            self.process.wait(timeout=5)
            raise AssertionError(
                f"{self.args} exited ({self.process.returncode}); stderr: {self.stderr}"
            )
        return line.rstrip("\n")

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def close(self, timeout: float = 10) -> int:
        """Close stdin (the scripts' signal to finish) and wait; kill if they hang."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"{self.args} did not stop; stderr: {self.stderr}") from None
        finally:
            for thread in self._threads:
                thread.join(timeout=5)


class YjsClient:
    """`node client.mjs URL ROOM [TOKEN]`: a plain Yjs client, one JSON command per call."""

    def __init__(
        self, interop: Path, url: str, room: str, token: str | None = None, *flags: str
    ) -> None:
        args = ["node", "client.mjs", url, room, *([token] if token else []), *flags]
        self.proc = Lines(args, interop)
        first = json.loads(self.proc.line())
        assert first.get("event") == "synced", f"{first}; stderr: {self.proc.stderr}"
        self.client_id = int(first["client"])

    def __call__(self, op: str, **args: Any) -> dict[str, Any]:
        self.proc.send(json.dumps({"op": op, **args}))
        reply: dict[str, Any] = json.loads(self.proc.line())
        assert reply["ok"], f"{op} {args}: {reply.get('error')}; stderr: {self.proc.stderr}"
        return reply

    def close(self) -> None:
        assert self.proc.close() == 0, self.proc.stderr


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], bool],
    what: str,
    timeout: float = TIMEOUT,
    diagnose: Callable[[], str] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            said = f" ({diagnose()})" if diagnose is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{said}")
        time.sleep(0.02)


# -- the standard Yjs server as the relay --------------------------------------------------


@pytest.fixture
def relay(interop: Path) -> Iterator[str]:
    """`@y/websocket-server` on a free loopback port: its ws:// URL (rooms are paths)."""
    proc = Lines(["node", "relay.mjs", "0", "127.0.0.1"], interop)
    try:
        ready = proc.line()
        assert ready.startswith("READY "), ready
        yield f"ws://127.0.0.1:{int(ready.split()[1])}"
    finally:
        proc.close()


def _imported_doc(repo: Path) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(Workspace.from_commit(repo, agent="importer").update_since())
    return doc


def _render(doc: Doc[Any], path: str, agent: str) -> str:
    copy: Doc[Any] = Doc()
    copy.apply_update(doc.get_update())
    return Workspace(copy, agent=agent).render(path)


def _leaf(doc: Doc[Any], path: str, name: str) -> Text:
    """The text of the unit named `name` in `path` (a direct child of the file's root)."""
    nodes: Map[Any] = doc.get("nodes", type=Map)
    files: Map[Any] = doc.get("files", type=Map)
    root = nodes[next(iter(files[path]))]
    for child in root["body"]:
        if nodes[child]["name"] == name:
            text: Text = nodes[child]["text"]
            return text
    raise AssertionError(f"no unit {name} in {path}")


def test_pycrdt_providers_converge_through_the_standard_yjs_server(
    interop: Path, relay: str, tmp_path: Path
) -> None:
    """Two pycrdt docs (imported from one commit, independently) edit concurrently through
    `@y/websocket-server`; they converge, render the same bytes, and a Yjs client that joins the
    room later renders them too."""
    from websockets.asyncio.client import connect

    from crdtspace.testing import make_repo

    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": MODULE})
    room = "default"
    alice, bob = _imported_doc(repo), _imported_doc(repo)

    async def session() -> None:
        async with (
            connect(f"{relay}/{room}") as ws_a,
            connect(f"{relay}/{room}") as ws_b,
            Provider(alice, WebsocketChannel(ws_a, room)) as p_a,
            Provider(bob, WebsocketChannel(ws_b, room)) as p_b,
        ):
            await p_a.synced.wait()
            await p_b.synced.wait()
            greet, main = _leaf(alice, "pkg/mod.py", "greet"), _leaf(bob, "pkg/mod.py", "main")
            greet.insert(len(str(greet)), "    # alice was here\n")
            main.insert(len(str(main)), "    return 0\n")
            deadline = time.monotonic() + TIMEOUT
            while not all(
                "alice" in text and "return 0" in text
                for text in (_render(alice, "pkg/mod.py", "a"), _render(bob, "pkg/mod.py", "b"))
            ):
                assert time.monotonic() < deadline, "the replicas did not converge"
                await asyncio.sleep(0.02)

    asyncio.run(asyncio.wait_for(session(), 3 * TIMEOUT))

    merged = _render(alice, "pkg/mod.py", "alice")
    assert merged == _render(bob, "pkg/mod.py", "bob")
    assert '    return "hello " + name\n    # alice was here\n' in merged
    assert merged.endswith('    print(greet("world"))\n    return 0\n')

    client = YjsClient(interop, relay, room)
    try:
        assert client("render", path="pkg/mod.py")["text"] == merged
        assert client("find", path="pkg/mod.py", name="greet")["kind"] == "function_definition"
    finally:
        client.close()


# -- a Yjs client against `crdtspace serve` ------------------------------------------------

TOKEN = "interop-token-0123456789abcdef"
YJS_LINE = "    # a Yjs client was here\n"


class Served:
    """`python -m crdtspace -C repo serve --port P [--token T]`, a subprocess on a free port."""

    def __init__(self, repo: Path, token: str | None = None) -> None:
        self.repo = repo
        port = free_port()
        args = [sys.executable, "-m", "crdtspace", "-C", str(repo), "serve", "--port", str(port)]
        self.proc = Lines([*args, "--token", token] if token else args, repo)
        line = self.proc.line()
        while not line.startswith("serving "):
            line = self.proc.line()
        assert f":{port}/" in line, line
        self.url = f"ws://127.0.0.1:{port}"

    def stop(self) -> None:
        """SIGINT, as a person stopping it would: a graceful stop, exit 0."""
        if self.proc.process.poll() is None:
            self.proc.process.send_signal(signal.SIGINT)
        assert self.proc.close() == 0, self.proc.stderr


@pytest.fixture
def served(interop: Path, tmp_path: Path) -> Iterator[Served]:
    """A workspace of `MODULE` and `README.md`, served with the token `TOKEN`."""
    from crdtspace.testing import make_repo

    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": MODULE, "README.md": "# demo\n"})
    Workspace.init(repo, agent="importer").close()
    server = Served(repo, TOKEN)
    try:
        yield server
    finally:
        server.stop()


def test_a_yjs_client_reads_and_edits_a_node_on_crdtspace_serve(
    interop: Path, served: Served
) -> None:
    """A plain Yjs client (yjs + y-websocket from npm) joins `crdtspace serve`: it reads the
    schema (files, nodes, a function's text), edits the text, and a networked Python replica
    sees the edit in the rendered file; the Python replica's edit reaches the Yjs client; after
    the server stops, the durable workspace holds both."""
    url = served.url
    client = YjsClient(interop, url, "default", TOKEN)
    replica = Workspace.connect(url, TOKEN, agent="alice")
    try:
        assert client("files")["files"] == ["README.md", "pkg/mod.py"]
        greet = client("find", path="pkg/mod.py", name="greet")
        assert greet["kind"] == "function_definition"
        assert greet["part"] == "text"
        assert greet["text"] == replica.read("pkg/mod.py::greet")
        assert client("render", path="pkg/mod.py")["text"] == MODULE
        kinds = {e["name"]: e["kind"] for e in client("outline", path="pkg/mod.py")["nodes"]}
        assert kinds["main"] == "function_definition"

        # The Yjs client edits the node's Y.Text directly (no crdtspace log entry).
        client("insert", id=greet["id"], part="text", index=len(greet["text"]), text=YJS_LINE)
        expected = MODULE.replace(
            '    return "hello " + name\n', '    return "hello " + name\n' + YJS_LINE
        )
        wait_for(lambda: replica.render("pkg/mod.py") == expected, "the Yjs edit in Python")
        assert replica.read("pkg/mod.py::greet").endswith(YJS_LINE)
        assert replica.conflicts() == []

        # A Python edit (re-keyed, logged) reaches the Yjs client.
        replica.replace("pkg/mod.py::main", '\n\ndef main():\n    print(greet("yjs"))\n')
        seen = client("wait", path="pkg/mod.py", contains='greet("yjs")', timeout=TIMEOUT * 1000)
        assert seen["text"] == replica.render("pkg/mod.py")
        main_id = client("find", path="pkg/mod.py", name="main")["id"]
        # ...with its log entry (newest first): alice's, as crdtspace wrote it.
        wait_for(
            lambda: (
                [e["agent"] for e in client("get", path=["nodes", main_id, "log"])["value"]][:1]
                == ["alice"]
            ),
            "alice's log entry in the Yjs client",
        )
        client("flush")
        rendered = replica.render("pkg/mod.py")
    finally:
        client.close()
        replica.close()
    served.stop()
    with Workspace.open(served.repo, agent="check") as home:
        assert home.render("pkg/mod.py") == rendered
        assert YJS_LINE in rendered


def test_yjs_clients_one_after_another_with_the_workspace_token(
    interop: Path, tmp_path: Path
) -> None:
    """`crdtspace serve` with the workspace's own token (`server.token_for`): one Yjs client
    finds a node and leaves, the next one edits it, and the workspace reopened after the server
    stopped holds the edit."""
    from crdtspace.testing import make_repo

    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": MODULE})
    Workspace.init(repo, agent="importer").close()
    server = Served(repo)
    token = token_for(repo)
    try:
        find = json.dumps([{"op": "find", "path": "pkg/mod.py", "name": "main"}])
        first = Lines(
            ["node", "client.mjs", server.url, "default", token, "--commands", find], interop
        )
        assert json.loads(first.line())["event"] == "synced"
        main = json.loads(first.line())
        assert first.close() == 0, first.stderr
        second = YjsClient(interop, server.url, "default", token)
        second("insert", id=main["id"], part="text", index=0, text="# kept\n")
        second("flush")
        second.close()
    finally:
        server.stop()
    with Workspace.open(repo, agent="check") as home:
        assert home.read("pkg/mod.py::main").startswith("# kept\n")
        assert "# kept\n\n\ndef main():" in home.render("pkg/mod.py")


def test_a_yjs_client_with_a_wrong_token_gets_no_document(interop: Path, served: Served) -> None:
    """The server closes a connection with a wrong token before any document data is sent."""
    refused = Lines(
        ["node", "client.mjs", served.url, "default", "wrong-token", "--commands", "[]"], interop
    )
    event = json.loads(refused.line())
    assert refused.close() == 3, refused.stderr
    assert event["event"] == "error"
    assert event["received"] == {"files": 0, "nodes": 0}


def test_claims_go_both_ways_between_a_yjs_client_and_a_python_replica(
    interop: Path, served: Served
) -> None:
    """Awareness is the standard Yjs awareness protocol: a Yjs client that publishes crdtspace's
    presence ({agent, state, claims}) is a peer with claims to a Python replica, and a Python
    replica's claim shows in the Yjs client's awareness states."""
    client = YjsClient(interop, served.url, "default", TOKEN)
    replica = Workspace.connect(served.url, TOKEN, agent="alice")
    assert isinstance(replica, NetworkReplica)
    try:
        greet = client("find", path="pkg/mod.py", name="greet")["id"]
        claim = {"node": greet, "path": "pkg/mod.py", "until": time.time() + 60}
        client("presence", state={"agent": "yjs-editor", "state": True, "claims": [claim]})
        wait_for(lambda: bool(replica.claims()), "the Yjs client's claim in Python")
        [seen] = replica.claims()
        assert (seen.agent, seen.node, seen.path, seen.name) == (
            "yjs-editor",
            greet,
            "pkg/mod.py",
            "greet",
        )
        assert [peer.agent for peer in replica.peers()] == ["yjs-editor"]

        mine = replica.claim("pkg/mod.py::main")
        peers = client("peers", agent="alice", claims=1, timeout=TIMEOUT * 1000)["peers"]
        [alice] = [p["state"] for p in peers if p["state"].get("agent") == "alice"]
        assert alice["claims"][0]["node"] == mine.node
        assert alice["claims"][0]["path"] == "pkg/mod.py"

        # Claims are advisory: alice may edit greet, and the edit is reported.
        replica.replace("pkg/mod.py::greet", '\n\ndef greet(name):\n    return "hi " + name\n')
        assert [(v.name, v.claimed_by) for v in replica.claim_violations()] == [
            ("greet", "yjs-editor")
        ]
    finally:
        client.close()
        replica.close()


def test_concurrent_edits_of_one_node_by_yjs_and_python_converge_everywhere(
    interop: Path, served: Served
) -> None:
    """A Yjs client and an offline Python replica edit the same function at once; after the
    replica reconnects, the Yjs client, the replica and the server's workspace (reopened after
    it stopped) hold the same bytes with both edits."""
    client = YjsClient(interop, served.url, "default", TOKEN)
    replica = Workspace.connect(served.url, TOKEN, agent="alice")
    assert isinstance(replica, NetworkReplica)
    try:
        greet = client("find", path="pkg/mod.py", name="greet")
        replica.disconnect()
        client("insert", id=greet["id"], part="text", index=len(greet["text"]), text=YJS_LINE)
        replica.replace("pkg/mod.py::greet", '\n\ndef greet(name):\n    return "hi " + name\n')
        replica.reconnect()
        wait_for(lambda: YJS_LINE in replica.render("pkg/mod.py"), "the Yjs edit in Python")
        both = replica.render("pkg/mod.py")
        assert '"hi " + name' in both
        seen = client("wait", path="pkg/mod.py", contains='"hi "', timeout=TIMEOUT * 1000)
        assert seen["text"] == both
        client("flush")
    finally:
        client.close()
        replica.close()
    served.stop()
    with Workspace.open(served.repo, agent="check") as home:
        assert home.render("pkg/mod.py") == both


def test_a_yjs_client_adds_a_file_but_not_outside_the_repository(
    interop: Path, served: Served
) -> None:
    """A Yjs client may add a file (one leaf node, crdtspace's schema); one that adds a path
    outside the repository is cut off by the server, and no replica ever sees that path."""
    replica = Workspace.connect(served.url, TOKEN, agent="alice")
    good = YjsClient(interop, served.url, "default", TOKEN)
    try:
        good("add-file", path="docs/notes.txt", text="from a Yjs client\n")
        wait_for(lambda: "docs/notes.txt" in replica.paths(), "the new file in Python")
        assert replica.render("docs/notes.txt") == "from a Yjs client\n"
        assert replica.read("docs/notes.txt") == "from a Yjs client\n"
    finally:
        good.close()
    hostile = YjsClient(interop, served.url, "default", TOKEN)
    try:
        hostile("add-file", path="../escape.txt", text="outside\n")
        wait_for(lambda: hostile("connection")["closes"] >= 1, "the server to cut the client off")
        time.sleep(0.3)
        assert "../escape.txt" not in replica.paths()
        assert replica.paths() == ["README.md", "docs/notes.txt", "pkg/mod.py"]
        assert "'../escape.txt' is outside the repository" in served.proc.stderr
    finally:
        hostile.close()
        replica.close()
    served.stop()
    with Workspace.open(served.repo, agent="check") as home:
        assert home.paths() == ["README.md", "docs/notes.txt", "pkg/mod.py"]


# -- networked replicas through the standard Yjs server ------------------------------------


def test_networked_replicas_converge_through_the_standard_yjs_server(
    interop: Path, relay: str, tmp_path: Path
) -> None:
    """The team path: the standard Yjs server relays; the home replica (the durable workspace)
    connects to it and seeds the room, a second replica joins with nothing, both edit at once
    (one offline) and converge to the same bytes and the same conflicts; a Yjs client sees the
    same file."""
    from crdtspace.git import gitio
    from crdtspace.testing import make_repo

    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": MODULE})
    Workspace.init(repo, agent="importer").close()
    state_dir = gitio.state_dir(gitio.open_repo(repo), "default")
    home = Workspace.connect(relay, "unused", agent="alice", state_dir=state_dir)
    bob = Workspace.connect(relay, "unused", agent="bob")
    assert isinstance(bob, NetworkReplica)
    try:
        wait_for(lambda: bob.paths() == ["pkg/mod.py"], "bob's first sync through the relay")
        assert bob.render("pkg/mod.py") == MODULE
        # Concurrent for sure: bob edits offline, and catches up through the relay.
        bob.disconnect()
        home.replace("pkg/mod.py::greet", '\n\ndef greet(name):\n    return "hi " + name\n')
        bob.replace("pkg/mod.py::main", '\n\ndef main():\n    print(greet("team"))\n')
        bob.replace("pkg/mod.py::greet", '\n\ndef greet(name):\n    return "hey " + name\n')
        bob.reconnect()

        def converged() -> bool:
            # the merged text itself (reads show the open overlap as both sides and the base)
            text = home.document.render("pkg/mod.py")
            return (
                text == bob.document.render("pkg/mod.py")
                and 'greet("team")' in text
                and "hello" not in text
                and home.render("pkg/mod.py") == bob.render("pkg/mod.py")
            )

        wait_for(converged, "the two replicas to converge")
        conflicts = home.conflicts()
        assert [c.kind for c in conflicts] == ["overlap"]
        assert [c.id for c in bob.conflicts()] == [c.id for c in conflicts]

        client = YjsClient(interop, relay, "default")
        try:
            assert client("render", path="pkg/mod.py")["text"] == home.document.render("pkg/mod.py")
        finally:
            client.close()
    finally:
        bob.close()
        home.close()
    with Workspace.open(repo, agent="check") as reopened:
        assert 'greet("team")' in reopened.render("pkg/mod.py")
