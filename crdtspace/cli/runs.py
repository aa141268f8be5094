"""`crdtspace runs` and `crdtspace runs show ID`: the runs of `crdtspace run` kept in the
workspace (their reports and transcripts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from crdtspace.cli.common import JsonOption, app, context, handled, out, plain_table, print_json
from crdtspace.errors import CrdtspaceError

runs_app = typer.Typer(
    name="runs",
    help="The runs of `crdtspace run`: list them, or show one.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(runs_app, name="runs")


def _folder(ctx: typer.Context) -> Path:
    from crdtspace.live.service import service_state_dir

    options = context(ctx)
    return service_state_dir(options.repo, options.workspace) / "runs"


def _report(folder: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # (a run still going, or one that crashed before its report)
    return value if isinstance(value, dict) else None


@runs_app.callback()
def runs(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the runs, newest first: id, agents and how each ended, the commit."""
    if ctx.invoked_subcommand is not None:
        return
    with handled():
        folder = _folder(ctx)
        found = sorted(folder.iterdir(), reverse=True) if folder.is_dir() else []
    reports = [(run.name, _report(run)) for run in found if run.is_dir()]
    if as_json:
        print_json([{"id": name, **(report or {})} for name, report in reports])
        return
    if not reports:
        out.print("no run yet (`crdtspace run PLAN.toml`)")
        return
    rows = []
    for name, report in reports:
        if report is None:
            rows.append((name, "(no report: running, or stopped before its end)", "-"))
            continue
        agents = ", ".join(f"{a['name']} {a['state'].split(':')[0]}" for a in report["agents"])
        rows.append((name, agents, (report.get("commit") or "not committed")[:10]))
    out.print(plain_table(("run", "agents", "commit"), rows), markup=False)


@runs_app.command()
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run's id (or a unique prefix).")],
    as_json: JsonOption = False,
) -> None:
    """A run's summary: each agent's state, tool calls and files, the gate's steps, and its
    transcripts' folder."""
    with handled():
        folder = _folder(ctx)
        matches = (
            [r for r in folder.iterdir() if r.name.startswith(run_id)] if folder.is_dir() else []
        )
        if len(matches) != 1:
            raise CrdtspaceError(
                f"{'No' if not matches else 'More than one'} run matches {run_id!r}.",
                hint="`crdtspace runs` lists them",
            )
        report = _report(matches[0])
        if report is None:
            raise CrdtspaceError(f"Run {matches[0].name} has no report (it did not end).")
    if as_json:
        print_json(report)
        return
    ended = f"committed {report['commit'][:10]}" if report.get("commit") else "not committed"
    out.print(f"run {report['id']}: {ended}", markup=False)
    for agent in report["agents"]:
        files = ", ".join(agent["files"]) or "no file"
        out.print(
            f"  {agent['name']:12} {agent['state']}: {agent['tool_calls']} tool calls, "
            f"{agent['turns']} turns, {agent['input_tokens'] + agent['output_tokens']} tokens, "
            f"edited {files}",
            markup=False,
        )
    for conflict in report.get("conflicts", []):
        out.print(f"  open conflict {conflict}", markup=False)
    for step in report.get("gate", []):
        out.print(f"  gate {step}", markup=False)
    out.print(f"  transcripts in {report.get('transcripts') or matches[0]}", markup=False)
