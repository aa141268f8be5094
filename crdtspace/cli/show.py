"""`crdtspace show PATH[::NODE]`: the text of a file or of one node, and its version."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    app,
    handled,
    open_workspace,
    print_json,
    split_ref,
)


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="PATH, PATH::KEY, PATH::Qualified.name, or a node key.")
    ],
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a file or one node exactly as the workspace holds it.

    The read is noted as the agent's last read of the file: a `write` by that agent with no
    --base applies only its change from this version. --json also prints the version."""
    with handled(), open_workspace(ctx, agent) as workspace:
        bare_key = "::" not in ref and ref in workspace.document.nodes
        path, nid = workspace.resolve(ref if bare_key else split_ref(ctx, ref))
        text = workspace.read(f"{path}::{nid}" if nid else path)
        version = text.version  # taken now, so the read is noted durably
        node = workspace.document.node(nid) if nid else None
        info = {
            "path": path,
            "key": nid,
            "kind": str(node["kind"]) if node is not None else None,
            "name": str(node["name"]) if node is not None else None,
            "version": version,
            "text": str(text),
        }
    if as_json:
        print_json(info)
        return
    sys.stdout.write(text)
    sys.stdout.flush()
