"""External agents in `Runner` (`crdtspace.agents.external`): a program in a worktree of its own,
kept in sync with the workspace, beside scripted and Claude agents; real git repositories and
real processes, only the Claude API faked (`FakeMessagesAPI`)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crdtspace import Workspace
from crdtspace.agents import external
from crdtspace.agents.plan import AgentPlan, Budget, Plan, Step
from crdtspace.agents.runner import Event, RunError, Runner, RunReport
from crdtspace.cli import app
from crdtspace.example import make_example
from crdtspace.testing import FakeMessagesAPI, ToolCall, Turn, git
from tests.mcp_scenario import start_service

ROOT = Path(__file__).resolve().parent.parent
STORE = "inventory/store.py"
PYTHON = sys.executable

# A program that edits files the way an editor (or Claude Code's Edit tool) does: it reads the
# file, waits until the other agent's edit has reached its copy, then reads the file again just
# before it saves its change, and adds a new file.
EDITOR = """\
import sys, time
from pathlib import Path

path = Path("inventory/store.py")
print("read", len(path.read_text()), "characters")
deadline = time.time() + 20
while "quantity.strip()" not in path.read_text():
    if time.time() > deadline:
        sys.exit("the other agent's edit never reached this tree")
    time.sleep(0.05)
text = path.read_text()
path.write_text(text.replace("{i.quantity:5}", "{i.quantity:6}", 1))
Path("docs").mkdir(exist_ok=True)
Path("docs/columns.md").write_text("The quantity column is six wide.\\n")
print("saved")
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_example(tmp_path)


def run(repo: Path, plan: Plan, events: list[Event] | None = None) -> RunReport:
    with Workspace.open(repo, agent="runner") as ws:
        return Runner(ws, plan, on_event=None if events is None else events.append).run()


def agent(report: RunReport, name: str) -> Any:
    return next(a for a in report.agents if a.name == name)


def worktrees(repo: Path) -> list[str]:
    listed = git(repo, "worktree", "list", "--porcelain").splitlines()
    return [line.split(" ", 1)[1] for line in listed if line.startswith("worktree ")]


def worker(wait: float = 0.3) -> AgentPlan:
    """A scripted agent that edits `parse_line` of the store."""
    edit = {"ref": f"{STORE}::parse_line", "old": "int(quantity)", "new": "int(quantity.strip())"}
    return AgentPlan("worker", script=(Step("edit", edit, wait=wait),))


def test_an_external_program_edits_beside_a_scripted_agent(repo: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    plan = Plan(
        (AgentPlan("ext", command=f"{PYTHON} {editor}", mcp=False), worker()),
        message="Wider column, stripped quantity",
    )
    events: list[Event] = []
    report = run(repo, plan, events)
    assert report.ok, (report.gate, [a.state for a in report.agents])
    assert [a.state for a in report.agents] == ["done", "done"]
    assert agent(report, "ext").files == ["docs/columns.md", STORE]
    assert agent(report, "worker").files == [STORE]
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "{i.quantity:6}" in store
    assert "int(quantity.strip())" in store
    assert git(repo, "show", "HEAD:docs/columns.md") == "The quantity column is six wide.\n"
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-authored-by: ext <" in body
    assert "Co-authored-by: worker <" in body
    # the program ran in a worktree of its own, removed at the end; its output was kept
    (started,) = [e for e in events if e["type"] == "process"]
    assert started["agent"] == "ext"
    assert not Path(started["tree"]).exists()
    assert worktrees(repo) == [str(repo)]
    output = Path(report.transcripts) / "ext.out"
    assert output.read_text().splitlines()[-1] == "saved"


def test_a_crashed_program_is_reported_and_the_others_commit(repo: Path) -> None:
    plan = Plan(
        (
            AgentPlan("broken", command="echo working; echo 'it broke' >&2; exit 3"),
            AgentPlan("missing", command="no-such-program-here --now", mcp=False),
            worker(0.0),
        ),
        message="The worker's edit",
    )
    report = run(repo, plan)
    assert agent(report, "broken").state == "crashed: ExternalError: exit 3: it broke"
    missing = agent(report, "missing").state
    assert missing.startswith("crashed: ExternalError: exit 127: ")
    assert "no-such-program-here" in missing
    assert missing.endswith("not found")
    assert agent(report, "worker").state == "done"
    assert report.ok
    assert "int(quantity.strip())" in git(repo, "show", f"HEAD:{STORE}")
    assert worktrees(repo) == [str(repo)]


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody has reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_program_that_never_ends_is_stopped_by_its_budget(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(external, "GRACE", 0.3)
    pids, stubborn = tmp_path / "pids", tmp_path / "stubborn"
    command = (
        "printf '\\nEdited before hanging.\\n' >> README.md; "
        f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; wait"
    )
    deaf = f"trap '' TERM; sleep 300 & echo $! > {stubborn}; echo $$ >> {stubborn}; wait"
    plan = Plan(
        (
            AgentPlan("hang", command=command, budget=Budget(seconds=1.5)),
            AgentPlan("deaf", command=deaf, mcp=False, budget=Budget(seconds=1.0)),
            worker(),
        ),
        message="Work of a stopped agent",
    )
    events: list[Event] = []
    report = run(repo, plan, events)
    assert agent(report, "hang").state == "stopped: over its 1.5 s"
    assert agent(report, "deaf").state == "stopped: over its 1 s"  # (SIGKILL: it ignores TERM)
    assert agent(report, "worker").state == "done"
    listed = [int(line) for line in pids.read_text().split()]
    others = [int(line) for line in stubborn.read_text().split()]
    assert len(listed) == len(others) == 2
    assert not any(alive(pid) for pid in listed + others)  # the programs and what they started
    started = {e["agent"]: e for e in events if e["type"] == "process"}
    assert started["hang"]["pid"] in listed
    assert started["deaf"]["pid"] in others
    assert not any(Path(e["tree"]).exists() for e in started.values())
    assert worktrees(repo) == [str(repo)]
    # its edit stays, is named, and is in the commit
    assert agent(report, "hang").files == ["README.md"]
    assert report.ok
    assert git(repo, "show", "HEAD:README.md").endswith("\nEdited before hanging.\n")
    assert "Co-authored-by: hang <" in git(repo, "log", "-1", "--format=%B")


def test_placeholders_and_environment(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    script = tmp_path / "dump.py"
    script.write_text(DUMP.replace("SEEN", repr(str(seen))))
    task = "Say 'hi' $HOME; then stop."
    plan = Plan(
        (
            AgentPlan(
                "mcp", task=task, command=f"{PYTHON} {script} {{task}} {{agent}} {{mcp_config}}"
            ),
        )
    )
    report = run(repo, plan)
    assert report.agents[0].state == "done"
    told = json.loads(seen.read_text())
    config_path = told["env"]["CRDTSPACE_MCP_CONFIG"]
    assert told["argv"] == [task, "mcp", config_path]
    assert told["env"]["CRDTSPACE_AGENT"] == "mcp"
    assert told["env"]["CRDTSPACE_TASK"] == task
    token = told["env"]["CRDTSPACE_TOKEN"]
    url = told["env"]["CRDTSPACE_MCP_URL"]
    assert url.startswith("http://127.0.0.1:")
    assert not Path(config_path).is_relative_to(told["cwd"])  # never in the worktree
    assert not Path(config_path).exists()  # removed with it
    assert not Path(told["cwd"]).exists()
    assert len(token) > 20
    assert told["refused"] == [401, 401]  # no token, a wrong one


DUMP = """\
import json, os, sys, urllib.error, urllib.request

refused = []
for token in (None, "wrong"):
    request = urllib.request.Request(os.environ["CRDTSPACE_MCP_URL"], data=b"{}", method="POST")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        refused.append(error.code)
env = {k: v for k, v in os.environ.items() if k.startswith("CRDTSPACE_")}
told = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": env, "refused": refused}
json.dump(told, open(SEEN, "w"))
"""


def test_crdtspace_run_runs_a_command_agent(repo: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'message = "A line from a command"\n'
        "[[agent]]\n"
        'name = "shell"\n'
        'task = "Add a line."\n'
        "command = \"printf 'Task: %s\\\\n' {task} >> README.md\"\n"
        "mcp = false\n"
    )
    result = CliRunner().invoke(app, ["-C", str(repo), "run", str(plan)])
    assert result.exit_code == 0, result.output
    assert "shell        done: 0 tool calls (0 refused), 0 turns, edited README.md" in result.output
    assert git(repo, "show", "HEAD:README.md").endswith("Task: Add a line.\n")
    assert "Co-authored-by: shell <" in git(repo, "log", "-1", "--format=%B")


def test_an_agent_without_mcp_gets_no_config(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "env"
    plan = Plan(
        (
            AgentPlan("plain", command=f"env > {seen}; ls -a > {seen}.ls", mcp=False),
            AgentPlan("asks", command="cat {mcp_config}", mcp=False),
        )
    )
    report = run(repo, plan)
    assert agent(report, "plain").state == "done"
    env = seen.read_text()
    assert "CRDTSPACE_AGENT=plain" in env
    assert "CRDTSPACE_MCP" not in env
    assert "CRDTSPACE_TOKEN" not in env
    assert "mcp.json" not in Path(f"{seen}.ls").read_text()
    assert agent(report, "asks").state == (
        "crashed: ExternalError: its command names {mcp_config}, but it has no MCP server "
        "(mcp = false)."
    )


def test_external_agents_need_a_repository(repo: Path) -> None:
    plan = Plan((AgentPlan("ext", command="true"),))
    rootless = Workspace(Workspace.from_commit(repo, agent="a").copy_doc(), agent="runner")
    with pytest.raises(RunError, match="External agents need a workspace with a repository"):
        Runner(rootless, plan).run()


def claude_binary() -> Path | None:
    """The Claude Code CLI the claude-agent-sdk wheel ships, when it is installed."""
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    found = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return found if found.is_file() else None


CLAUDE = claude_binary()


def turn(tool: str, **args: Any) -> Turn:
    """A model's turn that calls one tool."""
    return Turn("", (ToolCall(tool, args),))


@pytest.mark.skipif(CLAUDE is None, reason="the Claude Code CLI of the claude-agent-sdk wheel")
def test_claude_code_beside_a_claude_agent_in_one_run(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code edits through the crdtspace MCP tools and with its own Read and Edit on a
    file of its worktree; a Claude agent of the runner edits another function at the same
    time; one commit has both."""
    total = f"{STORE}::Inventory.total_value"
    by_agent = {
        "coder": [
            turn("mcp__crdtspace__read", ref=total),
            turn("mcp__crdtspace__edit", ref=total, old="return sum(", new="return round(sum("),
            turn("mcp__crdtspace__edit", ref=total, old="values())", new="values()), 2)"),
            turn("Read", file_path="{cwd}/README.md"),
            turn(
                "Edit",
                file_path="{cwd}/README.md",
                old_string="Two agents edit it at once.",
                new_string="Several agents edit it at once.",
            ),
            Turn("Rounded, and the README says so."),
        ],
        "alice": [
            turn("claim", refs=f"{STORE}::format_report"),
            turn("edit", ref=f"{STORE}::format_report", old="{i.quantity:5}", new="{i.quantity:6}"),
            Turn("Wider."),
        ],
    }
    home = tmp_path / "home"
    home.mkdir()
    tools = "mcp__crdtspace__read,mcp__crdtspace__edit,Read,Edit"
    command = (
        f"HOME={home} ENABLE_TOOL_SEARCH=false CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "
        f"DISABLE_AUTOUPDATER=1 {CLAUDE} -p {{task}} --append-system-prompt 'You are {{agent}}.' "
        f"--mcp-config {{mcp_config}} --strict-mcp-config --allowedTools {tools} "
        "--output-format json"
    )
    plan = Plan(
        (
            AgentPlan("coder", task="Round the total; say so in the README.", command=command),
            AgentPlan("alice", task="Widen the quantity column."),
        ),
        message="Rounded total, wider column",
    )
    events: list[Event] = []
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", api.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        report = run(repo, plan, events)
    assert report.ok, (report.gate, [a.state for a in report.agents])
    assert [a.state for a in report.agents] == ["done", "done"]
    coder = agent(report, "coder")
    assert coder.kind == "command"
    assert coder.tool_calls == 3  # the MCP calls, counted as the runner's own
    assert coder.files == ["README.md", STORE]
    assert agent(report, "alice").files == [STORE]
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "return round(sum(i.quantity * i.unit_price for i in self.items.values()), 2)" in store
    assert "{i.quantity:6}" in store
    assert "Several agents edit it at once." in git(repo, "show", "HEAD:README.md")
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-authored-by: coder <" in body
    assert "Co-authored-by: alice <" in body
    told = [e for e in events if e["type"] == "tool_call" and e["agent"] == "coder"]
    assert [e["tool"] for e in told] == ["read", "edit", "edit"]
    results = [e for e in events if e["type"] == "tool_result" and e["agent"] == "coder"]
    assert not any(e["error"] for e in results)
    output = (Path(report.transcripts) / "coder.out").read_text().strip().splitlines()
    assert json.loads(output[-1])["result"] == "Rounded, and the README says so."
    assert worktrees(repo) == [str(repo)]


def test_a_run_joined_to_the_service_syncs_an_external_agent(repo: Path, tmp_path: Path) -> None:
    """The same two agents through `crdtspace run` while the workspace service runs: the run's
    workspace is a networked replica, whose own lock the watcher and the tool calls share."""
    (tmp_path / "editor.py").write_text(EDITOR)
    (tmp_path / "worker.toml").write_text(
        '[[step]]\ntool = "edit"\nwait = 0.3\n'
        f'args = {{ ref = "{STORE}::parse_line", old = "int(quantity)", '
        'new = "int(quantity.strip())" }\n'
    )
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'message = "Wider column, stripped quantity"\n'
        f'[[agent]]\nname = "ext"\ncommand = "{PYTHON} {tmp_path / "editor.py"}"\nmcp = false\n'
        '[[agent]]\nname = "worker"\nscript = "worker.toml"\n'
    )
    server, _service = start_service(repo)
    try:
        result = CliRunner().invoke(app, ["-C", str(repo), "run", str(plan)])
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert result.exit_code == 0, result.output
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "{i.quantity:6}" in store
    assert "int(quantity.strip())" in store
    assert "docs/columns.md" in git(repo, "show", "--name-only", "--format=", "HEAD")
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-authored-by: ext <" in body
    assert "Co-authored-by: worker <" in body


@pytest.mark.skipif(CLAUDE is None, reason="the Claude Code CLI of the claude-agent-sdk wheel")
def test_claude_code_a_script_and_a_claude_agent_in_one_run(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three kinds at once: Claude Code (over MCP), a program that edits its files as an editor
    does (it waits for the Claude agent's edit to reach its tree), and a Claude agent of the
    runner; one commit, three co-authors."""
    total = f"{STORE}::Inventory.total_value"
    by_agent = {
        "coder": [
            turn("mcp__crdtspace__read", ref=total),
            turn("mcp__crdtspace__edit", ref=total, old="return sum(", new="return round(sum("),
            turn("mcp__crdtspace__edit", ref=total, old="values())", new="values()), 2)"),
            Turn("Rounded."),
        ],
        "alice": [
            turn(
                "edit", ref=f"{STORE}::parse_line", old="int(quantity)", new="int(quantity.strip())"
            ),
            Turn("Stripped."),
        ],
    }
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "editor.py").write_text(EDITOR)
    command = (
        f"HOME={home} ENABLE_TOOL_SEARCH=false CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "
        f"DISABLE_AUTOUPDATER=1 {CLAUDE} -p {{task}} --append-system-prompt 'You are {{agent}}.' "
        f"--mcp-config {{mcp_config}} --strict-mcp-config "
        "--allowedTools mcp__crdtspace__read,mcp__crdtspace__edit --output-format json"
    )
    plan = Plan(
        (
            AgentPlan("coder", task="Round the total.", command=command),
            AgentPlan("ext", command=f"{PYTHON} {tmp_path / 'editor.py'}", mcp=False),
            AgentPlan("alice", task="Strip the quantity."),
        ),
        message="Rounded total, stripped quantity, wider column",
    )
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", api.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        report = run(repo, plan)
    assert report.ok, (report.gate, [a.state for a in report.agents])
    assert [a.state for a in report.agents] == ["done", "done", "done"]
    assert [a.kind for a in report.agents] == ["command", "command", "claude"]
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "return round(sum(i.quantity * i.unit_price for i in self.items.values()), 2)" in store
    assert "int(quantity.strip())" in store
    assert "{i.quantity:6}" in store
    body = git(repo, "log", "-1", "--format=%B")
    for name in ("coder", "ext", "alice"):
        assert f"Co-authored-by: {name} <" in body
    assert worktrees(repo) == [str(repo)]
