"""`Runner`: several agents on one workspace at once, from a plan to one gate commit.

Every agent is a `Session` on the workspace (the tools of `crdtspace.agents.tools`, called in
process) and runs in one asyncio loop: a Claude agent through the anthropic SDK's
`AsyncAnthropic` (the tool loop; prompt caching on the system prompt and the tools; the SDK's
retries with backoff on 429 and 529), a scripted agent from its steps, an external agent (a
command: Claude Code, codex, aider, any program) in a git worktree of its own kept in sync with
the workspace, with the tools over MCP (`crdtspace.agents.external`). Failure detectors: an
agent that spends its budget (turns, tokens, seconds), whose model stops answering, or that
crashes is stopped, its claims released, its edits kept and named in the report; the others go
on. When all are done the gate commits (every agent that edited a co-author) or says why not.
Each run keeps its transcripts under ``.git/crdtspace/<workspace>/runs/<id>/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from crdtspace.agents import external
from crdtspace.agents.mcp import INSTRUCTIONS
from crdtspace.agents.plan import POLL, AgentPlan, Plan
from crdtspace.agents.tools import TOOLS, Session, ToolError
from crdtspace.errors import CrdtspaceError
from crdtspace.model import claims as board
from crdtspace.workspace import Workspace

API_KEY_ENV = "ANTHROPIC_API_KEY"
MAX_TOKENS = 4096
"""Output tokens one model turn may take."""
CALL_TIMEOUT = 120.0
"""Seconds one model call may take before the agent is taken as not answering."""
GATE_WAIT = 10.0
"""Seconds the gate waits for connected replicas (agents over MCP, editors) to catch up with
the run's last edits before it says they are behind."""
SETTLE_MARGIN = 5.0
"""Seconds of its budget an agent keeps when it waits for another to settle a conflict first,
to be asked about what is left."""
RUNS_DIR = "runs"
_VERSION = re.compile(r"\bversion (v[0-9a-f]{16})\b")
_CONFLICT = re.compile(r"^([0-9a-f]{10}) \(", re.M)


class RunError(CrdtspaceError):
    """A run that cannot start (no API key for a Claude agent, a workspace with no folder, an
    external agent on a workspace with no repository)."""


@dataclass
class AgentReport:
    """What one agent did, and how it ended."""

    name: str
    kind: str
    state: str = "waiting"
    """waiting, working, done, or why it was stopped (budget, not answering, crashed)."""
    turns: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    last_tool: str = ""
    files: list[str] = field(default_factory=list)
    """The files it edited."""
    tasks: list[str] = field(default_factory=list)
    """The tasks it worked on: its own, or those it took from the plan's shared list."""


@dataclass
class RunReport:
    """A run: its agents, the gate's steps, the commit (None when the gate refused)."""

    id: str
    agents: list[AgentReport]
    commit: str | None = None
    gate: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    transcripts: str = ""

    @property
    def ok(self) -> bool:
        return self.commit is not None


Event = dict[str, Any]
"""What a run tells as it goes (to `on_event`, and to the transcripts), each with its time
``t``: ``run`` (id, agents), ``agent`` (agent, state), ``tool_call`` (agent, tool, args),
``tool_result`` (agent, tool, error, text), ``process`` (agent, pid, tree: an external
agent's program started), ``message`` (agent, model, content, usage: the
agent's input and output tokens so far), ``asked`` (agent, conflicts), ``conflicts`` (open: the
open conflicts, each id, kind, agents, message, when they change), ``end`` (commit, gate)."""


class Runner:
    """Runs a `Plan` on a workspace (see the module docstring)."""

    def __init__(
        self,
        workspace: Workspace,
        plan: Plan,
        *,
        on_event: Callable[[Event], None] | None = None,
        client: Any = None,
        call_timeout: float = CALL_TIMEOUT,
        state_dir: Path | None = None,
    ) -> None:
        self.workspace = workspace
        self.plan = plan
        self.on_event = on_event or (lambda _event: None)
        self._client = client
        self.call_timeout = call_timeout
        self.id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.reports = {a.name: AgentReport(a.name, a.kind) for a in plan.agents}
        self.folder = self._folder(state_dir)
        self._open: tuple[str, ...] = ()
        self._second: dict[str, str] = {}
        """Conflict id -> the agent whose call made it appear (whose edit came second)."""
        self._deadlines: dict[str, float] = {}
        self._settled = {a.name: asyncio.Event() for a in plan.agents}
        """Set once an agent has been asked about the conflicts where it edited second (or
        has ended): the first editors of those wait for it before they are asked."""
        lock = getattr(workspace, "lock", None)
        self.lock: Any = lock if lock is not None else threading.RLock()
        """Held for every use of the workspace while agents run: the watchers of external
        agents touch it from their own threads."""

    def _folder(self, state_dir: Path | None) -> Path | None:
        """Where the run's transcripts go: `state_dir` (the workspace's folder), else the
        durable workspace's own; none for an in-memory one."""
        log = getattr(self.workspace, "_log", None)
        if state_dir is None:
            if log is None:
                return None
            state_dir = Path(log.path.parent)
        folder = state_dir / RUNS_DIR / self.id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- the run -------------------------------------------------------------------------

    def run(self) -> RunReport:
        """Run every agent to its end, then the gate."""
        return asyncio.run(self.run_async())

    async def run_async(self) -> RunReport:
        owned = any(a.kind == "claude" for a in self.plan.agents) and self._client is None
        if any(a.command is not None for a in self.plan.agents) and self.workspace.root is None:
            raise RunError("External agents need a workspace with a repository to work in.")
        if owned:
            self._client = _anthropic_client()
        self._event({"type": "run", "id": self.id, "agents": [a.name for a in self.plan.agents]})
        try:
            await asyncio.gather(*(self._agent(a) for a in self.plan.agents))
        finally:
            if owned:
                await self._client.close()  # (its connections, a timed-out one too)
        return self._finish()

    async def _agent(self, plan: AgentPlan) -> None:
        report = self.reports[plan.name]
        report.state = "working"
        self._deadlines[plan.name] = asyncio.get_running_loop().time() + plan.budget.seconds
        session = Session(self.workspace, plan.name, check=self.plan.check)
        self._event({"type": "agent", "agent": plan.name, "state": "working"})
        try:
            wants_task = plan.command is None or bool(self.plan.tasks)  # (a command may not)
            if plan.script is None and not plan.task.strip() and wants_task:
                task = self._take_task(plan.name)
                if task is None:
                    report.state = "done: no task left"
                    return
                plan = replace(plan, task=task)
            elif plan.task.strip():
                report.tasks.append(plan.task)
            if plan.command is not None:
                work = external.run_command(self, plan, session)
            elif plan.script is not None:
                work = self._script(plan, session)
            else:
                work = self._claude(plan, session)
            await asyncio.wait_for(work, timeout=plan.budget.seconds)
            if report.state == "working":
                report.state = "done"
        except TimeoutError:
            report.state = f"stopped: over its {plan.budget.seconds:g} s"
        except _Stopped as stop:
            report.state = f"stopped: {stop}"
        except Exception as error:  # an agent's crash must not end the others
            report.state = f"crashed: {type(error).__name__}: {error}"
        finally:
            self._settled[plan.name].set()
            self._release(plan.name)
            with self.lock:
                changed = self.workspace.changed_files()
            report.files = sorted(path for path, agents in changed.items() if plan.name in agents)
            self._event({"type": "agent", "agent": plan.name, "state": report.state})

    def _take_task(self, agent: str) -> str | None:
        """The next task of the plan's shared list no agent has taken, taken for `agent` (in
        the document: two agents never take the same one); None when none is left."""
        for index, task in enumerate(self.plan.tasks):
            with self.lock:
                key = f"{self.id}/{index}"
                taken = board.take_task(self.workspace, key, agent=agent, task=task)
            if taken:
                self.reports[agent].tasks.append(task)
                self._event({"type": "task", "agent": agent, "task": task})
                return task
        return None

    def _release(self, agent: str) -> None:
        """An agent's claims, withdrawn when it ends (however it ends)."""
        with self.lock:
            for claim in board.in_document(self.workspace):
                if claim.agent == agent:
                    ref = f"{claim.path}::{claim.node}" if claim.node else claim.path
                    with contextlib.suppress(CrdtspaceError):
                        board.drop(self.workspace, ref, agent=agent)

    def _call(
        self, plan: AgentPlan, session: Session, tool: str, args: dict[str, Any]
    ) -> tuple[str, bool]:
        """One tool call: its text and whether it is an error (told to the agent, not raised)."""
        self._calling(plan.name, tool, args)
        text, error = self._run_tool(session, tool, args)
        self._called(plan.name, tool, text, error)
        return text, error

    async def _poll(
        self, plan: AgentPlan, session: Session, tool: str, args: dict[str, Any], until: str
    ) -> str:
        """A scripted call made again every `POLL` seconds until its result holds `until` (or
        is an error): one call in the report and the events, with the last result."""
        self._calling(plan.name, tool, args)
        text, error = self._run_tool(session, tool, args)
        while not error and until not in text:
            await asyncio.sleep(POLL)
            text, error = self._run_tool(session, tool, args)
        self._called(plan.name, tool, text, error)
        return text

    def _calling(self, agent: str, tool: str, args: dict[str, Any]) -> None:
        report = self.reports[agent]
        report.tool_calls += 1
        report.last_tool = tool
        self._event({"type": "tool_call", "agent": agent, "tool": tool, "args": args})

    def _run_tool(self, session: Session, tool: str, args: dict[str, Any]) -> tuple[str, bool]:
        try:
            with self.lock:
                return session.call(tool, args), False
        except ToolError as failure:
            return failure.message, True

    def _called(self, agent: str, tool: str, text: str, error: bool) -> None:
        self.reports[agent].tool_errors += error
        self._event(
            {"type": "tool_result", "agent": agent, "tool": tool, "error": error, "text": text}
        )
        self._conflicts_changed(agent)

    def _conflicts(self) -> list[Any]:
        """The open conflicts, read under the lock."""
        with self.lock:
            return list(self.workspace.conflicts())

    def _conflicts_changed(self, agent: str) -> None:
        """A ``conflicts`` event when the open conflicts are not the ones last told; a new one
        is noted as made by `agent`'s call (its edit came second)."""
        found = self._conflicts()
        ids = tuple(sorted(c.id for c in found))
        if ids == self._open:
            return
        for conflict in found:
            if conflict.id not in self._open and agent in conflict.agents:
                self._second.setdefault(conflict.id, agent)
        self._open = ids
        listed = [
            {"id": c.id, "kind": c.kind, "agents": list(c.agents), "message": c.message}
            for c in found
        ]
        self._event({"type": "conflicts", "open": listed})

    async def _script(self, plan: AgentPlan, session: Session) -> None:
        seen = {"version": "", "conflict": ""}
        for step in plan.script or ():
            self._turn(plan)
            if step.wait:
                await asyncio.sleep(step.wait)
            args = {k: _fill(v, seen) for k, v in step.args.items()}
            if step.until:
                text = await self._poll(plan, session, step.tool, args, step.until)
            else:
                text, _ = self._call(plan, session, step.tool, args)
            for key, pattern in (("version", _VERSION), ("conflict", _CONFLICT)):
                found = pattern.search(text)
                seen[key] = found.group(1) if found else seen[key]
            await asyncio.sleep(0)  # (the other agents' turn)

    async def _claude(self, plan: AgentPlan, session: Session) -> None:
        report = self.reports[plan.name]
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.schema}
            for t in TOOLS.values()
        ]
        tools[-1] = {**tools[-1], "cache_control": {"type": "ephemeral"}}
        system = [
            {
                "type": "text",
                "text": f"You are {plan.name}. {INSTRUCTIONS}"
                + (f"\n\n{plan.system}" if plan.system else ""),
                "cache_control": {"type": "ephemeral"},
            }
        ]
        messages: list[dict[str, Any]] = [{"role": "user", "content": plan.task}]
        asked: set[str] = set()
        while True:
            self._turn(plan)
            try:
                response = await asyncio.wait_for(
                    self._client.messages.create(
                        model=plan.model,
                        max_tokens=MAX_TOKENS,
                        system=system,
                        tools=tools,
                        messages=messages,
                    ),
                    timeout=self.call_timeout,
                )
            except TimeoutError:
                raise _Stopped(f"its model did not answer within {self.call_timeout:g} s") from None
            usage = response.usage
            report.input_tokens += int(getattr(usage, "input_tokens", 0) or 0)
            report.output_tokens += int(getattr(usage, "output_tokens", 0) or 0)
            content = [block.model_dump(exclude_none=True) for block in response.content]
            messages.append({"role": "assistant", "content": content})
            self._event(
                {
                    "type": "message",
                    "agent": plan.name,
                    "model": plan.model,
                    "content": content,
                    "usage": {"input": report.input_tokens, "output": report.output_tokens},
                }
            )
            if report.input_tokens + report.output_tokens > plan.budget.tokens:
                raise _Stopped(f"over its {plan.budget.tokens} tokens")
            calls = [b for b in response.content if getattr(b, "type", "") == "tool_use"]
            if response.stop_reason != "tool_use" or not calls:
                pending = await self._to_settle(plan.name, asked)
                if pending:
                    asked.update(c.id for c in pending)  # (asked once: then left open)
                    self._event(
                        {"type": "asked", "agent": plan.name, "conflicts": [c.id for c in pending]}
                    )
                    messages.append({"role": "user", "content": _ASK + _listed(pending)})
                    continue
                task = self._take_task(plan.name)
                if task is None:
                    return
                messages = [{"role": "user", "content": task}]  # (a new conversation)
                asked.clear()
                continue
            results = []
            for call in calls:
                text, error = self._call(plan, session, call.name, dict(call.input or {}))
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": call.id,
                        "content": text,
                        "is_error": error,
                    }
                )
                await asyncio.sleep(0)
            messages.append({"role": "user", "content": results})

    async def _to_settle(self, agent: str, asked: set[str]) -> list[Any]:
        """The open conflicts on `agent`'s edits to ask it about before it stops: first those
        where its edit came second; then, once every other agent has been asked about those
        where its own edit came second (or has ended), the ones they left open and any new
        ones. An agent waiting for the others is ``idle``; it waits at most until
        `SETTLE_MARGIN` seconds before its budget ends, then stops with nothing asked (what is
        open is reported)."""

        def pending() -> list[Any]:
            found = self._conflicts()
            return [c for c in found if agent in c.agents and c.id not in asked]

        second = [c for c in pending() if self._second.get(c.id, agent) == agent]
        if second:
            return second
        self._settled[agent].set()
        others = [e for name, e in self._settled.items() if name != agent and not e.is_set()]
        if others:
            report = self.reports[agent]
            report.state = "idle"
            self._event({"type": "agent", "agent": agent, "state": "idle"})
            loop = asyncio.get_running_loop()
            left = self._deadlines.get(agent, math.inf) - loop.time() - SETTLE_MARGIN
            try:
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in others)), max(0.0, left))
            except TimeoutError:
                return []
            finally:
                report.state = "working"
        return pending()

    def _turn(self, plan: AgentPlan) -> None:
        report = self.reports[plan.name]
        if report.turns >= plan.budget.turns:
            raise _Stopped(f"over its {plan.budget.turns} turns")
        report.turns += 1

    # -- the end ---------------------------------------------------------------------------

    def _finish(self) -> RunReport:
        report = RunReport(self.id, list(self.reports.values()))
        report.conflicts = [f"{c.id} {c.kind}: {c.message}" for c in self._conflicts()]
        edited = any(r.files for r in report.agents)
        if edited and self.workspace.root is not None:
            gate = self.workspace.commit(self.plan.message, check=self.plan.check, wait=GATE_WAIT)
            report.commit = gate.commit
            report.gate = [f"{'ok' if s.ok else 'FAIL'} {s.name}: {s.detail}" for s in gate.steps]
        elif not edited:
            report.gate = ["nothing to commit: no agent edited"]
        if self.folder is not None:
            report.transcripts = str(self.folder)
            (self.folder / "report.json").write_text(json.dumps(asdict(report), indent=2))
        self._event({"type": "end", "commit": report.commit, "gate": report.gate})
        return report

    def _event(self, event: Event) -> None:
        event = {"t": round(time.time(), 3), **event}
        if self.folder is not None:
            name = str(event.get("agent") or "run")
            with open(self.folder / f"{name}.jsonl", "a", encoding="utf-8") as out:
                out.write(json.dumps(event, default=str) + "\n")
        self.on_event(event)


_ASK = (
    "Before you stop: these conflicts involve your edits. Look at both sides (the conflicts "
    "tool), agree with the other agent's change where you can, and resolve them (the resolve "
    "tool: take a side, or give the merged text). Leave one open only if you cannot decide; "
    "it is then reported, never picked silently.\n"
)


def _listed(conflicts: list[Any]) -> str:
    return "\n".join(f"- {c.id} ({c.kind}) {c.message}" for c in conflicts)


class _Stopped(Exception):
    """An agent stopped by a failure detector (its budget, a model not answering)."""


def _fill(value: Any, seen: dict[str, str]) -> Any:
    """A script's argument with ``{version}`` and ``{conflict}`` replaced by the last ones its
    agent's results named."""
    if isinstance(value, str):
        for key, found in seen.items():
            value = value.replace("{" + key + "}", found)
        return value
    if isinstance(value, list):
        return [_fill(v, seen) for v in value]
    return value


def _anthropic_client() -> Any:
    if not os.environ.get(API_KEY_ENV):
        raise RunError(
            f"Claude agents need an API key: set ${API_KEY_ENV}.",
            hint="or give every agent a script to run offline",
        )
    from anthropic import AsyncAnthropic

    return AsyncAnthropic(max_retries=4)  # (429 and 529 are retried with backoff)
