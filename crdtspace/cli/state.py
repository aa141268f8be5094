"""`crdtspace push` and `crdtspace pull`: exchange the CRDT state through a git remote."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    app,
    context,
    handled,
    open_workspace,
    out,
    print_json,
)

RemoteArgument = Annotated[
    str, typer.Argument(help="A git remote: its name, a URL or a path.", metavar="REMOTE")
]


def _remote(ctx: typer.Context, remote: str) -> str:
    """A relative path is taken from where the command runs (-C), as git -C would."""
    candidate = context(ctx).repo / remote
    if not Path(remote).is_absolute() and ("/" in remote or remote.startswith(".")):
        return str(candidate) if candidate.exists() else remote
    return remote


Report = TypeVar("Report")


def _exchange(
    ctx: typer.Context,
    operation: Callable[..., Report],
    remote: str,
    agent: str | None,
) -> Report:
    """Open the workspace and push to or pull from `remote` (`gitstate.push`/`pull`)."""
    options = context(ctx)
    with handled(), open_workspace(ctx, agent) as workspace:
        return operation(workspace, options.repo, _remote(ctx, remote), name=options.workspace)


@app.command()
def push(
    ctx: typer.Context,
    remote: RemoteArgument,
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Save the state on refs/crdtspace/<workspace> and push it, merging the remote's first."""
    from crdtspace.git import gitstate

    report = _exchange(ctx, gitstate.push, remote, agent)
    if as_json:
        print_json(dataclasses.asdict(report))
        return
    if report.merged:
        news = "new edits" if report.new_from_remote else "nothing new"
        out.print(
            f"Merged the remote's state ({report.received_bytes:,} bytes, {news}) "
            f"into the workspace."
        )
    if report.pushed:
        out.print(
            f"Pushed {report.ref} to {remote} ({report.sent_bytes:,} bytes, "
            f"commit {report.commit[:10]}, agents: {', '.join(report.agents) or 'none'})."
        )
    else:
        out.print(f"{remote} already has everything in {report.ref} ({report.commit[:10]}).")


@app.command()
def pull(
    ctx: typer.Context,
    remote: RemoteArgument,
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch the remote's state of this workspace and merge it in (a CRDT merge never fails)."""
    from crdtspace.git import gitstate

    report = _exchange(ctx, gitstate.pull, remote, agent)
    if as_json:
        print_json(dataclasses.asdict(report))
        return
    news = "new edits merged" if report.new else "nothing new"
    out.print(
        f"Pulled {report.ref} from {remote} ({report.received_bytes:,} bytes, "
        f"commit {report.commit[:10]}, agents: {', '.join(report.agents) or 'none'}): {news}."
    )
