"""`crdtspace log PATH[::NODE]`: the edit log of a node or of every node of a file."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crdtspace.cli.common import (
    JsonOption,
    app,
    handled,
    open_workspace,
    out,
    print_json,
    split_ref,
)


@app.command()
def log(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="PATH or PATH::NODE (a key or qualified name).")],
    as_json: JsonOption = False,
) -> None:
    """Who edited what, with the entries each edit had seen (its parents)."""
    with handled(), open_workspace(ctx) as workspace:
        bare_key = "::" not in ref and ref in workspace.document.nodes
        entries = workspace.log(ref if bare_key else split_ref(ctx, ref))
        names = {key: _name(workspace.document.node(key)) for key, _ in entries}
        heads = {key: set(workspace.heads(key)) for key in names}
    if as_json:
        print_json(
            [
                {
                    "node": key,
                    "name": names[key],
                    "id": entry.id,
                    "agent": entry.agent,
                    "op": entry.op,
                    "parents": list(entry.parents),
                    "description": entry.description,
                    "head": entry.id in heads[key],
                }
                for key, entry in entries
            ]
        )
        return
    if not entries:
        out.print("no edits since the base commit")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("node", "name", "entry", "agent", "op", "parents", "description"):
        table.add_column(column)
    for key, entry in entries:
        marker = "*" if entry.id in heads[key] else " "
        table.add_row(
            key,
            names[key],
            marker + entry.id,
            entry.agent,
            entry.op,
            ",".join(entry.parents) or "-",
            entry.description,
        )
    out.print(table)


def _name(node: object) -> str:
    try:
        return str(node["name"]) or str(node["kind"])  # type: ignore[index]
    except KeyError:
        return ""
