"""`crdtspace connect`: join a sync server as a replica; show who is there and what they claim."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Annotated

import typer

from crdtspace.cli.common import AGENT_ENV, agent_name, app, context, handled, out

if TYPE_CHECKING:
    from crdtspace.live import netreplica

Snapshot = tuple[tuple[str, ...], tuple[tuple[str, str, str, int], ...]]


def _snapshot(replica: netreplica.NetworkReplica) -> Snapshot:
    agents = tuple(sorted({peer.agent for peer in replica.peers()}))
    now = time.time()
    claims = tuple(
        (c.agent, c.path, c.name or c.node or "(whole file)", max(0, round(c.expires - now)))
        for c in replica.claims()
    )
    return agents, claims


def _show(replica: netreplica.NetworkReplica, snapshot: Snapshot) -> None:
    agents, claims = snapshot
    state = "connected" if replica.connected else "offline, reconnecting"
    out.print(f"{replica.agent} ({state}); agents here: {', '.join(agents) or 'none'}")
    if not claims:
        out.print("  no claims")
    for agent, path, name, left in claims:
        out.print(f"  {agent} claims {path}::{name} ({left} s left)")


@app.command()
def connect(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Argument(
            help="The server, e.g. ws://127.0.0.1:8765 or hocuspocus+ws://HOST:PORT/DOC."
        ),
    ],
    token: Annotated[str, typer.Option("--token", help="The server's token.")],
    agent: Annotated[
        str | None, typer.Option("--agent", help=f"Who is connecting (default: ${AGENT_ENV}).")
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Print the agents and claims now, and exit.")
    ] = False,
    settle: Annotated[
        float,
        typer.Option("--settle", help="Seconds to wait for the peers' presence before --once."),
    ] = 1.0,
) -> None:
    """Connect to a sync server as a replica and show presence and claims as they change,
    until Ctrl-C (`--once`: print them and exit)."""
    workspace = context(ctx).workspace
    name = agent_name(agent)
    if name is None:
        raise typer.BadParameter(f"name the agent with --agent NAME or ${AGENT_ENV}")
    from crdtspace.live import netreplica

    with handled(secrets=[token]):
        replica = netreplica.connect(url, token, agent=name, workspace=workspace)
        try:
            if once:
                time.sleep(max(0.0, settle))
                _show(replica, _snapshot(replica))
                return
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the view ends
                _watch(replica)
        finally:
            replica.close()


def _watch(replica: netreplica.NetworkReplica) -> None:
    shown: object = None
    while True:
        snapshot = _snapshot(replica)
        # Seconds left tick down every second; show only when who or what changes.
        key = ((snapshot[0], tuple(c[:3] for c in snapshot[1])), replica.connected)
        if key != shown:
            _show(replica, snapshot)
            shown = key
        time.sleep(0.5)
