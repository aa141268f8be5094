"""Live sync through `crdtspace serve` on loopback: edit-to-visible latency and edits/s.

A real server process (durable: every update is fsynced before it is relayed) and N clients
(pycrdt Providers over websockets, all in this process) typing into one shared text.

- latency: one client types a token, one edit at a time; the time until another client's doc
  has it (p50/p99 to one peer, and p99 until every peer has it), all N clients connected.
- sustained: every client types as fast as it can; edits/s until every client holds every edit.

Usage: python benchmarks/sync.py [--replicas 2,8,32] [--edits 300] [--burst 100] [--json]
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
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
        one.append(peers[-1].arrived[key] - start)
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


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--replicas", default="2,8,32", help="comma-separated replica counts")
    p.add_argument("--edits", type=int, default=300, help="sequential edits for latency")
    p.add_argument("--burst", type=int, default=100, help="edits per replica, sustained")
    args = p.parse_args()
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
