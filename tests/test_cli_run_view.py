"""Seeing a run: `RunBoard` folds the runner's events into rows, the live table renders them,
and `crdtspace run` picks the live view, the plain log or JSON lines."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from crdtspace.cli import app
from crdtspace.cli.runview import LiveView, RunBoard, log_line, price, render, short_call
from crdtspace.example import make_example

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "examples" / "run" / "plan.toml"
STORE = "inventory/store.py"
CONFLICT = {
    "id": "04f5f3a2e8",
    "kind": "overlap",
    "agents": ["alice", "bob"],
    "message": "alice and bob changed the same lines of Inventory.remove.",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_example(tmp_path)


@pytest.fixture
def not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich's own switches off, so CliRunner's output is not taken for a terminal."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def call(agent: str, tool: str, error: bool = False, **args: Any) -> list[dict[str, Any]]:
    return [
        {"type": "tool_call", "agent": agent, "tool": tool, "args": args},
        {"type": "tool_result", "agent": agent, "tool": tool, "error": error, "text": "..."},
    ]


def a_run() -> list[dict[str, Any]]:
    """Two Claude agents: alice claims, edits, is told of a conflict, releases, is refused an edit;
    bob's claim is refused, he resolves the conflict and is stopped by his budget."""
    usage = {"input": 120_000, "output": 8_000}
    return [
        {"type": "run", "id": "r1", "agents": ["alice", "bob"]},
        {"type": "agent", "agent": "alice", "state": "working"},
        {"type": "agent", "agent": "bob", "state": "working"},
        *call("alice", "claim", refs=[f"{STORE}::load", f"{STORE}::find"]),
        *call("bob", "claim", error=True, refs=f"{STORE}::load"),
        {"type": "message", "agent": "alice", "model": "claude-sonnet-4-5", "usage": usage},
        *call("alice", "read", ref=f"{STORE}::load"),
        *call("alice", "edit", ref=f"{STORE}::load", old="a", new="b"),
        *call("alice", "insert_node", container=STORE, text="def find(): ..."),
        {"type": "conflicts", "open": [CONFLICT]},
        *call("alice", "release", refs=f"{STORE}::load"),
        *call("alice", "edit", error=True, ref=f"{STORE}::load", old="zz", new="b"),
        {"type": "message", "agent": "bob", "model": "claude-opus-4-1", "usage": usage},
        *call("bob", "resolve", id=CONFLICT["id"], take="alice"),
        *call("bob", "replace_node", ref=f"{STORE}::Inventory.remove", text="..."),
        {"type": "conflicts", "open": []},
        {"type": "conflicts", "open": [{**CONFLICT, "id": "aaaaaaaaaa"}]},
        {"type": "agent", "agent": "bob", "state": "stopped: over its 30 turns"},
    ]


def board_after(events: list[dict[str, Any]], clock: Clock | None = None) -> RunBoard:
    board = RunBoard({"alice": "claude", "bob": "claude"}, clock=clock or Clock())
    for event in events:
        board.add(event)
    return board


def test_the_board_folds_a_run_into_one_row_per_agent() -> None:
    alice, bob = board_after(a_run()).rows()
    assert (alice.name, alice.kind, alice.state) == ("alice", "claude", "working")
    assert alice.claim == [f"{STORE}::find"]  # (claimed two, released one)
    assert alice.edits == 2  # (the refused edit and the read do not count)
    assert (alice.last, alice.refused) == (f"edit {STORE}::load", True)
    assert alice.tokens == 128_000
    assert alice.cost == pytest.approx(0.36 + 0.12)  # (sonnet: $3 and $15 per million)
    assert bob.state == "stopped: over its 30 turns"
    assert bob.claim == []  # (his claim was refused)
    assert bob.edits == 2  # (resolve and replace_node)
    assert bob.cost == pytest.approx(1.8 + 0.6)  # (an older opus: $15 and $75)


def test_an_agent_that_ends_holds_no_claim() -> None:
    board = board_after(a_run()[:6])
    assert board.rows()[0].claim == [f"{STORE}::load", f"{STORE}::find"]
    board.add({"type": "agent", "agent": "alice", "state": "crashed: ValueError: x"})
    assert board.rows()[0].claim == []


def test_the_board_keeps_the_latest_open_conflicts_and_the_end() -> None:
    clock = Clock()
    board = board_after(a_run(), clock)
    assert [c["id"] for c in board.conflicts()] == ["aaaaaaaaaa"]
    assert board.stage() == "agents at work"
    board.add({"type": "agent", "agent": "alice", "state": "done"})
    assert board.stage() == "the gate: checking"
    clock.now += 2.5
    board.add({"type": "end", "commit": "77906cd2771234", "gate": []})
    clock.now += 60
    assert board.stage() == "committed 77906cd277"
    assert board.elapsed() == pytest.approx(2.5)


def test_an_agent_with_no_model_or_an_unknown_one_has_no_cost() -> None:
    board = board_after([{"type": "message", "agent": "eve", "model": "gpt-9", "usage": {}}])
    assert [(r.name, r.cost) for r in board.rows()] == [
        ("alice", None),
        ("bob", None),
        ("eve", None),
    ]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-opus-4-5", (5.0, 25.0)),
        ("claude-opus-4-5-20251101", (5.0, 25.0)),
        ("claude-opus-4-6", (5.0, 25.0)),
        ("claude-opus-4-1-20250805", (15.0, 75.0)),
        ("claude-opus-4-20250514", (15.0, 75.0)),
        ("claude-3-opus-20240229", (15.0, 75.0)),
        ("claude-sonnet-4-5", (3.0, 15.0)),
        ("claude-3-7-sonnet-latest", (3.0, 15.0)),
        ("claude-haiku-4-5", (1.0, 5.0)),
        ("claude-3-5-haiku-20241022", (0.8, 4.0)),
        ("gpt-4o", None),
    ],
)
def test_prices_by_model_family(model: str, expected: tuple[float, float] | None) -> None:
    assert price(model) == expected


def test_a_tool_call_in_a_few_words() -> None:
    assert short_call("edit", {"ref": f"{STORE}::load", "old": "x"}) == f"edit {STORE}::load"
    assert short_call("claim", {"refs": ["a.py", "b.py"]}) == "claim a.py, b.py"
    assert short_call("status", {}) == "status"
    assert short_call("search", {"pattern": "x" * 100}) == "search " + "x" * 45 + "..."


def rendered(renderable: Any, width: int = 160) -> str:
    console = Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]  # (the StringIO above)
    assert isinstance(text, str)
    return text


def test_the_live_table_shows_each_agent_then_the_open_conflicts() -> None:
    text = rendered(render(board_after(a_run())))
    lines = text.splitlines()
    (alice,) = [line for line in lines if "alice (claude)" in line]
    for cell in ("working", f"{STORE}::find", f"edit {STORE}::load (refused)", "128,000", "$0.48"):
        assert cell in alice
    (bob,) = [line for line in lines if "bob (claude)" in line]
    assert "stopped: over its 30 turns" in bob
    assert "$2.40" in bob
    assert "open conflicts: 1" in text
    assert "aaaaaaaaaa overlap (alice, bob): alice and bob changed the same lines" in text
    assert text.rstrip().endswith("0.0 s, agents at work")


def test_the_live_view_draws_the_board_as_events_come() -> None:
    file = io.StringIO()
    console = Console(file=file, force_terminal=True, width=160, color_system=None)
    with LiveView(console, RunBoard(), refresh_per_second=20) as view:
        for event in a_run():
            view(event)
    assert "bob (claude)" not in file.getvalue()  # (no kinds given: the run's names only)
    assert "│ bob " in file.getvalue()
    assert "stopped: over its 30 turns" in file.getvalue()


def test_the_plain_log_has_no_markup_and_one_line_per_tool_call(
    repo: Path, not_a_terminal: None
) -> None:
    result = CliRunner().invoke(app, ["-C", str(repo), "run", str(PLAN)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    (folder,) = (repo / ".git" / "crdtspace" / "default" / "runs").iterdir()
    calls = [
        json.loads(line)
        for agent in ("alice", "bob", "carol")
        for line in (folder / f"{agent}.jsonl").read_text().splitlines()
        if json.loads(line)["type"] == "tool_call"
    ]
    assert len(calls) == 14
    lines = result.output.splitlines()
    for event in calls:
        assert lines.count(log_line(event)) == 1, log_line(event)
    assert "carol        run_check" in result.output
    assert "gate  ok commit:" in result.output  # (the summary after the run stays)


def test_plain_forces_the_log_on_a_terminal(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # (rich then takes CliRunner's output for one)
    plain = CliRunner().invoke(app, ["-C", str(repo), "run", "--plain", str(PLAN)])
    assert plain.exit_code == 0, plain.output
    assert "alice        claim inventory/store.py::load" in plain.output
    assert "┃" not in plain.output


def test_a_terminal_gets_the_live_table(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    result = CliRunner().invoke(app, ["-C", str(repo), "run", str(PLAN)])
    assert result.exit_code == 0, result.output
    assert "last tool call" in result.output
    assert "carol (script)" in result.output
    assert "committed " in result.output


def test_json_prints_one_event_per_line(repo: Path, not_a_terminal: None) -> None:
    result = CliRunner().invoke(app, ["-C", str(repo), "run", "--json", str(PLAN)])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert events[0]["type"] == "run"
    assert events[-1]["type"] == "end"
    assert all("t" in e for e in events)
    assert sum(e["type"] == "tool_call" for e in events) == 14


def test_agents_script_runs_the_example_offline(repo: Path, not_a_terminal: None) -> None:
    result = CliRunner().invoke(app, ["-C", str(repo), "run", "--agents", "script", str(PLAN)])
    assert result.exit_code == 0, result.output
    assert "carol        done: 4 tool calls" in result.output


def test_an_unknown_agent_mode_is_a_clear_error(repo: Path) -> None:
    result = CliRunner().invoke(app, ["-C", str(repo), "run", "--agents", "nonsense", str(PLAN)])
    assert result.exit_code == 2
    assert "Unknown agent mode 'nonsense': use one of plan, claude, script." in result.output


def test_run_help_names_every_agent_mode() -> None:
    from crdtspace.agents.plan import AGENT_MODES

    shown = " ".join(CliRunner().invoke(app, ["run", "--help"]).output.split())
    assert f"One of {', '.join(AGENT_MODES)}:" in shown
