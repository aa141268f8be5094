"""A run's plan: the agents, their tasks and budgets, the check, read from a TOML file.

    check = "python -m pytest -q"          # the project's check (default: pyproject's)
    message = "Inventory: search and tests" # the gate commit's message

    [[agent]]
    name = "alice"
    task = "Add a search function to inventory/store.py."
    # model = "...", system = "...", turns = 30, tokens = 200000, seconds = 600

    [[agent]]
    name = "bob"
    script = "tasks/bob.toml"               # a scripted agent: tool calls, no model

    [[agent]]
    name = "carol"
    command = "claude -p {task}"            # an external program, in a worktree of its own
    task = "Add tests for search."          # (mcp = false: it does not speak MCP)

    tasks = ["Document search.", "..."]     # a shared list: agents with no task of their own
                                            # take the next one not taken (claimed in the
                                            # document, so never by two agents)

An agent with both a task and a script runs its script unless the run is asked for Claude
agents (`load_plan(path, agents="claude")`, ``crdtspace run --agents claude``), which runs
every agent that is not a command on its task; ``agents="script"`` refuses an agent that would
need a model (offline runs).
A script is a list of steps, ``[[step]] tool = "read"  args = { ref = "..." }  wait = 0.1``
(and ``until = "TEXT"``: call again until the result holds TEXT); the text ``{version}`` in an
argument is the version the agent's last result named (a read or an edit gives one), and
``{conflict}`` the last conflict id. Every agent gets the same tools (`crdtspace.agents.tools`),
an external one over MCP; its command's placeholders (``{task}``, ``{agent}``,
``{mcp_config}``, ``{mcp_url}``) are `crdtspace.agents.external`'s.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crdtspace.errors import CrdtspaceError

DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_TURNS = 30
DEFAULT_TOKENS = 200_000
DEFAULT_SECONDS = 600.0


class PlanError(CrdtspaceError):
    """A plan or a script that cannot be run as written."""

    exit_code = 2


@dataclass(frozen=True)
class Budget:
    """What one agent may spend before it is stopped."""

    turns: int = DEFAULT_TURNS
    tokens: int = DEFAULT_TOKENS
    seconds: float = DEFAULT_SECONDS


@dataclass(frozen=True)
class Step:
    """One tool call of a scripted agent, after `wait` seconds; with `until`, the call is
    made again (every `POLL` seconds, within the agent's budget) until its result holds that
    text (a script waiting for another agent's edit or conflict)."""

    tool: str
    args: dict[str, Any]
    wait: float = 0.0
    until: str = ""


POLL = 0.05
"""Seconds between the calls of a step that waits `until` its result says something."""


@dataclass(frozen=True)
class AgentPlan:
    """One agent: a Claude model with a task, a script of tool calls, or an external program
    (a command) in a worktree of its own."""

    name: str
    task: str = ""
    model: str = DEFAULT_MODEL
    system: str = ""
    script: tuple[Step, ...] | None = None
    budget: Budget = field(default_factory=Budget)
    command: str | None = None
    """An external program run in a worktree of its own (`crdtspace.agents.external`)."""
    mcp: bool = True
    """Whether the external program speaks MCP (it is then given the workspace's tools)."""

    @property
    def kind(self) -> str:
        if self.command is not None:
            return "command"
        return "script" if self.script is not None else "claude"


@dataclass(frozen=True)
class Plan:
    """What `crdtspace run` does."""

    agents: tuple[AgentPlan, ...]
    check: str | None = None
    message: str = "Work of several agents (crdtspace run)"
    tasks: tuple[str, ...] = ()
    """The shared task list: an agent with no task of its own takes the next one not taken."""


AGENT_MODES = ("plan", "claude", "script")
"""How `load_plan` runs an agent that has both a task and a script (see the module)."""


def load_plan(path: Path | str, *, agents: str = "plan") -> Plan:
    """The plan in the TOML file at `path` (scripts named relative to it); `agents` is one of
    `AGENT_MODES`."""
    if agents not in AGENT_MODES:
        raise PlanError(f"Unknown agent mode {agents!r}: use one of {', '.join(AGENT_MODES)}.")
    path = Path(path)
    data = _toml(path)
    tasks = data.get("tasks", [])
    if not isinstance(tasks, list) or not all(isinstance(t, str) and t.strip() for t in tasks):
        raise PlanError(f"{path}: tasks must be a list of non-empty strings.")
    entries = data.get("agent")
    if not isinstance(entries, list) or not entries:
        raise PlanError(f"{path} names no agent.", hint="add an [[agent]] with a name and a task")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise PlanError(f"{path}: [defaults] must be a table.")
    made: list[AgentPlan] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise PlanError(f"{path}: agent {index + 1} is not a table.")
        made.append(_agent(path, {**defaults, **entry}, index, agents, bool(tasks)))
    names = [a.name for a in made]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PlanError(f"{path}: the agent name {twice[0]!r} is used twice.")
    check = data.get("check")
    message = data.get("message", Plan.message)
    if check is not None and not isinstance(check, str):
        raise PlanError(f"{path}: check must be a command line (a string).")
    if not isinstance(message, str) or not message.strip():
        raise PlanError(f"{path}: message must be a non-empty string.")
    return Plan(tuple(made), check, message, tuple(tasks))


def _agent(path: Path, entry: dict[str, Any], index: int, mode: str, shared: bool) -> AgentPlan:
    name = entry.get("name") or f"agent-{index + 1}"
    if not isinstance(name, str) or not name.strip():
        raise PlanError(f"{path}: agent {index + 1} has no name.")
    budget = Budget(
        turns=_number(path, name, entry, "turns", DEFAULT_TURNS, int),
        tokens=_number(path, name, entry, "tokens", DEFAULT_TOKENS, int),
        seconds=_number(path, name, entry, "seconds", DEFAULT_SECONDS, float),
    )
    script, command = entry.get("script"), entry.get("command")
    task = entry.get("task", "")
    has_task = isinstance(task, str) and bool(task.strip())
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise PlanError(f"{path}: agent {name!r}: command must be a command line (a string).")
    if mode == "claude" and command is None:
        script = None
    if mode == "script" and script is None and command is None:
        raise PlanError(f"{path}: agent {name!r} has no script to run offline.")
    if script is None and command is None and not has_task and not shared:
        raise PlanError(f"{path}: agent {name!r} has neither a task nor a script.")
    if command is not None and script is not None:
        raise PlanError(f"{path}: agent {name!r} has both a script and a command: pick one.")
    steps = None if script is None else load_script(path.parent / str(script))
    mcp = entry.get("mcp", True)
    if not isinstance(mcp, bool):
        raise PlanError(f"{path}: agent {name!r}: mcp must be true or false.")
    return AgentPlan(
        name=name,
        task=str(task),
        model=str(entry.get("model", DEFAULT_MODEL)),
        system=str(entry.get("system", "")),
        script=steps,
        budget=budget,
        command=command,
        mcp=mcp,
    )


def _number(
    path: Path, name: str, entry: dict[str, Any], key: str, default: Any, kind: type
) -> Any:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise PlanError(f"{path}: agent {name!r}: {key} must be a positive number.")
    return kind(value)


def load_script(path: Path) -> tuple[Step, ...]:
    """A scripted agent's steps."""
    data = _toml(path)
    steps = data.get("step")
    if not isinstance(steps, list) or not steps:
        raise PlanError(f"{path} has no [[step]].")
    out = []
    for index, step in enumerate(steps):
        tool, args, wait = step.get("tool"), step.get("args", {}), step.get("wait", 0.0)
        until = step.get("until", "")
        if not isinstance(tool, str) or not isinstance(args, dict):
            raise PlanError(f"{path}: step {index + 1} needs a tool (a name) and args (a table).")
        if not isinstance(until, str):
            raise PlanError(f"{path}: step {index + 1}: until must be a text.")
        if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
            raise PlanError(f"{path}: step {index + 1}: wait must be seconds (0 or more).")
        out.append(Step(tool, dict(args), float(wait), until))
    return tuple(out)


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"There is no file {str(path)!r}.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(f"{path} cannot be read: {error}.") from None
    except tomllib.TOMLDecodeError as error:
        raise PlanError(f"{path} is not valid TOML: {error}.") from None
