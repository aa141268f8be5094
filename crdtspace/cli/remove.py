"""`crdtspace rm REF...` and `crdtspace mv REF DEST`: delete or move nodes and files."""

from __future__ import annotations

from typing import Annotated

import typer

from crdtspace.cli.common import (
    AgentOption,
    absolute,
    app,
    handled,
    open_workspace,
    out,
    split_ref,
)


@app.command(name="rm")
def remove(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="Nodes (PATH::NAME) or files (PATH).")],
    agent: AgentOption = None,
) -> None:
    """Delete nodes (their history stays, for conflicts and the log) or remove files."""
    with handled(), open_workspace(ctx, agent) as workspace:
        for ref in refs:
            if "::" in ref:
                workspace.delete(split_ref(ctx, ref))
            else:
                workspace.remove(absolute(ctx, ref))
            out.print(f"removed {ref}", markup=False)


@app.command(name="mv")
def move(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="A node (PATH::NAME) or a file (PATH).")],
    dest: Annotated[
        str,
        typer.Argument(
            help="For a node: the file or class to move it into; for a file: its new path."
        ),
    ],
    after: Annotated[
        str | None, typer.Option("--after", help="Put the node after this child (default: first).")
    ] = None,
    agent: AgentOption = None,
) -> None:
    """Move a node into a file or class, or give a file a new path (its nodes and their history
    stay when both paths are of one language)."""
    with handled(), open_workspace(ctx, agent) as workspace:
        if "::" in ref:
            target = split_ref(ctx, dest)
            container = dest.partition("::")[2]
            if after is not None and container and "::" not in after and "." not in after:
                after = f"{container}.{after}"  # (a child of a class: by its qualified name)
            workspace.move(split_ref(ctx, ref), target, after)
        else:
            workspace.rename(absolute(ctx, ref), absolute(ctx, dest))
    out.print(f"moved {ref} to {dest}", markup=False)
