"""MCP over streamable HTTP on the workspace service (``/mcp``), with the MCP SDK's client:
agents named by header or path, the token required, the tools run on the service's replica."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from crdtspace import Workspace
from crdtspace.live.service import Service
from crdtspace.testing import git
from tests.mcp_scenario import APP as SCENARIO_APP
from tests.mcp_scenario import CHECK, MERGED, start_service, three_agents, workspace_repo

ROOT = Path(__file__).resolve().parent.parent
APP = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    server, found = start_service(workspace_repo(tmp_path / "repo", {"app.py": APP}))
    yield found
    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=30)


async def text(client: Client, tool: str, **args: object) -> str:
    result = await client.call_tool(tool, dict(args))
    body = "".join(c.text for c in result.content if c.type == "text")
    assert not result.is_error, body
    return body


def test_two_agents_over_http_share_the_workspace(service: Service) -> None:
    bearer = {"Authorization": f"Bearer {service.token}"}

    async def main() -> None:
        async with (
            httpx2.AsyncClient(headers={**bearer, "X-Crdtspace-Agent": "alice"}) as http_a,
            httpx2.AsyncClient(headers=bearer) as http_b,
            Client(streamable_http_client(f"{service.http}/mcp", http_client=http_a)) as alice,
            Client(streamable_http_client(f"{service.http}/mcp/bob", http_client=http_b)) as bob,
        ):
            assert "You are alice." in await text(alice, "status")
            assert (await text(alice, "claim", refs="app.py::f", note="faster")).startswith(
                "Claimed app.py::f"
            )
            assert "alice claims app.py::f" in await text(bob, "claims")
            crossed = await text(bob, "edit", ref="app.py::f", old="x + 1", new="x + 2")
            assert crossed.startswith("Edited app.py::f")
            assert "You are bob." in await text(bob, "status")
            news = await text(alice, "list_files")
            assert "bob also claims" not in news  # bob edited, he claimed nothing

    anyio.run(main)
    with Workspace.connect(service.url, service.token, agent="peer") as peer:
        assert peer.render("app.py") == APP.replace("x + 1", "x + 2")
        assert [e.agent for _, e in peer.log("app.py::f")] == ["bob"]


def test_a_wrong_token_is_refused(service: Service) -> None:
    response = httpx2.post(
        f"{service.http}/mcp/mallory",
        headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert response.status_code == 401


def test_three_agents_over_http_claim_edit_conflict_resolve_and_commit(
    tmp_path: Path,
) -> None:
    repo = workspace_repo(tmp_path / "repo3", {"app.py": SCENARIO_APP, "pyproject.toml": CHECK})
    server, service = start_service(repo)
    try:
        bearer = {"Authorization": f"Bearer {service.token}"}

        async def main() -> None:
            async with (
                httpx2.AsyncClient(headers=bearer) as http,
                Client(streamable_http_client(f"{service.http}/mcp/alice", http_client=http)) as a,
                Client(streamable_http_client(f"{service.http}/mcp/bob", http_client=http)) as b,
                Client(streamable_http_client(f"{service.http}/mcp/carol", http_client=http)) as c,
            ):
                await three_agents(a, b, c, presence=False)

        anyio.run(main)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert git(repo, "show", "HEAD:app.py") == MERGED
