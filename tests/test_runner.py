"""`crdtspace run` and `Runner`: agents at once on one workspace, from a plan to a gate commit;
Claude agents through the real anthropic SDK against `FakeMessagesAPI`, scripted agents offline,
and the failure detectors (budgets, a model not answering, a crash)."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace import Workspace
from crdtspace.agents import tools
from crdtspace.agents.plan import AgentPlan, Budget, Plan, PlanError, Step, load_plan
from crdtspace.agents.runner import RunError, Runner
from crdtspace.cli import app
from crdtspace.example import make_example
from crdtspace.model import claims
from crdtspace.testing import FakeMessagesAPI, ToolCall, Turn, git
from tests.mcp_scenario import start_service

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "examples" / "run" / "plan.toml"
STORE = "inventory/store.py"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_example(tmp_path)


def test_the_example_plan_runs_offline_to_one_commit_with_three_co_authors(repo: Path) -> None:
    """alice adds restock() calling parse_line, bob renames parse_line from an older read: the
    dangling reference is flagged mid-run, alice fixes her call, carol's test passes."""
    result = CliRunner().invoke(app, ["-C", str(repo), "run", str(PLAN)])
    assert result.exit_code == 0, result.output
    assert "New conflict" in result.output  # flagged mid-run
    assert "dangling-reference" in result.output
    body = git(repo, "log", "-1", "--format=%B")
    for agent in ("alice", "bob", "carol"):
        assert f"Co-authored-by: {agent} <" in body
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "def parse_record(line: str) -> Item:" in store
    assert "inventory.add(parse_record(line))" in store  # alice's call, fixed
    assert "parse_line" not in store
    assert "test_restock_adds_to_an_existing_item" in git(repo, "show", "HEAD:tests/test_store.py")
    runs = list((repo / ".git" / "crdtspace" / "default" / "runs").iterdir())
    (folder,) = runs
    report = json.loads((folder / "report.json").read_text())
    assert [a["state"] for a in report["agents"]] == ["done", "done", "done"]
    assert report["commit"] == git(repo, "rev-parse", "HEAD").strip()
    events = [json.loads(line) for line in (folder / "alice.jsonl").read_text().splitlines()]
    told = [e["text"] for e in events if e["type"] == "tool_result" and e["tool"] == "conflicts"]
    assert any("bob renamed parse_line to parse_record" in text for text in told)
    carol = [json.loads(line) for line in (folder / "carol.jsonl").read_text().splitlines()]
    checks = [e["text"] for e in carol if e["type"] == "tool_result" and e["tool"] == "run_check"]
    assert len(checks) == 1
    assert "passed" in checks[0]


def test_claude_agents_through_the_anthropic_sdk(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_agent = {
        "alice": [
            Turn("Reading.", (ToolCall("read", {"ref": f"{STORE}::Inventory.total_value"}),)),
            Turn(
                "",
                (
                    ToolCall(
                        "edit",
                        {
                            "ref": f"{STORE}::Inventory.total_value",
                            "old": "return sum(",
                            "new": "return round(sum(",
                        },
                    ),
                ),
            ),
            Turn(
                "",
                (
                    ToolCall(
                        "edit",
                        {
                            "ref": f"{STORE}::Inventory.total_value",
                            "old": "values())",
                            "new": "values()), 2)",
                        },
                    ),
                ),
            ),
            Turn("Rounded."),
        ],
        "bob": [
            Turn("", (ToolCall("claim", {"refs": f"{STORE}::format_report"}),)),
            Turn(
                "",
                (
                    ToolCall(
                        "edit",
                        {
                            "ref": f"{STORE}::format_report",
                            "old": "{i.quantity:5}",
                            "new": "{i.quantity:6}",
                        },
                    ),
                ),
            ),
            Turn("Wider."),
        ],
    }
    plan = Plan(
        (
            AgentPlan("alice", task="Round the total."),
            AgentPlan("bob", task="Widen the quantity column."),
            AgentPlan("carol", script=(Step("status", {}), Step("claims", {}, wait=0.05))),
        ),
        message="Rounded total, wider column",
    )
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", api.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    assert report.ok, report.gate
    states = {a.name: a.state for a in report.agents}
    assert states == {"alice": "done", "bob": "done", "carol": "done"}
    alice = next(a for a in report.agents if a.name == "alice")
    assert alice.turns == 4
    assert alice.tool_calls == 3
    assert alice.output_tokens == 40
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "return round(sum(i.quantity * i.unit_price for i in self.items.values()), 2)" in store
    assert "{i.quantity:6}" in store
    # the tool results went back to the model as tool_result blocks, with the caching asked
    first = api.scripted[0]
    assert first["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert first["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    results = api.tool_results()
    assert any(
        r.startswith("[inventory/store.py::Inventory.total_value at version v") for r in results
    )


def test_failure_detectors_stop_one_agent_and_the_others_finish(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: tools.Session, args: dict[str, object]) -> str:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setitem(
        tools.TOOLS,
        "history",
        tools.Tool("history", "broken", tools.TOOLS["history"].schema, broken),
    )
    read = Step("read", {"ref": STORE})
    plan = Plan(
        (
            AgentPlan("greedy", script=(read,) * 5, budget=Budget(turns=2)),
            AgentPlan(
                "crasher", script=(Step("claim", {"refs": STORE}), Step("history", {"ref": STORE}))
            ),
            AgentPlan("slow", script=(Step("status", {}, wait=5.0),), budget=Budget(seconds=0.3)),
            AgentPlan(
                "worker",
                script=(
                    Step(
                        "edit",
                        {
                            "ref": f"{STORE}::parse_line",
                            "old": "int(quantity)",
                            "new": "int(quantity.strip())",
                        },
                    ),
                    Step("read", {"ref": "no/such.py"}),  # a tool error: told, not a crash
                ),
            ),
        ),
        message="The worker's edit",
    )
    with Workspace.open(repo, agent="runner") as ws:
        report = Runner(ws, plan).run()
        left = claims.in_document(ws)  # the crasher's claim was released
    states = {a.name: a.state for a in report.agents}
    assert states["greedy"] == "stopped: over its 2 turns"
    assert states["crasher"].startswith("crashed: RuntimeError: the disk caught fire")
    assert states["slow"] == "stopped: over its 0.3 s"
    assert states["worker"] == "done"
    worker = next(a for a in report.agents if a.name == "worker")
    assert worker.tool_errors == 1
    assert worker.files == [STORE]
    assert report.ok
    assert "int(quantity.strip())" in git(repo, "show", f"HEAD:{STORE}")
    assert left == []


def test_a_model_that_does_not_answer_stops_its_agent(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeMessagesAPI([Turn("late")], delay=2.0) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", api.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        plan = Plan((AgentPlan("sleepy", task="Do something."),))
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan, call_timeout=0.5).run()
    assert report.agents[0].state == "stopped: its model did not answer within 0.5 s"
    assert report.commit is None
    assert report.gate == ["nothing to commit: no agent edited"]


def test_claude_agents_need_a_key(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with (
        Workspace.open(repo, agent="runner") as ws,
        pytest.raises(RunError, match="ANTHROPIC_API_KEY"),
    ):
        Runner(ws, Plan((AgentPlan("a", task="x"),))).run()


def test_plans_that_cannot_run_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "plan.toml"
    for text, message in [
        ("", "names no agent"),
        ('[[agent]]\nname = "a"\n', "neither a task nor a script"),
        ('[[agent]]\nname = "a"\ntask = "x"\n[[agent]]\nname = "a"\ntask = "y"\n', "used twice"),
        ('[[agent]]\nname = "a"\ntask = "x"\nturns = 0\n', "turns must be a positive number"),
        ('[[agent]]\nname = "a"\nscript = "missing.toml"\n', "There is no file"),
        ("[[agent\n", "not valid TOML"),
    ]:
        bad.write_text(text)
        with pytest.raises(PlanError, match=message):
            load_plan(bad)
    shutil.copy(PLAN, tmp_path / "ok.toml")
    (tmp_path / "tasks").mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copy(PLAN.parent / "tasks" / f"{name}.toml", tmp_path / "tasks")
    assert [a.kind for a in load_plan(tmp_path / "ok.toml").agents] == ["script"] * 3


def test_runs_lists_and_shows_what_run_kept(repo: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["-C", str(repo), "runs"]).output.startswith("no run yet")
    assert runner.invoke(app, ["-C", str(repo), "run", str(PLAN)]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["-C", str(repo), "runs", "--json"]).output)
    (run,) = listed
    assert [a["state"] for a in run["agents"]] == ["done", "done", "done"]
    table = runner.invoke(app, ["-C", str(repo), "runs"]).output
    assert run["id"] in table
    assert "alice done, bob done, carol done" in table
    shown = runner.invoke(app, ["-C", str(repo), "runs", "show", run["id"][:12]]).output
    assert f"run {run['id']}: committed {run['commit'][:10]}" in shown
    assert "bob          done: 3 tool calls" in shown
    missing = runner.invoke(app, ["-C", str(repo), "runs", "show", "nope"])
    assert missing.exit_code != 0
    assert "No run matches 'nope'" in missing.output


def test_a_run_joins_the_workspace_service_when_one_runs(repo: Path) -> None:
    server, _service = start_service(repo)
    try:
        result = CliRunner().invoke(app, ["-C", str(repo), "run", str(PLAN)])
        assert result.exit_code == 0, result.output
        assert "ok   commit" in result.output or "ok commit" in result.output
        assert "test_restock_adds_to_an_existing" in git(repo, "show", "HEAD:tests/test_store.py")
        listed = CliRunner().invoke(app, ["-C", str(repo), "runs", "--json"]).output
        assert json.loads(listed)[0]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


def test_agents_in_a_conflict_are_asked_to_resolve_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Claude agents change one line from the same read; when each would stop, the runner
    asks it to settle the conflicts on its edits: alice takes bob's side, the gate commits."""
    ref = f"{STORE}::Inventory.remove"
    old = "only {item.quantity} of {sku} in stock"

    def edit(new: str) -> ToolCall:
        return ToolCall("edit", {"ref": ref, "old": old, "new": new, "base": "{version}"})

    by_agent = {
        "alice": [
            Turn("", (ToolCall("read", {"ref": ref}),)),
            Turn("", (edit("{sku}: short"),), wait=0.4),
            Turn("Done."),
            Turn("", (ToolCall("conflicts", {}),)),
            Turn("", (ToolCall("resolve", {"id": "{conflict}", "take": "bob"}),)),
            Turn("Took bob's wording."),
        ],
        "bob": [
            Turn("", (ToolCall("read", {"ref": ref}),)),
            Turn("", (edit("{sku}: not enough in stock"),), wait=0.1),
            Turn("Done."),
            Turn("I leave it to alice.", wait=1.0),
        ],
    }
    plan = Plan(
        (AgentPlan("alice", task="Reword the error."), AgentPlan("bob", task="Reword it too.")),
        message="One wording",
    )
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", api.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    assert report.ok, (report.gate, report.conflicts)
    assert [a.state for a in report.agents] == ["done", "done"]
    asked = [b for b in api.scripted if "these conflicts involve your edits" in json.dumps(b)]
    assert asked  # the question went to the model, naming the conflict
    assert "(overlap)" in json.dumps(asked[0]["messages"][-1])
    assert "{sku}: not enough in stock" in git(repo, "show", f"HEAD:{STORE}")


def test_run_example_is_the_quick_start(tmp_path: Path) -> None:
    """`crdtspace run --example`: a fresh copy of the example repository, the example plan,
    one commit with three co-authors, `git log -1` shown."""
    keep = tmp_path / "kept"
    result = CliRunner().invoke(app, ["run", "--example", "--keep", str(keep), "--plain"])
    assert result.exit_code == 0, result.output
    repo = keep / "sample-repo"
    assert f"the example repository: {repo.resolve()}" in result.output
    assert "$ git log -1 --stat" in result.output
    body = git(repo, "log", "-1", "--format=%B")
    for agent in ("alice", "bob", "carol"):
        assert f"Co-authored-by: {agent} <" in body
    assert "inventory.add(parse_record(line))" in git(repo, "show", f"HEAD:{STORE}")
    again = CliRunner().invoke(app, ["run", "--example", "--keep", str(keep)])
    assert again.exit_code == 2
    assert "is not empty" in " ".join(again.output.replace("│", " ").split())


def test_run_needs_a_plan_or_the_example(tmp_path: Path) -> None:
    for args in (["run"], ["run", "--example", str(PLAN)], ["run", str(PLAN), "--keep", "x"]):
        result = CliRunner().invoke(app, ["-C", str(tmp_path), *args])
        assert result.exit_code == 2, args


def test_the_example_plan_gives_claude_agents_the_same_tasks() -> None:
    scripted, claude = load_plan(PLAN), load_plan(PLAN, agents="claude")
    assert [a.kind for a in scripted.agents] == ["script"] * 3
    assert [a.kind for a in claude.agents] == ["claude"] * 3
    assert [a.task for a in claude.agents] == [a.task for a in scripted.agents]
    assert "restock" in claude.agents[0].task
    assert "parse_record" in claude.agents[1].task
