"""`crdtspace mcp`: the workspace's tools for an MCP client (Claude Code, Codex, Cursor)."""

from __future__ import annotations

from typing import Annotated

import typer

from crdtspace.cli.common import AGENT_ENV, app, context, handled, out

agents_app = typer.Typer(
    name="agents",
    help="What agents need to work in this workspace.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(agents_app, name="agents")


@app.command()
def mcp(
    ctx: typer.Context,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            envvar=AGENT_ENV,
            help="The agent's name (default: the client's, numbered: claude-code-1, ...).",
        ),
    ] = None,
    print_config: Annotated[
        str | None,
        typer.Option(
            "--print-config",
            metavar="claude|codex|cursor",
            help="Print how to make that client start this server, and exit.",
        ),
    ] = None,
    check: Annotated[
        str | None, typer.Option("--check", help="The project's check for run_check and commit.")
    ] = None,
    idle_timeout: Annotated[
        float,
        typer.Option("--idle-timeout", help="A service started here stops after this idle time."),
    ] = 600.0,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Join this server instead of the workspace's service (ws://, wss://, "
            "hocuspocus+ws://).",
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="CRDTSPACE_TOKEN", help="--url's token.")
    ] = None,
) -> None:
    """Serve the workspace's agent tools over stdin/stdout (MCP). All agents meet in the
    workspace's service, which is started when none runs."""
    options = context(ctx)
    if print_config is not None:
        from crdtspace.agents.setup import client_config

        with handled():
            out.print(client_config(print_config, options.repo), markup=False, end="")
        return
    import anyio

    from crdtspace.agents.mcp import Sessions, serve_stdio
    from crdtspace.agents.setup import join
    from crdtspace.agents.tools import Session

    def make(client: str | None) -> Session:
        return join(
            options.repo,
            workspace=options.workspace,
            agent=agent,
            client=client,
            check=check,
            idle_timeout=idle_timeout,
            url=url,
            token=token,
        )

    with handled(secrets=(token,)):
        anyio.run(serve_stdio, Sessions(make))


@agents_app.command()
def guide() -> None:
    """Print the instructions to put in AGENTS.md or CLAUDE.md."""
    from crdtspace.agents.setup import GUIDE

    out.print(GUIDE, markup=False, end="")
