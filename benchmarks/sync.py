"""Live sync through `crdtspace serve` on loopback: edit-to-visible latency and edits/s.

A real server process (durable: every update is fsynced, and acknowledged to its sender once
it is; it is relayed to the others at once) and N clients (pycrdt Providers over websockets,
all in this process) typing into one shared text.

- latency: one client types a token, one edit at a time; the time until another client's doc
  has it (p50/p99 to a peer, every peer's arrival a sample: servers relay to their clients
  in different orders, y-websocket in the order they connected, `crdtspace serve` in none;
  and p99 until every peer has it), all N clients connected.
- sustained: every client types as fast as it can; edits/s until every client holds every edit.

`--compare` measures, in one run, the same latency for (a) `crdtspace serve` with N crdtspace
networked replicas (`Workspace.connect`, all in this process; one edits a node with `replace`)
and (b) the standard Yjs websocket server (`@y/websocket-server`, `tests/interop/relay.mjs`)
with N plain Yjs clients in one Node process (`benchmarks/yjs_sync.mjs`), in alternating rounds
(the machine's load falls on both alike), and prints both and their ratio. Without node and
npm (or the packages of `tests/interop/install`), the Yjs column is skipped with a note.

What is alike: the server is a process of its own, every client of a side is in one process
(crdtspace's replicas share one network loop, as Yjs clients share Node's), the edit is made
and timed the same way (from just before the writer's edit to an observer of the peer's text,
called inside the merge; the waiting side is woken once every peer has it), over loopback
websockets without compression. What is not, by design: (a) does what crdtspace is for and
(b) does not. Its server checks the token and every update (`crdtspace.live.guard`) and makes
it durable (fsynced to the workspace's log, acknowledged to its sender once there; the other
clients get it relayed at once, before the fsync); the Yjs server keeps the room in memory and
checks nothing. Its writer makes an agent's edit (`replace`: the new text re-keyed into a
minimal change, with a log entry), where the Yjs client inserts a string; and each of its
replicas merges with the conflict model (logs read, identical changes folded) where a Yjs
client only applies the update.

`--engine hocuspocus` starts a throwaway `redis-server` (nothing saved) and two Hocuspocus
nodes on it (`tests/interop/hocuspocus.mjs`), and measures, in alternating rounds, the same
latency for (a) N crdtspace networked replicas spread over the two nodes (`hocuspocus+ws://`;
the first half, the writer among them, on node A, the rest, the measured peer among them, on
node B; no home replica: the writer creates the file in the empty document first), (b) the same
N replicas through one `crdtspace serve` (as `--compare`), and (c) N plain Yjs clients
(`@hocuspocus/provider`, `benchmarks/hocuspocus_sync.mjs`) split over the two nodes alike: the
engine's own floor. It prints each one's p50/p99 and its ratio to (b). Without node and npm, the
npm packages or redis-server, it is skipped with a note.

Usage: python benchmarks/sync.py [--replicas 2,8,32] [--edits 300] [--burst 100] [--json]
       python benchmarks/sync.py --compare [--replicas 8] [--edits 300] [--rounds 2] [--json]
       python benchmarks/sync.py --engine hocuspocus [--replicas 8] [--edits 300] [--rounds 2]
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import websockets
from _common import ROOT, parser, progress, report
from pycrdt import Doc, Map, Provider, Text, TextEvent

from crdtspace.testing import WebsocketChannel

TOKEN = "benchmark-token"
TOKEN_RE = re.compile(r"<(\d+):(\d+)>")
BURST = 1_000_000
"""Edits of the sustained phase are numbered from here."""


class Client:
    """One replica: a Doc synced through the server, noting when each token arrives."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.doc: Doc[Any] = Doc()
        self.arrived: dict[tuple[int, int], float] = {}
        self.waiting: Callable[[], None] | None = None
        self.text: Text | None = None
        self.burst = 0
        """How many burst edits (numbered from BURST) this client holds."""

    def attach(self) -> None:
        files = self.doc.get("files", type=Map)
        nodes = self.doc.get("nodes", type=Map)
        self.text = nodes[files["notes.txt"][0]]["text"]
        self.text.observe(self._on_change)

    def _on_change(self, event: TextEvent) -> None:
        now = time.perf_counter()
        for change in event.delta:  # type: ignore[attr-defined]  # set by the Rust core
            inserted = change.get("insert")
            if isinstance(inserted, str):
                for match in TOKEN_RE.finditer(inserted):
                    key = (int(match[1]), int(match[2]))
                    if key not in self.arrived:
                        self.arrived[key] = now
                        self.burst += key[1] >= BURST
        if self.waiting is not None:
            self.waiting()

    def type(self, i: int) -> None:
        assert self.text is not None
        self.text.insert(len(self.text), f"<{self.number}:{i}>")


@asynccontextmanager
async def connected(url: str, client: Client) -> AsyncIterator[Client]:
    async with (
        # No permessage-deflate, as crdtspace's networked replicas connect: compressing each
        # small update for each peer cost the server more than sending it.
        websockets.connect(f"{url}?token={TOKEN}", max_size=None, compression=None) as ws,
        Provider(client.doc, WebsocketChannel(ws, "/default")) as provider,
    ):
        with anyio.fail_after(30):
            await provider.synced.wait()
        client.attach()
        yield client


def make_repo(root: Path) -> None:
    from crdtspace import Workspace
    from crdtspace.testing import make_repo as make

    make(root, {"notes.txt": "start\n", "app.py": "def main():\n    return 0\n"})
    Workspace.init(root, agent="setup").close()


def start_server(repo: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRDTSPACE_TOKEN": TOKEN},
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("serving "):
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, line.split()[1]


async def wait_until(client: Client, check: Callable[[], bool], timeout: float) -> None:
    done = anyio.Event()

    def poke() -> None:
        if check():
            done.set()

    client.waiting = poke
    try:
        with anyio.fail_after(timeout):
            if not check():
                await done.wait()
    finally:
        client.waiting = None


def has(client: Client, key: tuple[int, int]) -> bool:
    return key in client.arrived


def has_burst(client: Client, total: int) -> bool:
    return client.burst >= total


async def latency(clients: list[Client], edits: int) -> dict[str, float]:
    writer, peers = clients[0], clients[1:]
    one: list[float] = []
    every: list[float] = []
    for i in range(edits):
        start = time.perf_counter()
        writer.type(i)
        key = (writer.number, i)
        for peer in peers:
            await wait_until(peer, partial(has, peer, key), 10)
        one.extend(p.arrived[key] - start for p in peers)  # (every peer's arrival)
        every.append(max(p.arrived[key] for p in peers) - start)
    ms = [x * 1000 for x in one]
    return {
        "p50 ms": statistics.median(ms),
        "p99 ms": statistics.quantiles(ms, n=100)[98],
        "all peers p99 ms": statistics.quantiles([x * 1000 for x in every], n=100)[98],
    }


async def sustained(clients: list[Client], burst: int) -> dict[str, float]:
    start = time.perf_counter()
    for i in range(burst):
        for client in clients:
            client.type(BURST + i)
        await anyio.sleep(0)
    total = len(clients) * burst
    for client in clients:
        await wait_until(client, partial(has_burst, client, total), 120)
    elapsed = time.perf_counter() - start
    return {"edits": total, "edits/s": total / elapsed}


async def run_case(url: str, replicas: int, edits: int, burst: int) -> dict[str, Any]:
    clients = [Client(n) for n in range(replicas)]
    async with AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(connected(url, client))
        await anyio.sleep(0.2)
        case: dict[str, Any] = {"replicas": replicas}
        case.update(await latency(clients, edits))
        case.update(await sustained(clients, burst))
        texts = {str(c.text) for c in clients}
        case["converged"] = len(texts) == 1
        return case


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- side by side: crdtspace's networked replicas and plain Yjs clients ---------------------

INTEROP = ROOT / "tests" / "interop"


class Arrivals:
    """When each peer replica first held each token, noted by an observer of its node's text
    (it runs on the replica's connection thread, inside the merge of the update). The waiting
    thread is woken once every peer has it, not at each arrival: as the Yjs side's callback,
    the measuring costs the replicas next to nothing. As the Yjs side does, it looks for the
    token in the text the change inserted (its delta), read from yrs's own event: pycrdt's
    `observe` builds every attribute of the event (its target, path, delta) before calling,
    and reading the whole text back cost each replica's merge more than the check itself."""

    def __init__(self, peers: int) -> None:
        self.peers = peers
        self.pending = ""
        self.arrived: dict[str, dict[int, float]] = {}
        self.changed = threading.Condition()
        self._texts: list[Any] = []  # (an observer lives as long as its subscription)

    def watch(self, number: int, text: Text) -> None:
        def seen(event: Any) -> None:
            now = time.perf_counter()
            token = self.pending
            if token and inserts(event, token):
                with self.changed:
                    arrived = self.arrived.setdefault(token, {})
                    arrived.setdefault(number, now)
                    if len(arrived) >= self.peers:
                        self.changed.notify_all()

        self._texts += [text, text.integrated.observe(seen)]

    def wait(self, token: str, timeout: float) -> dict[int, float]:
        with self.changed:
            if not self.changed.wait_for(
                lambda: len(self.arrived.get(token, {})) >= self.peers, timeout
            ):
                raise SystemExit(f"the edit {token} did not reach every replica in {timeout} s")
            return self.arrived[token]


def inserts(event: Any, token: str) -> bool:
    """Whether a text's change (yrs's event, read in its observer) inserted `token`."""
    return any(
        isinstance(change.get("insert"), str) and token in change["insert"]
        for change in event.delta
    )


def replica_latency(connected: list[Any], edits: int) -> dict[str, list[float]]:
    """Replica 0 edits notes.txt's node (`replace`), one edit at a time; ms until each other
    replica has it ("one": a sample per peer) and until every other has it ("all")."""
    writer, peers = connected[0], connected[1:]
    with writer.lock:
        nid = writer.document.roots("notes.txt")[0]
        text = str(writer.document.node(nid)["text"])
    arrivals = Arrivals(len(peers))
    for number, peer in enumerate(peers):
        with peer.lock:
            arrivals.watch(number, peer.document.node(nid)["text"])
    time.sleep(0.2)
    one: list[float] = []
    every: list[float] = []
    for i in range(edits):
        token = f"<{i}>"
        text += token
        arrivals.pending = token
        start = time.perf_counter()
        writer.replace(nid, text)
        times = arrivals.wait(token, 10)
        one.extend((t - start) * 1000 for t in times.values())  # (every peer's arrival)
        every.append((max(times.values()) - start) * 1000)
    return {"one": one, "all": every}


def crdtspace_latency(replicas: int, edits: int) -> dict[str, list[float]]:
    """(a): `crdtspace serve` (durable) and `replicas` networked replicas in this process;
    see `replica_latency`."""
    from crdtspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        make_repo(repo)
        process, url = start_server(repo)
        connected: list[Any] = []
        try:
            for n in range(replicas):
                connected.append(Workspace.connect(url, TOKEN, agent=f"agent-{n}"))
            return replica_latency(connected, edits)
        finally:
            for replica in connected:
                replica.close()
            process.terminate()
            process.communicate(timeout=30)


def yjs_missing() -> str | None:
    """Why the Yjs column cannot run here (None: it can)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed: the y-websocket column is skipped"
    done = subprocess.run(
        ["sh", str(INTEROP / "install")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not (INTEROP / "node_modules" / "y-websocket").is_dir():
        return f"tests/interop/install failed: the y-websocket column is skipped\n{done.stderr}"
    return None


def yjs_latency(clients: int, edits: int) -> dict[str, list[float]]:
    """(b): the Yjs websocket server (`tests/interop/relay.mjs`, its own process) and
    `clients` Yjs clients in one Node process (`benchmarks/yjs_sync.mjs`)."""
    relay = subprocess.Popen(
        ["node", str(INTEROP / "relay.mjs"), "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert relay.stdout is not None
        line = relay.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"the Yjs server did not start: {line!r}")
        url = f"ws://127.0.0.1:{line.split()[1]}"
        done = subprocess.run(
            [
                "node",
                str(ROOT / "benchmarks" / "yjs_sync.mjs"),
                url,
                "bench",
                str(clients),
                str(edits),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"benchmarks/yjs_sync.mjs failed:\n{done.stderr}")
        result: dict[str, list[float]] = json.loads(done.stdout.splitlines()[-1])
        return result
    finally:
        relay.terminate()
        relay.communicate(timeout=30)


# -- one process per client (--processes) ----------------------------------------------------


class Clients:
    """N clients, each a process of its own speaking the line protocol of
    `benchmarks/sync_replica.py` and `benchmarks/yjs_client.mjs`; client 0 writes."""

    def __init__(self, commands: list[list[str]]) -> None:
        self.lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
        self.processes = [
            subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
            )
            for command in commands
        ]
        for number, process in enumerate(self.processes):
            threading.Thread(target=self._read, args=(number, process), daemon=True).start()
        ready: set[int] = set()
        while len(ready) < len(commands):
            number, line = self.lines.get(timeout=120)
            if line is None:
                raise SystemExit(f"{' '.join(commands[number])} ended before it was ready")
            if line.strip() == "READY":
                ready.add(number)

    def _read(self, number: int, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.put((number, line))
        self.lines.put((number, None))

    def latency(self, edits: int) -> dict[str, list[float]]:
        """Client 0 edits, one edit at a time; ms until each other client has it ("one": a
        sample per peer) and until every other has it ("all"), from the times the processes
        noted."""
        writer = self.processes[0]
        assert writer.stdin is not None
        peers = len(self.processes) - 1
        one: list[float] = []
        every: list[float] = []
        for i in range(edits):
            writer.stdin.write(f"edit {i}\n")
            writer.stdin.flush()
            start: float | None = None
            got: dict[int, float] = {}
            while start is None or len(got) < peers:
                number, line = self.lines.get(timeout=30)
                if line is None:
                    raise SystemExit(f"client {number} ended in the middle of the run")
                kind, edit, at = line.split()
                if int(edit) != i:
                    continue
                if kind == "start":
                    start = float(at)
                elif kind == "got":
                    got[number] = float(at)
            one.extend((t - start) * 1000 for t in got.values())  # (every peer's arrival)
            every.append((max(got.values()) - start) * 1000)
        return {"one": one, "all": every}

    def close(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def crdtspace_process_latency(replicas: int, edits: int) -> dict[str, list[float]]:
    """(a) with each replica in a process of its own (`benchmarks/sync_replica.py`)."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        make_repo(repo)
        process, url = start_server(repo)
        script = str(ROOT / "benchmarks" / "sync_replica.py")
        clients = None
        try:
            clients = Clients(
                [[sys.executable, script, url, TOKEN, f"agent-{n}"] for n in range(replicas)]
            )
            return clients.latency(edits)
        finally:
            if clients is not None:
                clients.close()
            process.terminate()
            process.communicate(timeout=30)


def yjs_process_latency(clients: int, edits: int) -> dict[str, list[float]]:
    """(b) with each Yjs client in a Node process of its own (`benchmarks/yjs_client.mjs`)."""
    relay = subprocess.Popen(
        ["node", str(INTEROP / "relay.mjs"), "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    running = None
    try:
        assert relay.stdout is not None
        line = relay.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"the Yjs server did not start: {line!r}")
        url = f"ws://127.0.0.1:{line.split()[1]}"
        script = str(ROOT / "benchmarks" / "yjs_client.mjs")
        running = Clients([["node", script, url, "bench"] for _ in range(clients)])
        return running.latency(edits)
    finally:
        if running is not None:
            running.close()
        relay.terminate()
        relay.communicate(timeout=30)


def summary(samples: dict[str, list[float]]) -> dict[str, float]:
    one, every = samples["one"], samples["all"]
    return {
        "p50 ms": statistics.median(one),
        "p99 ms": statistics.quantiles(one, n=100)[98],
        "all peers p99 ms": statistics.quantiles(every, n=100)[98],
    }


def fsync_floor(count: int = 200) -> dict[str, float]:
    """What one small append and fsync costs in the temporary folder the server's log is in:
    what (a)'s acknowledgements to a writer wait for (the relay to the others does not)."""
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        fd = os.open(Path(tmp) / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for _ in range(count):
                start = time.perf_counter()
                os.write(fd, b"x" * 64)
                os.fsync(fd)
                times.append((time.perf_counter() - start) * 1000)
        finally:
            os.close(fd)
    return {"p50 ms": statistics.median(times), "p99 ms": statistics.quantiles(times, n=100)[98]}


def compare(
    replicas: int, edits: int, rounds: int, as_json: bool, *, processes: bool = False
) -> None:
    """Both columns, in alternating rounds, their samples pooled; then the ratio. With
    `processes`, every client is a process of its own (as agents' replicas run), on both
    sides; else each side's clients share one process."""
    missing = yjs_missing()
    ours: dict[str, list[float]] = {"one": [], "all": []}
    theirs: dict[str, list[float]] = {"one": [], "all": []}
    layout = "a process each" if processes else "one process"
    for round_ in range(rounds):
        progress(f"round {round_ + 1}/{rounds}: crdtspace serve + {replicas} replicas ...")
        measure: Callable[[int, int], dict[str, list[float]]] = (
            crdtspace_process_latency if processes else crdtspace_latency
        )
        for key, values in measure(replicas, edits).items():
            ours[key] += values
        if missing is None:
            progress(f"round {round_ + 1}/{rounds}: y-websocket + {replicas} Yjs clients ...")
            measure_yjs = yjs_process_latency if processes else yjs_latency
            for key, values in measure_yjs(replicas, edits).items():
                theirs[key] += values
    a: dict[str, Any] = {
        "system": f"crdtspace serve (durable) + {replicas} networked replicas ({layout})"
    }
    a.update(summary(ours))
    cases: list[dict[str, Any]] = [a]
    if missing is None:
        b: dict[str, Any] = {
            "system": f"y-websocket server + {replicas} Yjs clients (Node, {layout})"
        }
        b.update(summary(theirs))
        ratio: dict[str, Any] = {"system": "ratio (a / b)"}
        for key in ("p50 ms", "p99 ms", "all peers p99 ms"):
            ratio[key] = f"{a[key] / b[key]:.1f}x"
        cases += [b, ratio]
    floor: dict[str, Any] = {"system": "one append + fsync here (what (a) acknowledges after)"}
    floor.update(fsync_floor())
    cases.append(floor)
    title = f"edit visible at another replica, {edits} edits x {rounds} rounds, loopback"
    report(cases, as_json=as_json, title=title)
    if missing is not None:
        progress(f"note: {missing}")


# -- --engine hocuspocus: two Hocuspocus nodes on one Redis ---------------------------------


class Engine:
    """A throwaway `redis-server` (nothing saved) and two Hocuspocus nodes on it
    (`tests/interop/hocuspocus.mjs`), all on loopback; stopped by `close`."""

    def __init__(self, tmp: Path) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        self.redis_port = _free_port()
        try:
            redis = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no"),
                ],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.processes.append(redis)
            deadline = time.monotonic() + 10
            while not _listening(self.redis_port):
                if time.monotonic() > deadline or redis.poll() is not None:
                    raise SystemExit("redis-server did not start")
                time.sleep(0.05)
            self.ports = [self._node() for _ in range(2)]
        except BaseException:
            self.close()
            raise

    def _node(self) -> int:
        node = subprocess.Popen(
            ["node", "hocuspocus.mjs", "0", str(self.redis_port), TOKEN],
            cwd=INTEROP,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes.append(node)
        assert node.stdout is not None
        line = node.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"a Hocuspocus node did not start: {line!r}")
        return int(line.split()[1])

    def url(self, node: int, document: str, scheme: str = "hocuspocus+ws") -> str:
        return f"{scheme}://127.0.0.1:{self.ports[node]}/{document}"

    def close(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        self.processes = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def hocuspocus_missing() -> str | None:
    """Why `--engine hocuspocus` cannot run here (None: it can)."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed: the Hocuspocus benchmark is skipped"
    missing = yjs_missing()
    if missing is None and not (INTEROP / "node_modules" / "@hocuspocus" / "server").is_dir():
        missing = "tests/interop has no @hocuspocus/server: the Hocuspocus benchmark is skipped"
    return missing


def hocuspocus_replica_latency(
    engine: Engine, document: str, replicas: int, edits: int
) -> dict[str, list[float]]:
    """crdtspace networked replicas in this process, the first half on node A (the writer,
    replica 0, among them), the rest on node B (the measured peer, the last, among them).
    No home replica: the writer creates notes.txt in the empty document first."""
    from crdtspace import Workspace

    connected: list[Any] = []
    try:
        for n in range(replicas):
            url = engine.url(0 if n < replicas / 2 else 1, document)
            connected.append(Workspace.connect(url, TOKEN, agent=f"agent-{n}", timeout=30))
        connected[0].write("notes.txt", "start\n")
        deadline = time.monotonic() + 30
        while not all("notes.txt" in r.paths() for r in connected):
            if time.monotonic() > deadline:
                raise SystemExit("notes.txt did not reach every replica through Hocuspocus")
            time.sleep(0.02)
        return replica_latency(connected, edits)
    finally:
        for replica in connected:
            replica.close()


def hocuspocus_yjs_latency(
    engine: Engine, document: str, clients: int, edits: int
) -> dict[str, list[float]]:
    """Plain Yjs clients (`@hocuspocus/provider`, one Node process,
    `benchmarks/hocuspocus_sync.mjs`) split over the two nodes as the replicas are."""
    done = subprocess.run(
        [
            *("node", str(ROOT / "benchmarks" / "hocuspocus_sync.mjs")),
            *(engine.url(0, "", "ws").rstrip("/"), engine.url(1, "", "ws").rstrip("/")),
            *(document, TOKEN, str(clients), str(edits)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmarks/hocuspocus_sync.mjs failed:\n{done.stderr}")
    result: dict[str, list[float]] = json.loads(done.stdout.splitlines()[-1])
    return result


def hocuspocus(replicas: int, edits: int, rounds: int, as_json: bool) -> None:
    """(a) replicas over two Hocuspocus nodes, (b) the same through `crdtspace serve`,
    (c) Yjs clients over the two nodes; in alternating rounds, samples pooled."""
    missing = hocuspocus_missing()
    if missing is not None:
        progress(f"note: {missing}")
        return
    names = {
        "hp": f"crdtspace replicas on 2 Hocuspocus nodes + Redis ({replicas // 2}+"
        f"{replicas - replicas // 2})",
        "serve": f"crdtspace replicas on crdtspace serve (durable), {replicas}",
        "yjs": f"Yjs clients (@hocuspocus/provider) on 2 Hocuspocus nodes, {replicas}",
    }
    samples: dict[str, dict[str, list[float]]] = {k: {"one": [], "all": []} for k in names}
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp))
        try:
            for round_ in range(rounds):
                step = f"round {round_ + 1}/{rounds}"
                progress(f"{step}: {names['hp']} ...")
                got = hocuspocus_replica_latency(engine, f"bench-{round_}-py", replicas, edits)
                for key, values in got.items():
                    samples["hp"][key] += values
                progress(f"{step}: {names['serve']} ...")
                for key, values in crdtspace_latency(replicas, edits).items():
                    samples["serve"][key] += values
                progress(f"{step}: {names['yjs']} ...")
                got = hocuspocus_yjs_latency(engine, f"bench-{round_}-js", replicas, edits)
                for key, values in got.items():
                    samples["yjs"][key] += values
        finally:
            engine.close()
    base = summary(samples["serve"])
    cases: list[dict[str, Any]] = []
    for key in ("hp", "serve", "yjs"):
        case: dict[str, Any] = {"engine": names[key]}
        case.update(summary(samples[key]))
        for field in ("p50 ms", "p99 ms"):
            ratio = case[field] / base[field]
            case[f"{field.split()[0]} / serve"] = round(ratio, 2) if as_json else f"{ratio:.2f}x"
        cases.append(case)
    title = f"edit visible at another replica, {edits} edits x {rounds} rounds, loopback"
    report(cases, as_json=as_json, title=title)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--replicas", default="2,8,32", help="comma-separated replica counts")
    p.add_argument("--edits", type=int, default=300, help="sequential edits for latency")
    p.add_argument("--burst", type=int, default=100, help="edits per replica, sustained")
    p.add_argument("--compare", action="store_true", help="crdtspace vs y-websocket, side by side")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds of --compare")
    p.add_argument("--processes", action="store_true", help="--compare with one process per client")
    p.add_argument(
        "--engine",
        choices=["hocuspocus"],
        help="replicas over two Hocuspocus nodes (one Redis) beside crdtspace serve",
    )
    args = p.parse_args()
    if args.engine == "hocuspocus":
        replicas = int(args.replicas) if "," not in args.replicas else 8
        hocuspocus(replicas, args.edits, args.rounds, args.json)
        return
    if args.compare:
        replicas = int(args.replicas) if "," not in args.replicas else 8
        compare(replicas, args.edits, args.rounds, args.json, processes=args.processes)
        return
    cases = []
    for replicas in (int(n) for n in args.replicas.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            make_repo(repo)
            process, url = start_server(repo)
            try:
                progress(f"{replicas} replicas ...")
                case = anyio.run(run_case, url, replicas, args.edits, args.burst)
                case["server cpu s"] = cpu_seconds(process.pid)
                cases.append(case)
            finally:
                process.terminate()
                process.communicate(timeout=30)
    report(cases, as_json=args.json, title="crdtspace serve on loopback (durable, fsync)")


if __name__ == "__main__":
    main()
