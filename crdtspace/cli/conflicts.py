"""`crdtspace conflicts`: where concurrent edits do not fit together."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from crdtspace.cli.common import JsonOption, app, handled, open_workspace, out, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from crdtspace.conflicts.findings import Analysis, Conflict
    from crdtspace.workspace import Workspace


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
        texts = {c.id: overlap_texts(workspace, c) for c in analysis.conflicts}
    shown = [*analysis.conflicts, *analysis.broken, *(analysis.notices if notices else ())]
    if as_json:
        print_json(analysis_json(analysis, texts))
    elif not shown:
        out.print("no conflicts")
    else:
        out.print(_table(shown))
    if analysis.conflicts or analysis.broken:
        raise typer.Exit(1)


def _table(items: list[Conflict]) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("id", "kind", "place", "agents", "explanation"):
        table.add_column(column, overflow="fold")
    for item in items:
        kind = item.kind if item.severity == "certain" else f"{item.kind} (possible)"
        places = "\n".join(str(p) for p in item.places) or "-"
        table.add_row(item.id, kind, places, ", ".join(item.agents), item.message)
    return table


def overlap_texts(workspace: Workspace, conflict: Conflict) -> dict[str, object] | None:
    """An overlap's base and each side's text of its node (None for other kinds)."""
    from crdtspace.model.history import render_texts

    if conflict.kind != "overlap" or not conflict.places:
        return None
    found = workspace.overlap_sides(conflict.places[0].key)
    if found is None:
        return None
    return {
        "base": render_texts(found.base),
        "sides": [{"agent": agent, "text": render_texts(texts)} for agent, texts in found.sides],
    }


def analysis_json(
    analysis: Analysis, texts: dict[str, dict[str, object] | None] | None = None
) -> dict[str, object]:
    """The analysis as JSON; `texts`: per conflict id, the base and sides of an overlap."""

    def one(item: Conflict) -> dict[str, object]:
        value = asdict(item)
        value["places"] = [asdict(p) for p in item.places]
        value["sides"] = [asdict(s) for s in item.sides]
        found = (texts or {}).get(item.id)
        if found is not None:
            value["base_text"] = found["base"]
            value["side_texts"] = found["sides"]
        return value

    return {
        "conflicts": [one(c) for c in analysis.conflicts],
        "broken": [one(c) for c in analysis.broken],
        "notices": [one(c) for c in analysis.notices],
    }
