"""Hocuspocus with Redis as the sync engine, with real nodes: no mocks.

Two Hocuspocus 3.x nodes (`tests/interop/hocuspocus.mjs`, `@hocuspocus/server` with
`@hocuspocus/extension-redis`) share one Redis (each test starts its own `redis-server` on a
free port, nothing saved); the home replica (the durable workspace, guarded: `home=`) joins
node A, the agents' replicas node B. The tests skip when node/npm or redis-server is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map

from crdtspace.errors import AuthError
from crdtspace.git import gate, gitio
from crdtspace.live import netreplica
from crdtspace.testing import git, make_repo
from crdtspace.workspace import Workspace
from tests.deadlines import read_line
from tests.test_interop import MODULE, Lines, YjsClient, free_port, interop, wait_for

__all__ = ["interop"]  # (the fixture, imported to be found here)

TOKEN = "s3cret-tok"
TIMEOUT = 20.0


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    """A `redis-server` of this test's own on a free loopback port, saving nothing."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is needed for the Hocuspocus tests (not found on PATH)")
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _listening(port), "redis-server to listen", 10.0)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Node:
    """One Hocuspocus node on a fixed port: started, killed (-9) and started again. `modules`:
    the folder of tests/interop its packages come from (`hocuspocus2`: 2.x; 3.x by default);
    `prefix`: the path it takes websockets on, as behind a proxy."""

    def __init__(
        self, interop: Path, redis_port: int, *, modules: str = "", prefix: str = ""
    ) -> None:
        self.interop = interop
        self.redis_port = redis_port
        self.modules = modules
        self.prefix = prefix
        self.port = free_port()
        self.proc: Lines | None = None
        self.start()

    def start(self) -> None:
        args = ["node", "hocuspocus.mjs", str(self.port), str(self.redis_port), TOKEN]
        args += ["127.0.0.1", self.prefix] if self.prefix else []
        env = {**os.environ, "HOCUSPOCUS_MODULES": self.modules} if self.modules else None
        self.proc = Lines(args, self.interop, env=env)
        ready = self.proc.line()
        assert ready == f"READY {self.port}", ready

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.process.send_signal(signal.SIGKILL)
        self.proc.close()  # (its pipes; it is gone already)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.close()
            self.proc = None

    def url(self, document: str = "default") -> str:
        return f"hocuspocus+ws://127.0.0.1:{self.port}/{document}"

    def documents(self) -> list[str]:
        return list(self.about()["documents"])

    def about(self) -> dict[str, Any]:
        """What the node says of itself: its Hocuspocus version and its documents."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as answer:
            about: dict[str, Any] = json.load(answer)
            return about


@pytest.fixture
def nodes(interop: Path, redis_port: int) -> Iterator[tuple[Node, Node]]:
    """Two Hocuspocus nodes on one Redis."""
    a = Node(interop, redis_port)
    b = Node(interop, redis_port)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def old_and_new(interop: Path, redis_port: int) -> Iterator[tuple[Node, Node]]:
    """A Hocuspocus 2.x node (`tests/interop/hocuspocus2`) and a 3.x one on one Redis."""
    if not (interop / "hocuspocus2" / "node_modules" / "@hocuspocus" / "server").is_dir():
        pytest.fail("tests/interop/install did not install tests/interop/hocuspocus2")
    a = Node(interop, redis_port, modules="hocuspocus2")
    b = Node(interop, redis_port)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"pkg/mod.py": MODULE})
    Workspace.init(root, agent="importer").close()
    return root


@pytest.fixture
def join(nodes: tuple[Node, Node], repo: Path) -> Iterator[Callable[..., Workspace]]:
    """`join(node, agent, home=False)`: a replica on that node (the home one with `home`)."""
    made: list[Workspace] = []

    def make(node: Node, agent: str, *, home: bool = False) -> Workspace:
        replica = Workspace.connect(
            node.url(), TOKEN, agent=agent, home=repo if home else None, timeout=TIMEOUT
        )
        made.append(replica)
        return replica

    yield make
    for replica in reversed(made):
        replica.close()


def _state(*replicas: Workspace) -> str:
    """What each replica holds, for a failure's message."""
    return "; ".join(
        f"{r.agent}: {r.render('pkg/mod.py')!r}, {len(r.conflicts())} conflicts, "
        f"held {getattr(r, 'held', lambda: '-')()}, refused {getattr(r, 'refusals', list)()}"
        for r in replicas
    )


def texts(*replicas: Workspace) -> set[str]:
    return {r.document.render("pkg/mod.py") for r in replicas}


GREET = '\n\ndef greet(name):\n    return "hi " + name\n'
MAIN = '\n\ndef main():\n    print(greet("team"))\n'


def test_replicas_on_two_nodes_converge_and_the_home_gate_commits_them(
    nodes: tuple[Node, Node], join: Callable[..., Workspace], repo: Path
) -> None:
    """Home on node A, two agents on node B: edits to different functions converge
    everywhere, claims cross nodes, the home replica's gate commits both as co-authors; then
    both edit one function at once and every replica reports the same conflict."""
    a, b = nodes
    home = join(a, "home", home=True)
    alice, bob = join(b, "alice"), join(b, "bob")
    assert alice.render("pkg/mod.py") == MODULE  # (the first sync waited for the content)
    alice.claim("pkg/mod.py::greet", ttl=60)
    wait_for(lambda: any(c.agent == "alice" for c in home.claims()), "alice's claim on A")
    alice.replace("pkg/mod.py::greet", GREET)
    bob.replace("pkg/mod.py::main", MAIN)
    wait_for(
        lambda: (
            len(texts(home, alice, bob)) == 1
            and "team" in home.render("pkg/mod.py")
            and '"hi "' in home.render("pkg/mod.py")
        ),
        "the edits to converge",
    )
    report = home.commit("both agents", wait=TIMEOUT, run_check=False)
    assert report.ok, report
    message = git(repo, "log", "-1", "--format=%B")
    assert "alice" in message, message
    assert "bob" in message, message
    assert git(repo, "show", "HEAD:pkg/mod.py") == home.render("pkg/mod.py")

    bob.disconnect()  # (concurrent for sure)
    alice.replace("pkg/mod.py::greet", '\n\ndef greet(name):\n    return "hey " + name\n')
    bob.replace("pkg/mod.py::greet", '\n\ndef greet(name):\n    return "yo " + name\n')
    bob.reconnect()

    def overlapped() -> bool:  # (the texts merge character by character)
        return len(texts(home, alice, bob)) == 1 and all(r.conflicts() for r in (home, bob))

    wait_for(overlapped, "the overlap to converge", diagnose=lambda: _state(home, alice, bob))
    ids = [[c.id for c in r.conflicts()] for r in (home, alice, bob)]
    assert ids[0]
    assert ids[0] == ids[1] == ids[2]


def test_a_node_killed_and_restarted_loses_nothing(
    nodes: tuple[Node, Node], join: Callable[..., Workspace], repo: Path
) -> None:
    """kill -9 of node B in the middle of alice's edits, then of node A: every edit reaches
    the home replica and its log, and both replicas reconnect by themselves."""
    a, b = nodes
    home = join(a, "home", home=True)
    alice = join(b, "alice")
    made = []
    for round_ in range(12):
        alice.write(f"notes/{round_}.txt", f"note {round_}\n")
        made.append(f"notes/{round_}.txt")
        if round_ == 3:
            assert alice.wait_sent(TIMEOUT)  # (acknowledged by node B)
            b.kill()
        if round_ == 6:
            b.start()
        if round_ == 9:
            a.kill()
            a.start()
    assert alice.wait_sent(TIMEOUT)
    wait_for(
        lambda: set(made) <= set(home.paths()),
        "every note at the home replica",
        diagnose=lambda: (
            f"{_state(home, alice)}; home has {sorted(home.paths())}, "
            f"connected {home.connected}, error {home.last_error}; alice connected "
            f"{alice.connected}, error {alice.last_error}"
        ),
    )
    wait_for(lambda: home.connected and alice.connected, "both replicas to reconnect")
    home.close()
    with Workspace.open(repo, agent="check") as reopened:
        assert set(made) <= set(reopened.paths())


def test_a_wrong_token_is_refused_once(nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    started = time.monotonic()
    with pytest.raises(AuthError, match="refused the token"):
        netreplica.connect(a.url(), "wrong", agent="eve", timeout=TIMEOUT)
    assert time.monotonic() - started < 5
    eve = netreplica.connect(a.url(), "wrong", agent="eve", wait=False)
    try:
        wait_for(lambda: isinstance(eve.last_error, AuthError), "the refusal")
        assert eve._connection.failed.is_set()  # (it stopped trying)
    finally:
        eve.close()


@pytest.mark.parametrize("document", ["équipe-日本", "team/app"])
def test_document_names_of_any_form(nodes: tuple[Node, Node], document: str) -> None:
    """A non-ASCII name (lib0 counts its UTF-8 bytes), and one with a slash."""
    a, b = nodes
    alice = Workspace.connect(a.url(document), TOKEN, agent="alice", timeout=TIMEOUT)
    bob = Workspace.connect(b.url(document), TOKEN, agent="bob", timeout=TIMEOUT)
    try:
        alice.write("hello.py", "x = 1\n")
        wait_for(lambda: bob.paths() == ["hello.py"], "bob to see alice's file")
        assert document in a.documents()
        assert document in b.documents()
    finally:
        alice.close()
        bob.close()


def test_a_workspace_of_a_non_ascii_name(nodes: tuple[Node, Node]) -> None:
    """An address without a path: the workspace's name is the document's, any characters."""
    a, b = nodes
    workspace = "équipe-日本 space"
    replicas = [
        Workspace.connect(
            f"hocuspocus+ws://127.0.0.1:{node.port}", TOKEN, agent=agent, workspace=workspace
        )
        for node, agent in ((a, "alice"), (b, "bob"))
    ]
    alice, bob = replicas
    try:
        alice.write("hello.py", "x = 1\n")
        wait_for(lambda: bob.paths() == ["hello.py"], "bob to see alice's file")
        assert a.documents() == [workspace]
        assert b.documents() == [workspace]
    finally:
        for replica in replicas:
            replica.close()


def test_a_yjs_client_edits_beside_the_replicas(
    interop: Path, nodes: tuple[Node, Node], join: Callable[..., Workspace]
) -> None:
    """`@hocuspocus/provider` on node A, replicas on both: its edit reaches them, theirs it."""
    a, b = nodes
    home = join(a, "home", home=True)
    alice = join(b, "alice")
    client = YjsClient(interop, f"ws://127.0.0.1:{a.port}", "default", TOKEN, "--hocuspocus")
    try:
        found = client("find", path="pkg/mod.py", name="greet")
        client("insert", id=found["id"], part=found["part"], index=0, text="# from yjs\n")
        wait_for(lambda: "# from yjs" in alice.render("pkg/mod.py"), "the Yjs edit on node B")
        alice.replace("pkg/mod.py::main", MAIN)
        client("wait", path="pkg/mod.py", contains='greet("team")')
        wait_for(lambda: len(texts(home, alice)) == 1, "the replicas to converge")
        assert client("render", path="pkg/mod.py")["text"] == home.document.render("pkg/mod.py")
    finally:
        client.close()


def test_a_bad_update_through_the_engine_is_refused_by_the_home_replica(
    nodes: tuple[Node, Node], join: Callable[..., Workspace], repo: Path
) -> None:
    """A forged git-only entry relayed by the engine: the home replica refuses it and never
    logs it; the others' edits still arrive; the gate commits nothing of it."""
    a, b = nodes
    home = join(a, "home", home=True)
    mallory, alice = join(b, "mallory"), join(b, "alice")
    with mallory.transaction("forge"):
        mallory.document.gitonly["ghost.bin"] = Map(
            {"reason": "binary", "blob": "ab" * 20, "mode": gitio.MODE_FILE}
        )
    wait_for(lambda: bool(home.refusals()), "the home replica to refuse the update")
    assert "git-only entry" in home.refusals()[0].reason
    alice.replace("pkg/mod.py::main", MAIN)
    wait_for(lambda: "team" in home.render("pkg/mod.py"), "alice's edit at the home replica")
    assert "ghost.bin" not in home.document.gitonly
    home.close()
    with Workspace.open(repo, agent="check") as reopened:
        assert "ghost.bin" not in reopened.document.gitonly
        assert "team" in reopened.render("pkg/mod.py")


def test_a_bad_update_in_the_home_replicas_sync_is_refused_alone(
    nodes: tuple[Node, Node], join: Callable[..., Workspace], repo: Path
) -> None:
    """The home replica is away while mallory forges an entry and alice edits: the step 2 it
    gets on reconnecting holds both; mallory's part is refused, alice's merged and logged."""
    a, b = nodes
    home = join(a, "home", home=True)
    mallory, alice = join(b, "mallory"), join(b, "alice")
    home.disconnect()
    with mallory.transaction("forge"):
        mallory.document.gitonly["ghost.bin"] = Map(
            {"reason": "binary", "blob": "ab" * 20, "mode": gitio.MODE_FILE}
        )
    alice.replace("pkg/mod.py::main", MAIN)
    assert mallory.wait_sent(TIMEOUT)
    assert alice.wait_sent(TIMEOUT)
    home.reconnect()
    wait_for(
        lambda: "team" in home.render("pkg/mod.py") and bool(home.refusals()),
        "alice's edit at the home replica, mallory's refused",
        diagnose=lambda: _state(home, alice),
    )
    assert "git-only entry" in home.refusals()[0].reason
    assert "replica" in home.refusals()[0].reason  # (which part of the step 2)
    assert "ghost.bin" not in home.document.gitonly
    home.close()
    with Workspace.open(repo, agent="check") as reopened:
        assert "ghost.bin" not in reopened.document.gitonly
        assert "team" in reopened.render("pkg/mod.py")


def test_a_hocuspocus_2_node_beside_a_3_node(old_and_new: tuple[Node, Node], repo: Path) -> None:
    """Hocuspocus 2.15 and 3.4 on one Redis: the home replica and alice on the 2.x node, bob
    on the 3.x one; claims cross, edits converge, the 2.x node acknowledges what it applied
    (`wait_sent`), the gate commits both agents; the 2.x node refuses a wrong token too."""
    old, new = old_and_new
    assert str(old.about()["version"]).startswith("2.15.")
    assert str(new.about()["version"]).startswith("3.4.")
    made: list[Workspace] = []

    def connect(node: Node, agent: str, home: bool = False) -> Workspace:
        made.append(
            Workspace.connect(
                node.url(), TOKEN, agent=agent, home=repo if home else None, timeout=TIMEOUT
            )
        )
        return made[-1]

    try:
        home, alice, bob = connect(old, "home", True), connect(old, "alice"), connect(new, "bob")
        assert bob.render("pkg/mod.py") == MODULE
        bob.claim("pkg/mod.py::main", ttl=60)
        wait_for(lambda: any(c.agent == "bob" for c in alice.claims()), "bob's claim on 2.x")
        alice.replace("pkg/mod.py::greet", GREET)
        bob.replace("pkg/mod.py::main", MAIN)
        assert alice.wait_sent(TIMEOUT)
        wait_for(
            lambda: len(texts(home, alice, bob)) == 1 and "team" in home.render("pkg/mod.py"),
            "the edits to converge",
            diagnose=lambda: _state(home, alice, bob),
        )
        assert '"hi "' in home.render("pkg/mod.py")
        report = home.commit("across versions", wait=TIMEOUT, run_check=False)
        assert report.ok, report
        message = git(repo, "log", "-1", "--format=%B")
        assert "alice" in message, message
        assert "bob" in message, message
        with pytest.raises(AuthError, match="refused the token"):
            netreplica.connect(old.url(), "wrong", agent="eve", timeout=TIMEOUT)
    finally:
        for replica in reversed(made):
            replica.close()


def test_a_node_behind_a_path_prefix(interop: Path, redis_port: int) -> None:
    """A node reached at a path (`/collab`, as a proxy routes it), the document named by
    `?document=` (a slash in it too), beside a node reached directly."""
    behind = Node(interop, redis_port, prefix="/collab")
    direct = Node(interop, redis_port)
    alice = bob = None
    try:
        url = f"hocuspocus+ws://127.0.0.1:{behind.port}/collab?document=team/app"
        alice = Workspace.connect(url, TOKEN, agent="alice", timeout=TIMEOUT)
        bob = Workspace.connect(direct.url("team/app"), TOKEN, agent="bob", timeout=TIMEOUT)
        alice.write("hello.py", "x = 1\n")
        wait_for(lambda: bob.paths() == ["hello.py"], "bob to see alice's file")
        assert behind.documents() == ["team/app"]
        assert alice.url == f"ws://127.0.0.1:{behind.port}/collab"  # (messages: no token)
    finally:
        for replica in (alice, bob):
            if replica is not None:
                replica.close()
        behind.stop()
        direct.stop()


class McpAgent:
    """`crdtspace mcp --url` as a process, spoken to in JSON-RPC lines (as an MCP client)."""

    def __init__(self, repo: Path, agent: str, url: str) -> None:
        root = Path(__file__).resolve().parent.parent
        command = [sys.executable, "-m", "crdtspace", "-C", str(repo), "mcp"]
        self.process = subprocess.Popen(
            [*command, "--agent", agent, "--url", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(root), "CRDTSPACE_TOKEN": TOKEN},
        )
        self._numbers = 0

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._numbers += 1
        message = {"jsonrpc": "2.0", "id": self._numbers, "method": method, "params": params}
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        while True:
            line = read_line(self.process, f"the answer to {method}")
            assert line, f"crdtspace mcp ended ({self.process.poll()})"
            answer: dict[str, Any] = json.loads(line)
            if answer.get("id") == self._numbers:
                return answer

    def start(self) -> None:
        client = {"name": "test", "version": "1"}
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
        self.request("initialize", hello)
        assert self.process.stdin is not None
        self.process.stdin.write(
            json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"
        )
        self.process.stdin.flush()

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.mark.parametrize("how", ["stdin closed", "SIGTERM"])
def test_an_mcp_agent_that_exits_leaves_no_presence_behind(
    nodes: tuple[Node, Node], join: Callable[..., Workspace], repo: Path, how: str
) -> None:
    """`crdtspace mcp --url` on node B, the only client there, exits (its client closes its
    stdin, or stops it with SIGTERM): the home replica on node A sees it leave at once, and
    its gate does not wait for it (it finished), though the home edited since."""
    a, b = nodes
    home = join(a, "home", home=True)
    dana = McpAgent(repo, "dana", b.url())
    try:
        dana.start()
        answer = dana.request(
            "tools/call", {"name": "write_file", "arguments": {"path": "NOTES.md", "text": "x\n"}}
        )
        assert not answer["result"].get("isError"), answer
        wait_for(lambda: "dana" in home.present() and "NOTES.md" in home.paths(), "dana")
        if how == "SIGTERM":
            dana.process.send_signal(signal.SIGTERM)
        else:
            assert dana.process.stdin is not None
            dana.process.stdin.close()
        assert dana.process.wait(TIMEOUT) in (0, -signal.SIGTERM)
        home.write("home.txt", "after dana\n")
        # (well within the 30 s after which a silent peer's awareness would time out)
        wait_for(
            lambda: "dana" not in home.present() and gate.behind(home) == [],
            "dana to be gone and finished",
            10.0,
            diagnose=lambda: f"present {home.present()}, behind {gate.behind(home)}",
        )
    finally:
        dana.close()


# -- without an engine ---------------------------------------------------------------------


def test_document_names_are_framed_by_their_utf8_length() -> None:
    from crdtspace.live import hocuspocus

    name = "équipe/日本"
    framed = hocuspocus.frame(name, b"\x00\x01")
    assert framed[0] == len(name.encode()) != len(name)
    assert hocuspocus.unframe(framed) == (name, b"\x00\x01")


def _two_writes(home: Workspace, first: str, second: str) -> tuple[Workspace, bytes, bytes]:
    """A peer of `home` writes a.txt twice: the peer, and the update of each write."""
    peer = Workspace(home.copy_doc(), agent="peer")
    before = peer.state()
    peer.write("a.txt", first)
    one = peer.update_since(before)
    middle = peer.state()
    peer.write("a.txt", second)
    return peer, one, peer.update_since(middle)


def test_the_guard_holds_an_update_until_what_it_builds_on_arrives(repo: Path) -> None:
    """An update relayed before the one it depends on waits, then both are checked and merged
    in order; a hostile one is refused."""
    from crdtspace.live.guard import UpdateGuard

    with Workspace.open(repo, agent="home") as home:
        guard = UpdateGuard(home.doc, home.root)
        peer, first, second = _two_writes(home, "one\n", "one\ntwo\n")
        assert guard.admit(second) == []
        assert len(guard.held) == 1
        assert guard.admit(first) == [first, second]
        assert guard.held == []
        clean = peer.state()
        with peer.transaction("forge"):
            peer.document.gitonly["ghost.bin"] = Map(
                {"reason": "binary", "blob": "ab" * 20, "mode": gitio.MODE_FILE}
            )
        assert guard.admit(peer.update_since(clean)) == []
        assert "git-only entry" in guard.refusals[-1].reason


def test_a_run_and_an_mcp_agent_behind_hocuspocus(
    nodes: tuple[Node, Node], join: Callable[..., Workspace], repo: Path, tmp_path: Path
) -> None:
    """`crdtspace run --url` is the home replica on node A (its log, its gate); an agent of
    `crdtspace mcp --url` on node B (the MCP SDK's client) edits meanwhile; the run's gate
    commits both."""
    import os
    import sys

    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from typer.testing import CliRunner

    from crdtspace.cli import app

    a, b = nodes
    root = Path(__file__).resolve().parent.parent
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "crdtspace", "-C", str(repo), "mcp", "--agent", "dana", "--url", b.url()],
        env={**os.environ, "PYTHONPATH": str(root), "CRDTSPACE_TOKEN": TOKEN},
    )

    async def dana_edits() -> None:
        async with Client(params, read_timeout_seconds=60) as dana:
            result = await dana.call_tool("write_file", {"path": "NOTES.md", "text": "by dana\n"})
            assert not result.is_error, result
            await anyio.to_thread.run_sync(lambda: runner.join(timeout=60))  # (dana stays)

    (tmp_path / "fred.toml").write_text(
        '[[step]]\ntool = "write_file"\nwait = 1.0\n'
        'args = { path = "docs/fred.md", text = "by fred\\n" }\n'
        '[[step]]\ntool = "list_files"\nuntil = "NOTES.md"\nargs = {}\n'
    )
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'message = "Behind Hocuspocus"\n[[agent]]\nname = "fred"\nscript = "fred.toml"\n'
    )

    outcome: dict[str, object] = {}

    def the_run() -> None:
        outcome["result"] = CliRunner().invoke(
            app,
            ["-C", str(repo), "run", "--plain", "--url", a.url(), "--token", TOKEN, str(plan)],
        )

    import threading

    runner = threading.Thread(target=the_run)
    runner.start()
    anyio.run(dana_edits)
    runner.join(timeout=60)
    result = outcome["result"]
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert TOKEN not in result.output  # type: ignore[attr-defined]
    assert git(repo, "show", "HEAD:NOTES.md") == "by dana\n"
    assert git(repo, "show", "HEAD:docs/fred.md") == "by fred\n"
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-authored-by: fred <" in body
    assert "Co-authored-by: dana <" in body


def test_the_guard_refuses_only_the_bad_replicas_part_of_a_merged_update(repo: Path) -> None:
    """A sync step 2 merges every replica's edits: cut by replica, mallory's forged entry and
    its deletion of a log entry of the home's are refused, alice's and bob's edits merged,
    alice's deletions of the home's text among them: nothing of theirs lost."""
    from pycrdt import Array, merge_updates

    from crdtspace.live.guard import UpdateGuard

    with Workspace.open(repo, agent="home") as home:
        home.replace("pkg/mod.py::main", MAIN)  # (an entry in a log, for mallory to delete)
        guard = UpdateGuard(home.doc, home.root)
        base = home.state()
        alice = Workspace(home.copy_doc(), agent="alice")
        alice.replace("pkg/mod.py::greet", GREET)
        alice.replace("pkg/mod.py::main", MAIN.replace("team", "crew"))  # (deletes home's)
        bob = Workspace(home.copy_doc(), agent="bob")
        bob.write("notes.txt", "bob\n")
        mallory = Workspace(home.copy_doc(), agent="mallory")
        with mallory.transaction("forge"):
            mallory.document.gitonly["ghost.bin"] = Map(
                {"reason": "binary", "blob": "ab" * 20, "mode": gitio.MODE_FILE}
            )
        deleter = Workspace(home.copy_doc(), agent="mallory")
        [nid] = [n for n in deleter.document.edited_nodes() if len(deleter.document.log(n))]
        with deleter.transaction("forge"):
            log = deleter.document.node(nid)["log"]
            assert isinstance(log, Array)
            del log[0]
        step2 = bytes(
            merge_updates(*(r.update_since(base) for r in (alice, mallory, bob, deleter)))
        )
        for update in guard.admit(step2):
            home.apply_update(update)
        reasons = [r.reason for r in guard.refusals]
        assert any("git-only entry" in r and "replica" in r for r in reasons), reasons
        assert any("deletes entries of the log" in r for r in reasons), reasons
        assert '"hi "' in home.render("pkg/mod.py")
        assert MAIN.replace("team", "crew") in home.render("pkg/mod.py")
        assert home.render("notes.txt") == "bob\n"
        assert "ghost.bin" not in home.document.gitonly
        assert {e.agent for e in home.document.log(nid)} == {"home", "alice"}  # (it stays)


def test_the_guard_holds_deletions_of_what_it_has_not_got(repo: Path) -> None:
    """Deletions of items not here yet would be applied later, unchecked: they wait."""
    from crdtspace.live.guard import UpdateGuard

    with Workspace.open(repo, agent="home") as home:
        guard = UpdateGuard(home.doc, home.root)
        _, added, removed = _two_writes(home, "one two\n", "one\n")
        assert guard.admit(removed) == []
        assert guard.held == [removed]
        assert guard.admit(added) == [added, removed]
