"""`crdtspace claim|release|claims`: tell the other agents what you are about to edit."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from crdtspace.cli.common import (
    AgentOption,
    JsonOption,
    agent_name,
    app,
    handled,
    open_workspace,
    out,
    print_json,
    split_ref,
)

if TYPE_CHECKING:
    from crdtspace.model.claims import Claim


@app.command()
def claim(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="Files or nodes (PATH or PATH::NAME).")],
    ttl: Annotated[float, typer.Option("--ttl", help="Seconds the claim lasts.")] = 300.0,
    note: Annotated[str, typer.Option("--note", help="What you are doing.")] = "",
    agent: AgentOption = None,
) -> None:
    """Claim files or nodes for a while: the other agents see it (in their tool results,
    `status` and `claims`). Advisory: nothing is locked."""
    from crdtspace.model import claims as board

    with handled(), open_workspace(ctx, agent) as workspace:
        who = agent_name(agent) or workspace.agent
        for ref in refs:
            made = board.hold(workspace, split_ref(ctx, ref), agent=who, ttl=ttl, note=note)
            others = [
                c
                for c in board.in_document(workspace)
                if (c.path, c.node) == (made.path, made.node) and c.agent != who
            ]
            also = "; also claimed by " + ", ".join(c.agent for c in others) if others else ""
            out.print(
                f"{who} claims {_place(made)} until {_time(made.expires)}{also}", markup=False
            )


@app.command()
def release(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="Files or nodes (PATH or PATH::NAME).")],
    agent: AgentOption = None,
) -> None:
    """Withdraw your claims."""
    from crdtspace.model import claims as board

    with handled(), open_workspace(ctx, agent) as workspace:
        who = agent_name(agent) or workspace.agent
        for ref in refs:
            had = board.drop(workspace, split_ref(ctx, ref), agent=who)
            out.print(f"{'released' if had else 'no claim on'} {ref}", markup=False)


@app.command(name="claims")
def list_claims(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every live claim held in the workspace: agent, place, until when, note."""
    from crdtspace.model import claims as board

    with handled(), open_workspace(ctx) as workspace:
        found = board.in_document(workspace)
    if as_json:
        print_json([claim_json(c) for c in found])
        return
    if not found:
        out.print("no live claim")
    for c in found:
        note = f" ({c.note})" if c.note else ""
        out.print(f"{c.agent} claims {_place(c)} until {_time(c.expires)}{note}", markup=False)


def claim_json(claim: Claim) -> dict[str, object]:
    """A claim as `claims --json` and `status --json` print it."""
    return {
        "agent": claim.agent,
        "path": claim.path,
        "node": claim.node,
        "name": claim.name,
        "until": claim.expires,
        "note": claim.note,
    }


def _place(claim: Claim) -> str:
    return f"{claim.path}::{claim.name or claim.node}" if claim.node else claim.path


def _time(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when))
