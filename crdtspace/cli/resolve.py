"""`crdtspace resolve ID`: take one side of a conflict, or edit its node."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from crdtspace.cli.common import AgentOption, app, handled, open_workspace, out
from crdtspace.errors import DocumentError


@app.command()
def resolve(
    ctx: typer.Context,
    conflict_id: Annotated[str, typer.Argument(help="The conflict's id (or a unique prefix).")],
    take: Annotated[
        str | None,
        typer.Option("--take", help="The agent whose side to keep ('ours', 'theirs' work too)."),
    ] = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Open $EDITOR on the node and use what you save.")
    ] = False,
    agent: AgentOption = None,
) -> None:
    """Resolve a conflict: the resolution is an edit every replica sees."""
    with handled(), open_workspace(ctx, agent) as workspace:
        if take is None and not edit:
            raise DocumentError("Say how to resolve: --take AGENT or --edit.")
        if take is not None and edit:
            raise DocumentError("Use either --take or --edit, not both.")
        if take is not None:
            done = workspace.resolve_conflict(conflict_id, take=take)
        else:
            found = workspace.analysis().find(conflict_id)
            if found is None or not found.places:
                raise DocumentError(f"There is no open conflict {conflict_id!r} with a node.")
            if not found.places[0].key:
                raise DocumentError(f"Conflict {found.id} names no node to edit.")
            seen = workspace.read(found.places[0].key)  # an overlap shows both sides and base
            text = _edit(seen)
            done = workspace.resolve_conflict(conflict_id, text=text, base=seen.version)
    out.print(f"resolved {done.id} ({done.kind})")


def _edit(text: str) -> str:
    """Let the user edit `text` in $VISUAL / $EDITOR; returns what was saved."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "node.txt"
        path.write_text(text, encoding="utf-8")
        completed = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if completed.returncode != 0:
            raise DocumentError(f"The editor ({editor}) exited with {completed.returncode}.")
        return path.read_text(encoding="utf-8")
