"""`crdtspace write PATH`: a whole-file edit, re-keyed into per-node edits."""

from __future__ import annotations

import sys
from pathlib import Path
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
    print_json,
)
from crdtspace.errors import DocumentError


@app.command()
def write(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="The file to write (created if new).")],
    source: Annotated[
        Path | None,
        typer.Option("--from", "-f", help="Read the new content from this file, not stdin."),
    ] = None,
    message: Annotated[
        str, typer.Option("--message", "-m", help="A description for the node logs.")
    ] = "write",
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a file's content: units are matched to existing nodes and edited minimally."""
    with handled():
        text = _read_source(source)
        with open_workspace(ctx, agent) as workspace:
            result = workspace.write(absolute(ctx, path), text, description=message)
    summary = {
        "created": len(result.created),
        "deleted": len(result.deleted),
        "moved": len(result.moved),
        "edited": len(result.edited),
    }
    if as_json:
        print_json(
            {
                "path": path,
                **summary,
                "nodes": {
                    "created": result.created,
                    "deleted": result.deleted,
                    "moved": result.moved,
                    "edited": result.edited,
                },
            }
        )
        return
    if not any(summary.values()):
        out.print(f"{path}: no change")
        return
    out.print(f"{path}: " + ", ".join(f"{n} {what}" for what, n in summary.items() if n))


def _read_source(source: Path | None) -> str:
    if source is None:
        data = sys.stdin.buffer.read()
        where = "standard input"
    else:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise DocumentError(f"Cannot read {source}: {exc.strerror}.") from exc
        where = str(source)
    if b"\0" in data[:8000]:
        raise DocumentError(f"The content from {where} is binary; crdtspace edits text only.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"The content from {where} is not valid UTF-8 (byte {exc.start}).",
            hint="convert it to UTF-8 first",
        ) from exc
