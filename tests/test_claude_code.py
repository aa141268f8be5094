"""The real Claude Code CLI (the one the claude-agent-sdk wheel ships) as the MCP client of
`crdtspace mcp`, offline: the model is `FakeMessagesAPI`, scripted to call the tools. Its calls
must reach the workspace, and their results come back to the API as the model would see them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crdtspace import Workspace
from crdtspace.live.service import find_service
from crdtspace.testing import FakeMessagesAPI, ToolCall, Turn
from tests.mcp_scenario import stop_service, workspace_repo

ROOT = Path(__file__).resolve().parent.parent
APP = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n"


def claude_binary() -> Path | None:
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    found = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return found if found.is_file() else None


CLAUDE = claude_binary()
pytestmark = pytest.mark.skipif(CLAUDE is None, reason="the claude-agent-sdk wheel is needed")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    root = workspace_repo(tmp_path / "repo", {"app.py": APP})
    yield root
    stop_service(root)


def run_claude(repo: Path, api: FakeMessagesAPI, home: Path, tools: list[str]) -> dict[str, object]:
    config = home / "mcp.json"
    server = {
        "command": sys.executable,
        "args": ["-m", "crdtspace", "-C", str(repo), "mcp", "--agent", "claude"],
        "env": {"PYTHONPATH": str(ROOT)},
    }
    config.write_text(json.dumps({"mcpServers": {"crdtspace": server}}))
    env = {
        **os.environ,
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": api.url,
        "ANTHROPIC_API_KEY": api.api_key,
        "ENABLE_TOOL_SEARCH": "false",  # else MCP tools hide behind the tool search tool
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    allowed = ",".join(f"mcp__crdtspace__{t}" for t in tools)
    assert CLAUDE is not None
    done = subprocess.run(
        [str(CLAUDE), "-p", "Make f add ten.", "--mcp-config", str(config),
         "--strict-mcp-config", "--allowedTools", allowed, "--output-format", "json"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_claude_code_edits_through_the_mcp_tools(repo: Path, tmp_path: Path) -> None:
    script = [
        Turn("Let me read f.", (ToolCall("mcp__crdtspace__read", {"ref": "app.py::f"}),)),
        Turn("", (ToolCall("mcp__crdtspace__claim", {"refs": "app.py::f", "note": "ten"}),)),
        Turn(
            "",
            (
                ToolCall(
                    "mcp__crdtspace__edit", {"ref": "app.py::f", "old": "x + 1", "new": "x + 10"}
                ),
            ),
        ),
        Turn(
            "", (ToolCall("mcp__crdtspace__edit", {"ref": "app.py::f", "old": "nope", "new": ""}),)
        ),
        Turn("f now adds ten."),
    ]
    home = tmp_path / "home"
    home.mkdir()
    with FakeMessagesAPI(script) as api:
        result = run_claude(repo, api, home, ["read", "claim", "edit"])
    assert result["result"] == "f now adds ten."
    assert result["is_error"] is False
    assert not api.refused  # it sent the key
    offered = {t["name"] for t in api.scripted[0]["tools"]}
    assert {"mcp__crdtspace__read", "mcp__crdtspace__edit", "mcp__crdtspace__commit"} <= offered
    read, claimed, edited, failed = api.tool_results()
    assert read.startswith("[app.py::f at version v")
    assert read.endswith("def f(x):\n    return x + 1\n")
    assert claimed.startswith("Claimed app.py::f until ")
    assert edited.startswith("Edited app.py::f (version v")
    assert "The text to replace was not found in app.py::f" in failed
    errors = [
        block.get("is_error")
        for body in api.scripted[1:]
        for block in body["messages"][-1]["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    assert errors[-1] is True
    assert not any(errors[:-1])
    # the edit reached the workspace: a replica joining its service sees it
    service = find_service(repo)
    assert service is not None
    with Workspace.connect(service.url, service.token, agent="checker") as replica:
        assert replica.render("app.py") == APP.replace("x + 1", "x + 10")
        assert [e.agent for _, e in replica.log("app.py::f")] == ["claude"]
