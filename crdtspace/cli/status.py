"""`crdtspace status`: what the workspace holds."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from crdtspace.cli.common import (
    JsonOption,
    app,
    handled,
    open_workspace,
    out,
    print_json,
    scrub,
)
from crdtspace.cli.common import context as cli_context


@app.command()
def status(
    ctx: typer.Context,
    as_json: JsonOption = False,
    server: Annotated[
        str | None,
        typer.Option("--server", help="Ask a running `crdtspace serve` (URL) instead."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="CRDTSPACE_TOKEN", help="The server's token."),
    ] = None,
) -> None:
    """The base commit, the files (structured, plain text, unparsed, git-only) and the agents."""
    if server is not None:
        server_status(ctx, server, token, as_json)
        return
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


def server_status(ctx: typer.Context, url: str, token: str | None, as_json: bool) -> None:
    """`status --server URL`: what a running server says (clients, state vectors, claims)."""
    from crdtspace.live import access

    options = cli_context(ctx)
    secrets = [token]  # the token never shows in an error, the one read from the file neither
    with handled(secrets):
        if token is None:
            token = access.token_for(options.repo, options.workspace)
            secrets.append(token)
        info = access.fetch_status(url, token)
    if as_json:
        print_json(info)
        return
    out.print(f"server        {scrub(str(info.get('url', url)), secrets)}", markup=False)
    out.print(f"workspace     {info.get('workspace')} at base {info.get('base')}", markup=False)
    out.print(f"state vector  {info.get('state_vector')}", markup=False)
    clients = info.get("clients") or []
    out.print(f"clients       {len(clients)}", markup=False)
    for client in clients:
        out.print(
            f"  {client['agent']:<20} {client['address']:<22} {client.get('state_vector') or ''}",
            markup=False,
        )
    for agent, claims in sorted((info.get("claims") or {}).items()):
        out.print(f"claims        {agent}: {claims}", markup=False)
    if info.get("rejected"):
        out.print(f"rejected      {info['rejected']} messages (see the server's log)", markup=False)
    for warning in info.get("warnings") or []:
        out.print(f"WARNING       {warning}", markup=False)
