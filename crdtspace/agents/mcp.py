"""The MCP server: the agent tools (`crdtspace.agents.tools`) for any MCP client.

`server(connect)` makes a low-level `mcp` server whose tools are the ones of `TOOLS`; `connect`
gives the `Session` its calls run on, made on the first tool call (so the agent can be named
after the client that connected). `serve_stdio(...)` runs it over stdin/stdout, the way Claude
Code, Codex and Cursor start MCP servers. Tool results are plain text; a tool that fails is an
MCP tool error (`isError`) with one sentence.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
from mcp.server import Server

from crdtspace import __version__
from crdtspace.agents.tools import TOOLS, Session, ToolError
from crdtspace.live.server import Mount
from crdtspace.live.server import Server as LiveServer

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

INSTRUCTIONS = (
    "A crdtspace workspace: several agents edit this repository at once. Read before you edit "
    "(read/outline give a version: pass it as base), claim what you are about to change, edit "
    "with edit/replace_node/write_file, look at conflicts in every result, run_check, and let "
    "commit (the gate) write the commit. Never edit the files on disk directly."
)


class Sessions:
    """The one session of a connection, made on first use and reused after."""

    def __init__(self, make: Callable[[str | None], Session]) -> None:
        self._make = make
        self._session: Session | None = None
        self._lock = threading.Lock()

    def get(self, client: str | None) -> Session:
        with self._lock:
            if self._session is None:
                self._session = self._make(client)
            return self._session

    def call(self, client: str | None, name: str, arguments: dict[str, Any] | None) -> str:
        session = self.get(client)
        with self._lock:  # one call at a time per agent
            return session.call(name, arguments)

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.workspace.close()
                self._session = None


def tool_list() -> list[types.Tool]:
    return [
        types.Tool(name=t.name, description=t.description, input_schema=t.schema)
        for t in TOOLS.values()
    ]


Caller = Callable[[Any, str, dict[str, Any]], Awaitable[str]]
"""Runs one tool call (the request's context, the tool's name, its arguments): its text, or a
`ToolError`."""


def on_sessions(sessions: Sessions) -> Caller:
    """Tool calls run on the one session of a connection (stdio, in process)."""

    async def call(ctx: Any, name: str, arguments: dict[str, Any]) -> str:
        return await anyio.to_thread.run_sync(sessions.call, _client_name(ctx), name, arguments)

    return call


def server(sessions: Sessions | Caller) -> Server[Any]:
    """An MCP server whose tools run on the session `sessions` gives (or through a caller)."""
    caller = on_sessions(sessions) if isinstance(sessions, Sessions) else sessions

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            text = await caller(ctx, params.name, dict(params.arguments or {}))
        except ToolError as error:
            return _result(error.message, error=True)
        except Exception as error:  # a bug must not take the agent's server down
            return _result(f"The tool {params.name} failed: {error}", error=True)
        return _result(text)

    return Server(
        "crdtspace",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _result(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


def _client_name(ctx: Any) -> str | None:
    """The connected client's name (e.g. "claude-code"), when it said one."""
    try:
        info = ctx.session.client_params.client_info
        name = str(info.name)
    except AttributeError:
        return None
    return name or None


async def serve_stdio(sessions: Sessions) -> None:
    """Serve over this process's stdin and stdout until the client closes them, or stops
    the server with SIGTERM or SIGHUP (as clients do): either way the session closes
    cleanly first (its replica finished, its presence withdrawn)."""
    from mcp.server.stdio import stdio_server

    app = server(sessions)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_close_on_signals, sessions)
            async with stdio_server() as (read_stream, write_stream):
                await app.run(read_stream, write_stream, app.create_initialization_options())
            group.cancel_scope.cancel()
    finally:
        sessions.close()


async def _close_on_signals(sessions: Sessions) -> None:
    """On SIGTERM or SIGHUP: close the session, then die of the signal as by default (the
    stdin reader's thread cannot be cancelled: waiting for it would never end)."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGHUP) as signals:
        async for number in signals:
            await anyio.to_thread.run_sync(sessions.close)
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
            return


# -- MCP over HTTP, on the workspace service ---------------------------------------------------

AGENT_HEADER = "x-crdtspace-agent"


def http_mount(service: LiveServer, *, check: str | None = None) -> Mount:
    """MCP over streamable HTTP at ``/mcp`` on the workspace service, for clients that connect
    by URL: the agent is named by the ``X-Crdtspace-Agent`` header or the path
    (``/mcp/<agent>``), the workspace's token is required (``Authorization: Bearer``), and the
    tools run on the service's own replica, one call at a time between its other work."""
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    sessions: dict[str, Session] = {}

    async def call(ctx: Any, name: str, arguments: dict[str, Any]) -> str:
        agent = _header(ctx, AGENT_HEADER) or "http-agent"

        def work(replica: Any) -> str:
            session = sessions.get(agent)
            if session is None:
                session = sessions[agent] = Session(replica, agent, check=check)
            return session.call(name, arguments)

        try:
            return await anyio.to_thread.run_sync(service.call, work)
        finally:
            service.relay()

    manager = loopback_manager(server(call))
    inner = StreamableHTTPASGIApp(manager)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not service.authorized(scope):
            await refuse(send, 401, "a valid token is required")
            return
        path = str(scope["path"])
        rest = path[len("/mcp") :].strip("/")
        headers = list(scope.get("headers") or [])
        if rest:  # /mcp/<agent>
            headers = [(k, v) for k, v in headers if k.lower() != AGENT_HEADER.encode()]
            headers.append((AGENT_HEADER.encode(), rest.encode()))
        await inner(
            {**scope, "path": "/mcp", "raw_path": b"/mcp", "headers": headers}, receive, send
        )

    return Mount("/mcp", app, manager.run)


def loopback_manager(app: Server[Any]) -> StreamableHTTPSessionManager:
    """A streamable HTTP session manager for `app` that answers only requests made to a
    loopback address (DNS rebinding protection)."""
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings

    return StreamableHTTPSessionManager(
        app=app,
        security_settings=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        ),
    )


def _header(ctx: Any, name: str) -> str | None:
    headers = getattr(getattr(ctx, "request", None), "headers", None)
    if headers is None:
        return None
    value = headers.get(name)
    return str(value) if value else None


async def refuse(send: Any, status: int, message: str) -> None:
    """Answer an HTTP request with `status` and ``{"error": message}``."""
    data = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
