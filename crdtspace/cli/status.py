"""`crdtspace status`: what the workspace holds."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Annotated, Any

import typer

from crdtspace.cli.common import (
    SERVED_STATUS,
    JsonOption,
    app,
    handled,
    open_workspace,
    out,
    print_json,
    scrub,
)
from crdtspace.cli.common import context as cli_context
from crdtspace.cli.quick import status_text as _text
from crdtspace.errors import CrdtspaceError


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
    live: Annotated[
        bool, typer.Option("--live", help="Keep it on screen, refreshed, until Ctrl-C.")
    ] = False,
) -> None:
    """The base commit, the files (structured, plain text, unparsed, git-only), the agents
    present and their claims (when the workspace service runs), the files changed since the base
    commit and by whom, and the open conflicts."""
    if server is not None:
        server_status(ctx, server, token, as_json)
        return
    if live:
        _live(ctx)
        return
    with handled():
        info = status_info(ctx)
    if as_json:
        print_json(info)
        return
    out.print(_text(info), markup=False)


def status_info(ctx: typer.Context) -> dict[str, Any]:
    """What `status --json` prints."""
    from crdtspace.git.summary import status_dict

    with open_workspace(ctx) as workspace:
        info = status_dict(workspace, workspace.analysis())
    service = SERVED_STATUS.get()
    if service is not None:
        info["present"] = sorted({str(c.get("agent", "")) for c in service.get("clients", [])})
        info["claims"] += _claims(service)
    return info


def _claims(service: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for agent, claims in sorted((service.get("claims") or {}).items()):
        for claim in claims if isinstance(claims, list) else []:
            if isinstance(claim, dict) and float(claim.get("until", 0) or 0) > time.time():
                out.append({"agent": agent, **claim})
    return out


def _live(ctx: typer.Context) -> None:
    """`status --live`: the status, refreshed every second, until Ctrl-C (through the
    workspace service when one runs, else by opening the workspace each time)."""
    from rich.live import Live
    from rich.text import Text

    from crdtspace.cli import remote

    options = cli_context(ctx)
    argv = ["-C", str(options.repo), "--workspace", options.workspace, "status", "--json"]

    def current() -> str:
        answer = remote.ask(argv)
        if answer is not None and answer.get("code") == 0:
            return _text(json.loads(str(answer.get("stdout", "{}"))))
        try:
            return _text(status_info(ctx))
        except CrdtspaceError as error:
            return f"error: {error}"

    with (
        contextlib.suppress(KeyboardInterrupt),
        Live(Text(current()), console=out, refresh_per_second=4, transient=False) as shown,
    ):
        while True:
            time.sleep(1.0)
            shown.update(Text(time.strftime("%H:%M:%S ") + "\n" + current()))


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
