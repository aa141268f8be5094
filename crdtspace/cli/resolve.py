"""`crdtspace resolve ID`: take one side of a conflict, or edit its node."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from crdtspace.cli.common import SERVED, AgentOption, app, context, handled, open_workspace, out
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
    source: Annotated[
        Path | None,
        typer.Option("--from", help="The node's resolved text, from this file."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="The version the text of --from was made from."),
    ] = None,
    agent: AgentOption = None,
) -> None:
    """Resolve a conflict: the resolution is an edit every replica sees."""
    ways = sum(1 for way in (take is not None, edit, source is not None) if way)
    with handled():
        if ways != 1:
            raise DocumentError("Say how to resolve: --take AGENT or --edit (or --from FILE), one.")
        if edit and SERVED.get() is None and _edit_through_service(ctx, conflict_id, agent):
            return
    with handled(), open_workspace(ctx, agent) as workspace:
        if take is not None:
            done = workspace.resolve_conflict(conflict_id, take=take)
        elif source is not None:
            text = source.read_text(encoding="utf-8")
            done = workspace.resolve_conflict(conflict_id, text=text, base=base)
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


def _edit_through_service(ctx: typer.Context, conflict_id: str, agent: str | None) -> bool:
    """`--edit` while the workspace service runs: the node is read there, edited here, and
    the text sent back (`--from`, from the version read). False when no service runs."""
    from crdtspace.cli import remote

    options = context(ctx)
    where = ["-C", str(options.repo), "--workspace", options.workspace]
    listed = remote.ask([*where, "conflicts", "--json"])
    if listed is None:
        return False
    found = [
        c
        for c in json.loads(str(listed.get("stdout") or "{}")).get("conflicts", [])
        if str(c.get("id", "")).startswith(conflict_id)
    ]
    if len(found) != 1 or not found[0].get("places") or not found[0]["places"][0].get("key"):
        raise DocumentError(f"There is no open conflict {conflict_id!r} with a node.")
    key = str(found[0]["places"][0]["key"])
    shown = remote.ask([*where, "show", key, "--json"])
    if shown is None or shown.get("code") != 0:
        raise DocumentError("The workspace service did not show the node.")
    node = json.loads(str(shown.get("stdout")))
    text = _edit(str(node["text"]))
    named = ["--agent", agent] if agent else []
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "resolved.txt"
        saved.write_text(text, encoding="utf-8")
        done = remote.ask(
            [*where, "resolve", str(found[0]["id"]), "--from", str(saved),
             "--base", str(node["version"]), *named]
        )  # fmt: skip
    if done is None:
        raise DocumentError("The workspace service did not answer; nothing was resolved.")
    sys.stdout.write(str(done.get("stdout", "")))
    sys.stderr.write(str(done.get("stderr", "")))
    if done.get("code") != 0:
        raise typer.Exit(int(str(done.get("code", 1))))
    return True


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
