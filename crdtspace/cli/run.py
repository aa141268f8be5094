"""`crdtspace run PLAN.toml`: several agents on the workspace at once, then one gate commit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from crdtspace.agents.plan import AGENT_MODES
from crdtspace.cli.common import JsonOption, app, context, handled, joined_or_opened, out
from crdtspace.cli.runview import JsonLines, LiveView, PlainLog, RunBoard
from crdtspace.live.service import service_state_dir


@app.command()
def run(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="The plan (TOML): agents, tasks, check.")],
    agents: Annotated[
        str,
        typer.Option(
            "--agents",
            help=f"One of {', '.join(AGENT_MODES)}: agents with both a task and a script run "
            "as the plan says, all on their task (Claude), or all on their script (offline).",
        ),
    ] = "plan",
    plain: Annotated[
        bool, typer.Option("--plain", help="A plain log, one line per event, even on a terminal.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a plan's agents at once on the workspace (Claude agents need $ANTHROPIC_API_KEY;
    scripted ones run offline), then commit through the gate. Exit 0 committed, 1 not.

    On a terminal a live table shows each agent (state, claim, last tool call, edits, tokens,
    cost) and the open conflicts; elsewhere, or with --plain, a plain log."""
    from crdtspace.agents.plan import load_plan
    from crdtspace.agents.runner import Runner

    with handled():
        plan = load_plan(plan_file, agents=agents)
        options = context(ctx)
        state_dir = service_state_dir(options.repo, options.workspace)
        show, view = _view({a.name: a.kind for a in plan.agents}, as_json=as_json, plain=plain)
        with joined_or_opened(ctx, "run") as workspace, view:
            report = Runner(workspace, plan, on_event=show, state_dir=state_dir).run()
    if not as_json:
        for agent in report.agents:
            files = ", ".join(agent.files) or "no file"
            out.print(
                f"{agent.name:12} {agent.state}: {agent.tool_calls} tool calls "
                f"({agent.tool_errors} refused), {agent.turns} turns, edited {files}",
                markup=False,
            )
        for conflict in report.conflicts:
            out.print(f"open conflict {conflict}", markup=False)
        for step in report.gate:
            out.print(f"gate  {step}", markup=False)
        if report.transcripts:
            out.print(f"transcripts in {report.transcripts}", markup=False)
    if not report.ok:
        if not as_json:
            out.print("not committed: see `crdtspace conflicts`, then `crdtspace commit`")
        raise typer.Exit(1)


def _view(
    kinds: dict[str, str], *, as_json: bool, plain: bool
) -> tuple[Callable[[dict[str, Any]], None], AbstractContextManager[Any]]:
    """Where the events go: JSON lines, the live table on a terminal, else the plain log."""
    if as_json:
        return JsonLines(lambda: sys.stdout), nullcontext()
    if out.is_terminal and not plain:
        live = LiveView(out, RunBoard(kinds))
        return live, live
    return PlainLog(lambda line: out.print(line, markup=False)), nullcontext()
