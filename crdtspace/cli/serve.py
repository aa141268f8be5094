"""`crdtspace serve`: host the workspace for live sync (the Yjs sync and awareness protocol)."""

from __future__ import annotations

import logging
import signal
import socket
from typing import Annotated

import anyio
import typer

from crdtspace.cli.common import app, context, err, handled, out
from crdtspace.errors import SyncError
from crdtspace.server import DEFAULT_MAX_UPDATE, DEFAULT_PORT, Server, bind_socket


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless told).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: a free one).")] = DEFAULT_PORT,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="CRDTSPACE_TOKEN",
            help="Token clients must present (default: .git/crdtspace/<workspace>/token).",
        ),
    ] = None,
    max_update: Annotated[
        int, typer.Option("--max-update", help="Largest update a client may send (bytes).")
    ] = DEFAULT_MAX_UPDATE,
    show_token: Annotated[
        bool, typer.Option("--show-token", help="Print the token clients need.")
    ] = False,
) -> None:
    """Serve the workspace over websockets until SIGINT or SIGTERM; every update is durable
    before any client sees it relayed."""
    options = context(ctx)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    with handled():
        server = Server(
            options.repo,
            workspace=options.workspace,
            token=token,
            host=host,
            port=port,
            max_update=max_update,
        )
        try:
            sock = bind_socket(host, port)  # here, so that a port in use is one clear error
        except SyncError:
            server.close()
            raise
        for warning in server.warnings:
            err.print(f"[bold red]WARNING[/]: {warning}")
        anyio.run(_serve, server, sock, show_token)
    out.print("stopped; the workspace is closed and its log flushed")


async def _serve(server: Server, sock: socket.socket, show_token: bool) -> None:
    shutdown = anyio.Event()

    def ready(port: int) -> None:
        out.print(f"serving {server.url}", markup=False)
        if show_token:
            out.print(f"token {server.token}", markup=False)
        out.file.flush()

    async with anyio.create_task_group() as group:

        async def signals() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as received:
                async for _ in received:
                    shutdown.set()
                    return

        group.start_soon(signals)
        await server.serve(shutdown.wait, sock=sock, ready=ready)
        group.cancel_scope.cancel()
