"""`crdtspace outline PATH`: a file's units with their keys, lines and last editors."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    absolute,
    app,
    handled,
    open_workspace,
    out,
    plain_table,
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
    rows = [
        (
            entry.key,
            entry.kind,
            "  " * max(entry.depth - 1, 0) + (entry.name or "·"),
            f"{entry.start_line}-{entry.end_line}",
            entry.last_editor,
        )
        for entry in entries
    ]
    out.print(plain_table(("key", "kind", "name", "lines", "last editor"), rows), markup=False)
    out.print(f"{relative} at version {version}", markup=False)
