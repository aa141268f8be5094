"""`crdtspace init`: create the durable workspace from a commit."""

from __future__ import annotations

from typing import Annotated

import typer

from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    agent_name,
    app,
    context,
    handled,
    lock_wait,
    out,
    print_json,
)
from crdtspace.cli.common import progress as progress_bar
from crdtspace.model.paths import DEFAULT_SIZE_LIMIT


@app.command()
def init(
    ctx: typer.Context,
    rev: Annotated[str, typer.Option("--rev", help="The commit to import.")] = "HEAD",
    agent: AgentOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start over, discarding an existing workspace.")
    ] = False,
    size_limit: Annotated[
        int,
        typer.Option("--size-limit", help="Text files bigger than this (bytes) stay git-only."),
    ] = DEFAULT_SIZE_LIMIT,
    as_json: JsonOption = False,
) -> None:
    """Import a commit's tracked files into a new workspace under .git/crdtspace/."""
    from crdtspace.workspace import Workspace

    options = context(ctx)
    with handled(), progress_bar("importing", enabled=not as_json) as update:
        workspace = Workspace.init(
            options.repo,
            rev,
            agent=agent_name(agent),
            workspace=options.workspace,
            size_limit=size_limit,
            progress=update,
            force=force,
            lock_wait=lock_wait(),
        )
    with workspace:
        status = workspace.status()
    if as_json:
        print_json(
            {
                "base": status.base,
                "files": status.files,
                "nodes": status.nodes,
                "git_only": len(status.git_only),
                "state_dir": status.state_dir,
            }
        )
        return
    out.print(
        f"Imported {status.base[:10]}: {status.files} files ({status.structured} structured, "
        f"{len(status.git_only)} git-only), {status.nodes} nodes. State in {status.state_dir}."
    )
