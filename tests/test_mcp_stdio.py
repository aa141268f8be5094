"""Three agents through `crdtspace mcp` over stdio, with the MCP SDK's own client: they meet in
one workspace service (started on demand), see each other's claims and conflicts in their tool
results, resolve, run the check and commit through the gate."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from crdtspace.testing import git
from tests.mcp_scenario import APP, CHECK, MERGED, stop_service, text, three_agents, workspace_repo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    root = workspace_repo(tmp_path / "repo", {"app.py": APP, "pyproject.toml": CHECK})
    yield root
    stop_service(root)


def agent(repo: Path, name: str | None) -> Client:
    named = ["--agent", name] if name else []
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "crdtspace", "-C", str(repo), "mcp", *named],
        env={**os.environ, "PYTHONPATH": str(ROOT), "CRDTSPACE_AGENT": ""},
    )
    return Client(params, read_timeout_seconds=60)


def test_three_agents_claim_edit_conflict_resolve_and_commit(repo: Path) -> None:
    async def main() -> None:
        async with (
            agent(repo, "alice") as alice,
            agent(repo, "bob") as bob,
            agent(repo, "carol") as carol,
        ):
            await three_agents(alice, bob, carol, presence=True)

    anyio.run(main)
    assert git(repo, "show", "HEAD:app.py") == MERGED
    assert git(repo, "log", "-1", "--format=%s").strip() == "three agents"


def test_unnamed_agents_get_readable_names_of_their_own(repo: Path) -> None:
    async def main() -> None:
        async with agent(repo, None) as one, agent(repo, None) as two:
            first = await text(one, "status")
            second = await text(two, "status")
            names = {
                first.split("You are ")[1].split(".")[0],
                second.split("You are ")[1].split(".")[0],
            }
            assert len(names) == 2
            assert all(n.startswith("mcp-") or n.startswith("agent-") for n in names), names

    anyio.run(main)
