"""`crdtspace replicas [forget ID]`: the replicas the commit gate knows, and dropping one."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crdtspace.cli.commit import SilentAfterOption, served_peers
from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    app,
    handled,
    open_workspace,
    out,
    print_json,
)
from crdtspace.git import presence
from crdtspace.git.presence import SILENT_AFTER

if TYPE_CHECKING:
    from crdtspace.git.presence import Presence

replicas_app = typer.Typer(
    name="replicas",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(replicas_app, name="replicas")


@replicas_app.callback()
def replicas(
    ctx: typer.Context,
    silent_after: SilentAfterOption = SILENT_AFTER,
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every replica that edited: client id, agent, state, last heard (or, never heard
    of, when first noticed here), and whether the gate waits for it (`*`). States: this, live,
    behind, silent, finished (closed cleanly), exchanged (came through push/pull), session (an
    earlier one of this workspace), forgotten, fork (a write from an older version), as
    `crdtspace commit` judges them."""
    if ctx.invoked_subcommand is not None:
        return
    with handled(), open_workspace(ctx, agent) as workspace:
        listed = presence.replicas(workspace, silent_after=silent_after, connected=served_peers())
    now = time.time()
    if as_json:
        print_json({"silent_after": silent_after, "replicas": [_json(p, now) for p in listed]})
        return
    if not listed:
        out.print("no replica has edited this workspace yet", markup=False)
        return
    width = max(len(p.agent) for p in listed)
    for p in listed:
        mark = "*" if p.blocking else " "
        heard = ("noticed " if p.noticed else "") + _ago(p.last_heard, now)
        line = f"{mark} {p.client:<16x} {p.agent:<{width}}  {p.state:<9}  {heard:<16}  {p.detail}"
        if p.unseen:
            line += f"; {p.unseen}"
        out.print(line.rstrip(), markup=False)
    waiting = sum(p.blocking for p in listed)
    if waiting:
        out.print(f"* the gate waits for {waiting} of them", markup=False)


@replicas_app.command()
def forget(
    ctx: typer.Context,
    replica: Annotated[
        str,
        typer.Argument(
            help="The replica: its client id (as listed) or its agent's name.", metavar="ID"
        ),
    ],
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Drop a replica from the gate's consideration (recorded in the document, so every
    replica agrees) until more of its edits arrive."""
    with handled(), open_workspace(ctx, agent) as workspace:
        chosen = presence.forget(workspace, replica)
    if as_json:
        print_json({"forgotten": _json(chosen, time.time())})
        return
    out.print(
        f"forgot {chosen.agent} ({chosen.client:x}, was {chosen.state}): the gate no longer "
        "waits for it, until more of its edits arrive",
        markup=False,
    )


def _json(p: Presence, now: float) -> dict[str, Any]:
    return {
        "client": f"{p.client:x}",
        "client_id": p.client,
        "agent": p.agent,
        "state": p.state,
        "blocking": p.blocking,
        "connected": p.connected,
        "last_heard": p.last_heard,
        "seconds_since_heard": None if p.last_heard is None else round(now - p.last_heard, 3),
        "never_heard": p.noticed,
        "detail": p.detail,
        "unseen": p.unseen or None,
        "of": None if p.of is None else f"{p.of:x}",
    }


def _ago(when: float | None, now: float) -> str:
    if when is None:
        return "never heard"
    seconds = max(0.0, now - when)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(when))
