"""What three agents do through the MCP tools, whatever carries the calls (stdio, HTTP)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from mcp import Client

from crdtspace.live.service import Service, find_service
from crdtspace.testing import make_repo

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

APP = (
    "def f(x):\n    return x + 1\n\n\n"
    "def g(x):\n    return x * 2\n\n\n"
    "def h(x):\n    return x - 3\n"
)
CHECK = '[tool.crdtspace]\ncheck = "python -c \\"import app\\""\n'
"""A pyproject.toml whose check imports app.py."""
MERGED = (
    APP.replace("x + 1", "x + 10")
    .replace("def f(x):", "def f(x):  # ok")
    .replace("x * 2", "x * 20")
    .replace("x - 3", "x - 30")
)
"""The file after the scenario."""


def workspace_repo(root: Path, files: dict[str, str | bytes | None]) -> Path:
    """A repository with a crdtspace workspace, made by the command line."""
    make_repo(root, files)
    done = subprocess.run(
        [sys.executable, "-m", "crdtspace", "-C", str(root), "init"],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return root


def start_service(repo: Path) -> tuple[subprocess.Popen[bytes], Service]:
    """`crdtspace serve` on a free port, once it has announced itself."""
    server = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    deadline = time.monotonic() + 30
    while (found := find_service(repo)) is None:
        assert server.poll() is None, "serve stopped"
        assert time.monotonic() < deadline, "serve did not announce itself"
        time.sleep(0.05)
    return server, found


def stop_service(repo: Path) -> None:
    """Stop the workspace's service, if one runs (one an agent started, detached)."""
    service = find_service(repo)
    if service is None:
        return
    os.kill(service.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while find_service(repo) is not None and time.monotonic() < deadline:
        time.sleep(0.05)


async def text(client: Client, tool: str, **args: object) -> str:
    result = await client.call_tool(tool, dict(args))
    body = "".join(c.text for c in result.content if c.type == "text")
    assert not result.is_error, f"{tool}: {body}"
    return body


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await anyio.sleep(0.1)


async def three_agents(alice: Client, bob: Client, carol: Client, *, presence: bool) -> None:
    """Claim, edit different functions and one line, hear of the conflict, resolve, check,
    commit: what three agents do through the MCP tools (`presence`: the status names the
    agents connected)."""
    claimed = await text(alice, "claim", refs=["app.py::f"], note="faster f")
    assert claimed.startswith("Claimed app.py::f until ")

    async def bob_sees_the_claim() -> bool:
        return "alice claims app.py::f" in await text(bob, "claims")

    await until(bob_sees_the_claim)
    assert "(faster f)" in await text(bob, "claims")

    async def carol_sees_both() -> bool:
        status = await text(carol, "status")
        here = "Agents here: alice, bob." in status or not presence
        return here and "alice claims app.py::f" in status

    await until(carol_sees_both)

    # different functions of one file: both stay
    assert (await text(alice, "edit", ref="app.py::f", old="x + 1", new="x + 10")).startswith(
        "Edited app.py::f"
    )
    await text(bob, "edit", ref="app.py::g", old="x * 2", new="x * 20")
    # bob edits a node alice claims: his result says so
    crossed = await text(bob, "edit", ref="app.py::f", old="def f(x):", new="def f(x):  # ok")
    assert "Crossed a claim: alice claimed app.py::f." in crossed

    # the same line from the same version: a conflict both hear about
    read_a = await text(alice, "read", ref="app.py::h")
    read_c = await text(carol, "read", ref="app.py::h")
    base_a = read_a.split("version ")[1].split(";")[0]
    base_c = read_c.split("version ")[1].split(";")[0]
    await text(alice, "edit", ref="app.py::h", old="x - 3", new="x - 30", base=base_a)
    await text(carol, "edit", ref="app.py::h", old="x - 3", new="x - 300", base=base_c)

    async def carol_hears() -> bool:
        return "(overlap) at app.py:" in await text(carol, "conflicts")

    await until(carol_hears)
    listed = await text(carol, "conflicts")
    assert "alice's side:" in listed
    assert "carol's side:" in listed
    conflict = listed.split(" ")[0]

    async def alice_is_told() -> bool:
        return f"New conflict {conflict}" in await text(alice, "list_files")

    await until(alice_is_told)
    resolved = await text(carol, "resolve", id=conflict, take="alice")
    assert "0 conflict(s) still open" in resolved

    async def bob_converged() -> bool:
        shown = await text(bob, "read", ref="app.py")
        return "x - 30\n" in shown and "x + 10" in shown and "x * 20" in shown

    await until(bob_converged)
    assert (await text(bob, "run_check")).startswith("Passed:")

    async def committed() -> bool:
        result = await bob.call_tool("commit", {"message": "three agents"})
        return "".join(c.text for c in result.content if c.type == "text").startswith("Committed ")

    await until(committed)
