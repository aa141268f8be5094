"""`crdtspace show PATH[::NODE]`: the text of a file or of one node."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from crdtspace.cli.common import JsonOption, app, handled, open_workspace, print_json, split_ref


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="PATH, PATH::KEY, PATH::Qualified.name, or a node key.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Print a file or one node exactly as the workspace holds it."""
    with handled(), open_workspace(ctx) as workspace:
        bare_key = "::" not in ref and ref in workspace.document.nodes
        path, nid = workspace.resolve(ref if bare_key else split_ref(ctx, ref))
        text = workspace.read(f"{path}::{nid}" if nid else path)
        node = workspace.document.node(nid) if nid else None
        info = {
            "path": path,
            "key": nid,
            "kind": str(node["kind"]) if node is not None else None,
            "name": str(node["name"]) if node is not None else None,
            "text": text,
        }
    if as_json:
        print_json(info)
        return
    sys.stdout.write(text)
    sys.stdout.flush()
