"""`crdtspace write PATH[::NODE]`: a whole-file (or one node's) edit, made from a version."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

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
    split_ref,
)
from crdtspace.errors import DocumentError
from crdtspace.model.paths import DEFAULT_SIZE_LIMIT


@app.command()
def write(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            metavar="PATH",
            help="The file to write (created if new), or PATH::NODE to replace one node "
            "(NODE: a key or a qualified name).",
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option("--from", "-f", help="Read the new content from this file, not stdin."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="The version the new content was made from, as show --json prints it "
            "(default: the agent's last read of the file, else the last commit).",
        ),
    ] = None,
    message: Annotated[
        str, typer.Option("--message", "-m", help="A description for the node logs.")
    ] = "write",
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a file's content (units are matched to existing nodes and edited minimally), or
    one node's text. Only the change from the base version is applied, as an edit concurrent
    with everything since: nothing written meanwhile is undone; where both changed the same
    lines, `crdtspace conflicts` reports an overlap."""
    path, sep, node = ref.partition("::")
    with handled():
        text = _read_source(source)
        with open_workspace(ctx, agent) as workspace:
            info: dict[str, Any]
            if sep:
                key = workspace.replace(split_ref(ctx, ref), text, description=message, base=base)
                info = {"node": key}
            else:
                result = workspace.write(absolute(ctx, path), text, description=message, base=base)
                info = {
                    "created": len(result.created),
                    "deleted": len(result.deleted),
                    "moved": len(result.moved),
                    "edited": len(result.edited),
                    "nodes": {
                        "created": result.created,
                        "deleted": result.deleted,
                        "moved": result.moved,
                        "edited": result.edited,
                    },
                }
            relative = workspace.resolve(absolute(ctx, path))[0]
            who = workspace.agent
            version = workspace.versions.last_read(who, relative)
    if as_json:
        print_json({"path": relative, **info, "agent": who, "version": version})
        return
    tail = f" (version {version} for {who})"
    if sep:
        out.print(f"{relative}::{node}: replaced node {info['node']}{tail}", markup=False)
        return
    counts = {what: info[what] for what in ("created", "deleted", "moved", "edited")}
    if not any(counts.values()):
        out.print(f"{relative}: no change{tail}", markup=False)
        return
    changes = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    out.print(f"{relative}: {changes}{tail}", markup=False)


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
    if len(data) > DEFAULT_SIZE_LIMIT:
        # Refused before the workspace is opened: re-keying megabytes would take minutes, and
        # a file that large is one the workspace keeps git-only (init's --size-limit).
        raise DocumentError(
            f"The content from {where} is {len(data):,} bytes, over the workspace's size limit "
            f"of {DEFAULT_SIZE_LIMIT:,} bytes; nothing was written.",
            hint="files that large stay git-only: change them with git and commit",
        )
    if b"\0" in data[:8000]:
        raise DocumentError(f"The content from {where} is binary; crdtspace edits text only.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"The content from {where} is not valid UTF-8 (byte {exc.start}).",
            hint="convert it to UTF-8 first",
        ) from exc
