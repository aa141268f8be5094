"""`Runner`'s coordination: a shared task list taken through the document, conflicts asked of
the agent whose edit came second first, and faults of the model's API (a 529 burst, an
agent that never stops) while the others finish. Claude agents run through the real anthropic
SDK against `FakeMessagesAPI`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crdtspace import Workspace
from crdtspace.agents.plan import AgentPlan, Budget, Plan, PlanError, load_plan
from crdtspace.agents.runner import Runner
from crdtspace.example import make_example
from crdtspace.model import claims
from crdtspace.testing import FakeMessagesAPI, ToolCall, Turn, git

ROOT = Path(__file__).resolve().parent.parent
STORE = "inventory/store.py"
REMOVE = f"{STORE}::Inventory.remove"
OLD = "only {item.quantity} of {sku} in stock"
ASKED = "these conflicts involve your edits"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_example(tmp_path)


def _use(api: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", api.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)


def _first_user_texts(api: FakeMessagesAPI, agent: str) -> list[str]:
    """The opening user message of each conversation `agent` had with the model."""
    out = []
    for body in api.scripted:
        if f"You are {agent}." not in json.dumps(body.get("system", "")):
            continue
        messages = body.get("messages", [])
        if len(messages) == 1 and isinstance(messages[0].get("content"), str):
            out.append(messages[0]["content"])
    return out


def _asked(api: FakeMessagesAPI, agent: str) -> bool:
    return any(
        f"You are {agent}." in json.dumps(b.get("system", "")) and ASKED in json.dumps(b)
        for b in api.scripted
    )


def _edit(new: str) -> ToolCall:
    return ToolCall("edit", {"ref": REMOVE, "old": OLD, "new": new, "base": "{version}"})


def test_idle_agents_take_the_shared_tasks_each_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = ("Task one.", "Task two.", "Task three.", "Task four.", "Task five.")
    plan = Plan(
        (
            AgentPlan("alice"),
            AgentPlan("bob"),
            AgentPlan("carol", task="Her own task."),
        ),
        tasks=tasks,
    )
    with FakeMessagesAPI([], by_agent={"alice": [], "bob": [], "carol": []}) as api:
        _use(api, monkeypatch)
        with Workspace.open(repo, agent="runner") as ws:
            runner = Runner(ws, plan)
            report = runner.run()
            taken = claims.tasks_taken(ws, f"{runner.id}/")
    took = {a.name: a.tasks for a in report.agents}
    assert took["carol"][0] == "Her own task."
    shared = [t for agent in took.values() for t in agent if t in tasks]
    assert sorted(shared) == sorted(tasks)  # every task taken, none twice
    assert len(taken) == len(tasks)
    for agent in ("alice", "bob", "carol"):
        assert _first_user_texts(api, agent) == took[agent]  # a new conversation per task
    assert all(a.state == "done" for a in report.agents)


def test_an_agent_with_no_task_left_is_done(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = Plan((AgentPlan("alice"), AgentPlan("bob")), tasks=("The only task.",))
    with FakeMessagesAPI([], by_agent={"alice": [], "bob": []}) as api:
        _use(api, monkeypatch)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    states = sorted(a.state for a in report.agents)
    assert states == ["done", "done: no task left"]
    assert sum(len(a.tasks) for a in report.agents) == 1


def test_a_plan_of_three_lines_with_a_task_list(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('tasks = ["a", "b"]\n[[agent]]\n[[agent]]\n')
    plan = load_plan(path)
    assert [a.name for a in plan.agents] == ["agent-1", "agent-2"]
    assert plan.tasks == ("a", "b")
    path.write_text('tasks = ["a", ""]\n[[agent]]\n')
    with pytest.raises(PlanError, match="tasks must be a list of non-empty strings"):
        load_plan(path)
    path.write_text("[[agent]]\n")
    with pytest.raises(PlanError, match="neither a task nor a script"):
        load_plan(path)


def test_the_agent_whose_edit_came_second_is_asked_first(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """alice edits first and is done first; bob's edit of the same line, from the same read,
    comes second: bob is asked, takes alice's side, and alice is never asked."""
    by_agent = {
        "alice": [
            Turn("", (ToolCall("read", {"ref": REMOVE}),)),
            Turn("", (_edit("{sku}: short"),), wait=0.05),
            Turn("Done."),
        ],
        "bob": [
            Turn("", (ToolCall("read", {"ref": REMOVE}),)),
            Turn("", (_edit("{sku}: not enough in stock"),), wait=0.5),
            Turn("Done.", wait=0.3),
            Turn("", (ToolCall("resolve", {"id": "{conflict}", "take": "alice"}),)),
            Turn("Took alice's wording."),
        ],
    }
    plan = Plan((AgentPlan("alice", task="Reword."), AgentPlan("bob", task="Reword too.")))
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        _use(api, monkeypatch)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    assert report.ok, (report.gate, report.conflicts)
    assert _asked(api, "bob")
    assert not _asked(api, "alice")
    assert "{sku}: short" in git(repo, "show", f"HEAD:{STORE}")


def test_the_first_editor_is_asked_when_the_second_leaves_it_open(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_agent = {
        "alice": [
            Turn("", (ToolCall("read", {"ref": REMOVE}),)),
            Turn("", (_edit("{sku}: short"),), wait=0.05),
            Turn("Done."),
            Turn("", (ToolCall("resolve", {"id": "{conflict}", "take": "bob"}),)),
            Turn("Took bob's."),
        ],
        "bob": [
            Turn("", (ToolCall("read", {"ref": REMOVE}),)),
            Turn("", (_edit("{sku}: not enough in stock"),), wait=0.5),
            Turn("Done."),
            Turn("I cannot decide."),
        ],
    }
    plan = Plan((AgentPlan("alice", task="Reword."), AgentPlan("bob", task="Reword too.")))
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        _use(api, monkeypatch)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    assert report.ok, (report.gate, report.conflicts)
    asks = [
        b["system"][0]["text"].split(".")[0]
        for b in api.scripted
        if ASKED in json.dumps(b["messages"][-1])
    ]
    assert asks == ["You are bob", "You are alice"]  # bob first, then alice
    assert "{sku}: not enough in stock" in git(repo, "show", f"HEAD:{STORE}")


def test_a_conflict_nobody_settles_is_reported_not_picked(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_agent = {
        "alice": [
            Turn("", (ToolCall("read", {"ref": REMOVE}),)),
            Turn("", (_edit("{sku}: short"),), wait=0.05),
            Turn("Done."),
            Turn("No."),
        ],
        "bob": [
            Turn("", (ToolCall("read", {"ref": REMOVE}),)),
            Turn("", (_edit("{sku}: not enough in stock"),), wait=0.3),
            Turn("Done."),
            Turn("No."),
        ],
    }
    plan = Plan((AgentPlan("alice", task="Reword."), AgentPlan("bob", task="Reword too.")))
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        _use(api, monkeypatch)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    assert report.commit is None
    assert len(report.conflicts) == 1
    assert "overlap" in report.conflicts[0]
    assert any("FAIL" in step for step in report.gate)
    assert git(repo, "log", "--format=%s").count("\n") == 1  # nothing committed


def test_faults_a_529_burst_a_tool_error_and_an_endless_agent(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """alice's model is overloaded three times in a row (the SDK retries, she goes on), bob
    calls a tool wrongly (told, not crashed), carol never stops (her turns run out); alice's and
    bob's edits are committed and the report says what happened to each."""
    overloaded = Turn(status=529)
    by_agent = {
        "alice": [
            overloaded,
            overloaded,
            overloaded,
            Turn(
                "",
                (
                    ToolCall(
                        "edit",
                        {
                            "ref": f"{STORE}::parse_line",
                            "old": "int(quantity)",
                            "new": "int(quantity.strip())",
                        },
                    ),
                ),
            ),
            Turn("Done."),
        ],
        "bob": [
            Turn(
                "",
                (ToolCall("edit", {"ref": f"{STORE}::no_such_function", "old": "a", "new": "b"}),),
            ),
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
            Turn("Done."),
        ],
        "carol": [Turn("", (ToolCall("status", {}),))] * 50,
    }
    plan = Plan(
        (
            AgentPlan("alice", task="Strip."),
            AgentPlan("bob", task="Widen."),
            AgentPlan("carol", task="Watch forever.", budget=Budget(turns=4)),
        )
    )
    with FakeMessagesAPI([], by_agent=by_agent) as api:
        _use(api, monkeypatch)
        with Workspace.open(repo, agent="runner") as ws:
            report = Runner(ws, plan).run()
    by_name = {a.name: a for a in report.agents}
    assert by_name["alice"].state == "done"
    assert by_name["alice"].turns == 2  # the retries are the SDK's, not turns
    assert by_name["bob"].state == "done"
    assert by_name["bob"].tool_errors == 1
    assert by_name["carol"].state == "stopped: over its 4 turns"
    assert by_name["carol"].files == []
    assert report.ok, report.gate
    store = git(repo, "show", f"HEAD:{STORE}")
    assert "int(quantity.strip())" in store
    assert "{i.quantity:6}" in store
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-authored-by: alice <" in body
    assert "Co-authored-by: bob <" in body
    assert "carol" not in body
    alice_requests = [b for b in api.requests if "You are alice." in json.dumps(b.get("system"))]
    assert len(alice_requests) == 5  # three refused, then two answered
