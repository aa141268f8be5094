"""`crdtspace status`: what the workspace holds."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from typing import Annotated, Any

import typer

from crdtspace.cli.claims import claim_json
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
    from crdtspace.model import claims as board

    with open_workspace(ctx) as workspace:
        info = dataclasses.asdict(workspace.status())
        info["changed"] = workspace.changed_files()
        info["conflicts"] = [
            {"id": c.id, "kind": c.kind, "places": [str(p) for p in c.places],
             "agents": list(c.agents), "message": c.message}
            for c in workspace.conflicts()
        ]  # fmt: skip
        info["claims"] = [claim_json(c) for c in board.in_document(workspace)]
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


def _text(info: dict[str, Any]) -> str:
    lines = [
        f"base commit   {info['base']}",
        f"workspace     {info['state_dir']}",
        f"files         {info['files']} ({info['structured']} structured by syntax)",
        f"nodes         {info['nodes']}",
        f"agents        {', '.join(info['agents']) or '(no edits yet)'}",
    ]
    if "present" in info:
        lines.append(f"here now      {', '.join(info['present']) or '(nobody connected)'}")
    if info.get("claims"):
        lines.append(f"claims        {len(info['claims'])}:")
        for claim in info["claims"]:
            until = time.strftime("%H:%M:%S", time.localtime(float(claim.get("until", 0))))
            note = f" ({claim['note']})" if claim.get("note") else ""
            node = claim.get("name") or claim.get("node") or ""
            where = f"{claim.get('path', '')}::{node}".rstrip(":")
            lines.append(f"  {claim['agent']} claims {where} until {until}{note}")
    if info["plain_text"]:
        lines.append(f"plain text    {len(info['plain_text'])}: {', '.join(info['plain_text'])}")
    if info["unparsed"]:
        lines.append(f"unparsed      {len(info['unparsed'])} (kept as one leaf each):")
        lines += [f"  {path}" for path in info["unparsed"]]
    if info["git_only"]:
        lines.append(f"git-only      {len(info['git_only'])}:")
        lines += [f"  {item['path']}: {item['reason']}" for item in info["git_only"]]
    changed = info.get("changed") or {}
    lines.append(
        f"changed       {len(changed)} file(s) since the base commit" + (":" if changed else "")
    )
    lines += [f"  {path} by {', '.join(agents)}" for path, agents in changed.items()]
    conflicts = info.get("conflicts") or []
    lines.append(f"conflicts     {len(conflicts)} open" + (":" if conflicts else ""))
    for c in conflicts:
        where = "; ".join(c["places"]) or "-"
        lines.append(f"  {c['id']} {c['kind']} at {where} [{', '.join(c['agents'])}]")
    return "\n".join(lines)


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
