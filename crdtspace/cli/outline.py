"""`crdtspace outline PATH`: a file's units with their keys, lines and last editors."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    absolute,
    app,
    handled,
    open_workspace,
    out,
    print_json,
)


@app.command()
def outline(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="A file in the workspace.")],
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a file's nodes in order: key, kind, name, lines, last editor; and the version read
    (noted as the agent's last read of the file, as for `show`)."""
    with handled(), open_workspace(ctx, agent) as workspace:
        entries = workspace.outline(absolute(ctx, path))
        version = entries.version  # taken now, so the read is noted durably
        relative = workspace.resolve(absolute(ctx, path))[0]
    if as_json:
        print_json(
            {
                "path": relative,
                "version": version,
                "nodes": [dataclasses.asdict(e) for e in entries],
            }
        )
        return
    table = Table(box=None, pad_edge=False)
    for column in ("key", "kind", "name", "lines", "last editor"):
        table.add_column(column)
    for entry in entries:
        indent = "  " * max(entry.depth - 1, 0)
        table.add_row(
            entry.key,
            entry.kind,
            indent + (entry.name or "·"),
            f"{entry.start_line}-{entry.end_line}",
            entry.last_editor,
        )
    out.print(table)
    out.print(f"{relative} at version {version}", markup=False)
