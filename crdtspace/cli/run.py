"""`crdtspace run PLAN.toml`: several agents on the workspace at once, then one gate commit."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crdtspace.cli.common import JsonOption, app, context, handled, joined_or_opened, out
from crdtspace.live.service import service_state_dir

if TYPE_CHECKING:
    from crdtspace.workspace import Workspace


@app.command()
def run(
    ctx: typer.Context,
    plan_file: Annotated[
        Path | None, typer.Argument(help="The plan (TOML): agents, tasks, check.")
    ] = None,
    agents: Annotated[
        str,
        typer.Option(
            "--agents",
            help="One of plan, claude, script: agents with both a task and a script run "
            "as the plan says, all on their task (Claude), or all on their script (offline).",
        ),
    ] = "plan",
    plain: Annotated[
        bool, typer.Option("--plain", help="A plain log, one line per event, even on a terminal.")
    ] = False,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Run the example plan (examples/run) in a new copy of the example repository.",
        ),
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Run as the home replica behind this server (a Hocuspocus node, "
            "hocuspocus+ws://, or any y-websocket server) instead of the workspace's service.",
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="CRDTSPACE_TOKEN", help="--url's token.")
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="With --example: make the copy in this (new or empty) folder."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a plan's agents at once on the workspace (Claude agents need $ANTHROPIC_API_KEY;
    scripted ones run offline), then commit through the gate. Exit 0 committed, 1 not.

    On a terminal a live table shows each agent (state, claim, last tool call, edits, tokens,
    cost) and the open conflicts; elsewhere, or with --plain, a plain log."""
    from crdtspace.agents.plan import load_plan
    from crdtspace.agents.runner import Runner
    from crdtspace.workspace import Workspace

    if (plan_file is None) == (not example):
        raise typer.BadParameter("give a plan, or --example (not both)", param_hint="PLAN_FILE")
    if keep is not None and not example:
        raise typer.BadParameter("only with --example", param_hint="--keep")
    if url is not None and example:
        raise typer.BadParameter("not with --example", param_hint="--url")
    with handled(secrets=(token,)), _example_folder(example, keep) as folder:
        if folder is not None:
            from crdtspace.example import example_plan, make_example

            repo, plan_file = make_example(folder), example_plan()
            opened: AbstractContextManager[Workspace] = Workspace.open(repo, agent="runner")
            state_dir = service_state_dir(repo, "default")
            if not as_json:
                out.print(f"the example repository: {repo}", markup=False)
        else:
            options = context(ctx)
            opened = (
                joined_or_opened(ctx, "run")
                if url is None
                else Workspace.connect(
                    url, token or "", agent="runner", home=options.repo, workspace=options.workspace
                )
            )
            state_dir = service_state_dir(options.repo, options.workspace)
        assert plan_file is not None
        plan = load_plan(plan_file, agents=agents)
        show, view = _view({a.name: a.kind for a in plan.agents}, as_json=as_json, plain=plain)
        with opened as workspace, view:
            report = Runner(workspace, plan, on_event=show, state_dir=state_dir).run()
        last = ""
        if folder is not None and report.ok and not as_json:
            last = subprocess.run(
                ["git", "-C", str(repo), "log", "-1", "--stat", "--format=%h %s%n%n%b"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.rstrip()
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
            gone = " (removed with it: --keep DIR keeps them)" if example and keep is None else ""
            out.print(f"transcripts in {report.transcripts}{gone}", markup=False)
        if last:
            out.print(f"\n$ git log -1 --stat\n{last}", markup=False)
    if not report.ok:
        if not as_json:
            out.print("not committed: see `crdtspace conflicts`, then `crdtspace commit`")
        raise typer.Exit(1)


@contextmanager
def _example_folder(example: bool, keep: Path | None) -> Iterator[Path | None]:
    """Where --example makes its repository: --keep's folder (kept), else a temporary one;
    None without --example."""
    if not example:
        yield None
        return
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="crdtspace-example-") as scratch:
            yield Path(scratch)
        return
    keep = keep.absolute()
    if keep.exists() and any(keep.iterdir()):
        raise typer.BadParameter(f"{keep} is not empty", param_hint="--keep")
    keep.mkdir(parents=True, exist_ok=True)
    yield keep


def _view(
    kinds: dict[str, str], *, as_json: bool, plain: bool
) -> tuple[Callable[[dict[str, Any]], None], AbstractContextManager[Any]]:
    """Where the events go: JSON lines, the live table on a terminal, else the plain log."""
    from crdtspace.cli.runview import JsonLines, LiveView, PlainLog, RunBoard

    if as_json:
        return JsonLines(lambda: sys.stdout), nullcontext()
    if out.is_terminal and not plain:
        live = LiveView(out, RunBoard(kinds))
        return live, live
    return PlainLog(lambda line: out.print(line, markup=False)), nullcontext()
