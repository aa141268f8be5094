"""`crdtspace conflicts`: where concurrent edits do not fit together."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from crdtspace.cli.common import JsonOption, app, handled, open_workspace, out, print_json
from crdtspace.conflicts import Analysis, Conflict


@app.command()
def conflicts(
    ctx: typer.Context,
    as_json: JsonOption = False,
    notices: Annotated[
        bool, typer.Option("--notices", help="Also list cleanly merged concurrent edits.")
    ] = False,
) -> None:
    """Open conflicts and single-side breakage: kind, place, agents, explanation.

    Exits with 1 when there is a conflict or broken code (so scripts and hooks can gate on it),
    0 otherwise."""
    with handled(), open_workspace(ctx) as workspace:
        analysis = workspace.analysis()
    shown = [*analysis.conflicts, *analysis.broken, *(analysis.notices if notices else ())]
    if as_json:
        print_json(analysis_json(analysis))
    elif not shown:
        out.print("no conflicts")
    else:
        out.print(_table(shown))
    if analysis.conflicts or analysis.broken:
        raise typer.Exit(1)


def _table(items: list[Conflict]) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("id", "kind", "place", "agents", "explanation"):
        table.add_column(column, overflow="fold")
    for item in items:
        kind = item.kind if item.severity == "certain" else f"{item.kind} (possible)"
        places = "\n".join(str(p) for p in item.places) or "-"
        table.add_row(item.id, kind, places, ", ".join(item.agents), item.message)
    return table


def analysis_json(analysis: Analysis) -> dict[str, object]:
    def one(item: Conflict) -> dict[str, object]:
        value = asdict(item)
        value["places"] = [asdict(p) for p in item.places]
        value["sides"] = [asdict(s) for s in item.sides]
        return value

    return {
        "conflicts": [one(c) for c in analysis.conflicts],
        "broken": [one(c) for c in analysis.broken],
        "notices": [one(c) for c in analysis.notices],
    }
