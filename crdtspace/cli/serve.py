"""`crdtspace serve`: host the workspace for live sync (the Yjs sync and awareness protocol)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crdtspace.cli.common import app, context, err, handled, out, scrub
from crdtspace.errors import SyncError
from crdtspace.live.service import (
    DEFAULT_MAX_UPDATE,
    DEFAULT_PORT,
    announce,
    service_state_dir,
    withdraw,
)

if TYPE_CHECKING:
    import asyncio

    import anyio

    from crdtspace.live.server import Server

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout",
            min=0,
            help="Stop after this many seconds with no client and no request (0: never).",
        ),
    ] = 0.0,
) -> None:
    """Serve the workspace over websockets until SIGINT or SIGTERM (or --idle-timeout); every
    update is relayed at once and acknowledged to its sender once durable. While it runs, the
    service is announced in .git/crdtspace/<workspace>/service.json."""
    import anyio

    from crdtspace.cli import served
    from crdtspace.live.access import bind_socket
    from crdtspace.live.loops import anyio_options
    from crdtspace.live.server import Server
    from crdtspace.workspace import Workspace

    options = context(ctx)
    secrets = [token]
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    with _stop_signals() as stop, handled(secrets), _scrubbed_logs(secrets):
        state_dir = service_state_dir(options.repo, options.workspace)  # (announced there)
        server = Server(
            options.repo,
            workspace=options.workspace,
            token=token,
            host=host,
            port=port,
            max_update=max_update,
            idle_timeout=idle_timeout,
            replica_class=Workspace,
            commands=served.run,
        )
        secrets.append(server.token)
        from crdtspace.agents.mcp import http_mount

        server.mounts.append(http_mount(server))  # MCP over HTTP at /mcp
        try:
            sock = bind_socket(host, port)  # here, so that a port in use is one clear error
        except SyncError:
            server.close()
            raise
        for warning in server.warnings:
            err.print(f"[bold red]WARNING[/]: {warning}")
        anyio.run(
            _serve, server, sock, show_token, stop, state_dir, backend_options=anyio_options()
        )
    if server.stopped_idle:
        out.print(f"no client for {idle_timeout:g} s")
    out.print("stopped; the workspace is closed and its log flushed")


class _Stop:
    """SIGINT and SIGTERM while serving: the first asks for a shutdown, later ones are let
    be (the shutdown is already under way, bounded by its timeouts)."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def take_signals(self) -> dict[int, Any]:
        """Handle SIGINT and SIGTERM here; the handlers before (none off the main thread,
        which signals never reach)."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self) for sig in STOP_SIGNALS}


@contextmanager
def _stop_signals() -> Iterator[_Stop]:
    """From the command's start to its end, SIGINT and SIGTERM set `requested` rather than
    interrupt (the event loop takes them over while it runs, see `_serve`): a signal while
    the workspace opens stops the server as soon as it starts, one during the shutdown is
    not a second, abrupt ending."""
    stop = _Stop()
    previous = stop.take_signals()
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _scrubbed_logs(secrets: list[str | None]) -> Iterator[None]:
    """The server's log lines (a request, a refusal, a library's error) without the token."""

    class Scrub(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            message = record.getMessage()
            cleaned = scrub(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            return True

    handlers = logging.getLogger().handlers
    scrubber = Scrub()
    for handler in handlers:
        handler.addFilter(scrubber)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(scrubber)


async def _serve(
    server: Server, sock: socket.socket, show_token: bool, stop: _Stop, state_dir: Path
) -> None:
    import asyncio

    import anyio

    shutdown = anyio.Event()
    loop = asyncio.get_running_loop()
    _quiet_cancelled_connections(shutdown)

    def ready(port: int) -> None:
        announce(
            state_dir,
            host=server.host,
            port=port,
            workspace=server.workspace_name,
            token=server.token,
        )
        out.print(f"serving {server.url}", markup=False)
        if show_token:
            out.print(f"token {server.token}", markup=False)
        out.file.flush()

    # The loop takes SIGINT and SIGTERM over until the server has stopped: every one of them
    # (a second during the shutdown too) only sets `shutdown`. No signal-receiving task: one
    # left to be cancelled at the end makes hypercorn's tasks leak a CancelledError.
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, shutdown.set)
    try:
        if stop.requested:  # a signal before the loop took them over
            shutdown.set()
        await server.serve(shutdown.wait, sock=sock, ready=ready)
    finally:
        withdraw(state_dir, os.getpid())  # (only ours: a later service's is left alone)
        if on_main_thread:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)  # (back to Python's defaults: take them again)
            stop.take_signals()


def _quiet_cancelled_connections(shutdown: anyio.Event) -> None:
    """Once the shutdown has begun, hypercorn cancels the connections still open after its
    graceful timeout (a client that never answers the close), and asyncio reports each
    cancelled connection task through the loop's exception handler: a `CancelledError`
    traceback for the shutdown working as meant. Those are dropped; anything else is
    reported as before."""
    import asyncio

    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if shutdown.is_set() and isinstance(context.get("exception"), asyncio.CancelledError):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
