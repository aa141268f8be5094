"""`crdtspace merge BRANCH...`: merge whole branches with the node model, across files."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crdtspace.cli.common import (
    SERVED,
    CheckOption,
    JsonOption,
    NoCheckOption,
    app,
    context,
    err,
    lock_wait,
    out,
    print_json,
)
from crdtspace.cli.conflicts import analysis_json
from crdtspace.errors import CrdtspaceError

if TYPE_CHECKING:
    from crdtspace.git.branchmerge import MergeReport


@app.command()
def merge(
    ctx: typer.Context,
    branches: Annotated[list[str], typer.Argument(help="The branches to merge into this one.")],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="The merge commit's message.")
    ] = None,
    check: CheckOption = None,
    no_check: NoCheckOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what merging would find; commit nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Merge branches as concurrent agents: every conflict, structural and semantic, across
    files. Exit 0 merged (a merge commit with every branch as a parent), 1 conflicts (nothing
    committed), 2 error."""
    say = (lambda _t: None) if as_json else (lambda text: err.print(f"• {text}", markup=False))
    from crdtspace.git.branchmerge import merge_branches

    try:
        report = merge_branches(
            context(ctx).repo,
            branches,
            message=message,
            check=check,
            run_the_check=not no_check,
            dry_run=dry_run,
            progress=say,
            workspace=None if SERVED.get() is not None else context(ctx).workspace,
            lock_wait=lock_wait(),
        )
        served = SERVED.get()
        if served is not None and report.commit is not None:  # (run by the service)
            report.workspace = served.sync_git()
    except CrdtspaceError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    if as_json:
        print_json(
            {
                "branch": report.branch,
                "branches": report.branches,
                "base": report.base,
                "clean": report.clean,
                "commit": report.commit,
                "files": report.files,
                "workspace": report.workspace.new_base if report.workspace else None,
                "steps": [asdict(step) for step in report.gate.steps],
                **analysis_json(report.analysis),
            }
        )
    else:
        _print(report)
    if not report.clean:
        raise typer.Exit(1)
    if report.commit is None and not dry_run:
        raise typer.Exit(1)


def _print(report: MergeReport) -> None:
    items = [*report.analysis.conflicts, *report.analysis.broken]
    if items:
        table = Table(box=None, pad_edge=False)
        for column in ("id", "kind", "place", "agents", "explanation"):
            table.add_column(column, overflow="fold")
        for item in items:
            places = "\n".join(str(p) for p in item.places) or "-"
            table.add_row(item.id, item.kind, places, ", ".join(item.agents), item.message)
        out.print(table)
        out.print(f"not merged: {len(items)} conflict(s) to resolve", markup=False)
        return
    for step in report.gate.steps:
        mark = "ok  " if step.ok else "FAIL"
        out.print(f"{mark} {step.name:12} {step.detail}", markup=False)
    if report.commit:
        out.print(f"merged {', '.join(report.branches)} into {report.branch}: {report.commit[:10]}")
    else:
        out.print("clean (dry run): nothing committed" if not report.gate.steps else "refused")
