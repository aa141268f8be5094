"""`crdtspace run PLAN.toml`: several agents on the workspace at once, then one gate commit."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer

from crdtspace.cli.common import JsonOption, app, context, handled, open_workspace, out
from crdtspace.workspace import Workspace


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
        with _workspace(ctx) as workspace:
            report = Runner(workspace, plan, on_event=show, state_dir=_state_dir(ctx)).run()
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


def _workspace(ctx: typer.Context) -> AbstractContextManager[Workspace]:
    """The workspace service's, joined as a networked replica when one runs (the other agents
    and the terminal keep working meanwhile); else the workspace opened here."""
    from crdtspace.live.service import find_service

    options = context(ctx)
    service = find_service(options.repo, options.workspace)
    if service is None:
        return open_workspace(ctx)
    return Workspace.connect(
        service.url, service.token, agent="run", root=options.repo, workspace=service.workspace
    )


def _state_dir(ctx: typer.Context) -> Path:
    from crdtspace.git import gitio

    options = context(ctx)
    repo = gitio.open_repo(options.repo)
    try:
        return gitio.state_dir(repo, options.workspace)
    finally:
        repo.close()
