"""`crdtspace status`: what the workspace holds."""

from __future__ import annotations

import dataclasses

import typer

from crdtspace.cli.common import JsonOption, app, handled, open_workspace, out, print_json


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The base commit, the files (structured, plain text, unparsed, git-only) and the agents."""
    with handled(), open_workspace(ctx) as workspace:
        info = workspace.status()
    if as_json:
        print_json(dataclasses.asdict(info))
        return
    out.print(f"base commit   {info.base}")
    out.print(f"workspace     {info.state_dir}")
    out.print(f"files         {info.files} ({info.structured} structured by syntax)")
    out.print(f"nodes         {info.nodes}")
    out.print(f"agents        {', '.join(info.agents) or '(no edits yet)'}")
    if info.plain_text:
        out.print(f"plain text    {len(info.plain_text)}: {', '.join(info.plain_text)}")
    if info.unparsed:
        out.print(f"unparsed      {len(info.unparsed)} (kept as one leaf each):")
        for path in info.unparsed:
            out.print(f"  {path}")
    if info.git_only:
        out.print(f"git-only      {len(info.git_only)}:")
        for item in info.git_only:
            out.print(f"  {item.path}: {item.reason}")
