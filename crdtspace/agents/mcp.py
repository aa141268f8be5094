"""The MCP server: the agent tools (`crdtspace.agents.tools`) for any MCP client.

`server(connect)` makes a low-level `mcp` server whose tools are the ones of `TOOLS`; `connect`
gives the `Session` its calls run on, made on the first tool call (so the agent can be named
after the client that connected). `serve_stdio(...)` runs it over stdin/stdout, the way Claude
Code, Codex and Cursor start MCP servers. Tool results are plain text; a tool that fails is an
MCP tool error (`isError`) with one sentence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server

from crdtspace import __version__
from crdtspace.agents.tools import TOOLS, Session, ToolError

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


def server(sessions: Sessions) -> Server[Any]:
    """An MCP server whose tools run on the session `sessions` gives."""

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        client = _client_name(ctx)
        try:
            text = await anyio.to_thread.run_sync(
                sessions.call, client, params.name, dict(params.arguments or {})
            )
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
    """Serve over this process's stdin and stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    app = server(sessions)
    try:
        async with stdio_server() as (read_stream, write_stream):
            await app.run(read_stream, write_stream, app.create_initialization_options())
    finally:
        sessions.close()
