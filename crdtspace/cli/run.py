"""`crdtspace run PLAN.toml`: several agents on the workspace at once, then one gate commit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from crdtspace.cli.common import JsonOption, app, context, handled, joined_or_opened, out
from crdtspace.live.service import service_state_dir


@app.command()
def run(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="The plan (TOML): agents, tasks, check.")],
    as_json: JsonOption = False,
) -> None:
    """Run a plan's agents at once on the workspace (Claude agents need $ANTHROPIC_API_KEY;
    scripted ones run offline), then commit through the gate. Exit 0 committed, 1 not."""
    from crdtspace.agents.plan import load_plan
    from crdtspace.agents.runner import Runner

    def show(event: dict[str, Any]) -> None:
        if as_json:
            sys.stdout.write(json.dumps(event, default=str) + "\n")
            sys.stdout.flush()
        else:
            line = _line(event)
            if line:
                out.print(line, markup=False)

    with handled():
        plan = load_plan(plan_file)
        options = context(ctx)
        state_dir = service_state_dir(options.repo, options.workspace)
        with joined_or_opened(ctx, "run") as workspace:
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


def _line(event: dict[str, Any]) -> str:
    kind = event.get("type")
    if kind == "tool_call":
        return f"{event['agent']:12} {event['tool']}"
    if kind == "tool_result" and event.get("error"):
        return f"{event['agent']:12}   refused: {event['text']}"
    if kind == "tool_result" and "conflict" in str(event.get("text", "")).lower():
        first = str(event["text"]).splitlines()
        notes = [line for line in first if "conflict" in line.lower()][:2]
        return "\n".join(f"{event['agent']:12}   {line}" for line in notes)
    if kind == "agent" and event.get("state") != "working":
        return f"{event['agent']:12} {event['state']}"
    return ""
