"""`crdtspace commit -m MSG`: the commit gate, from the command line."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crdtspace.cli.common import (
    SERVED_STATUS,
    AgentOption,
    CheckOption,
    JsonOption,
    NoCheckOption,
    app,
    handled,
    open_workspace,
    out,
    print_json,
)
from crdtspace.git.presence import SILENT_AFTER, Connected
from crdtspace.model.logentry import decode_state

if TYPE_CHECKING:
    from crdtspace.git.gate import Step

LAST_STEPS = ("commit", "worktree")
"""Steps shown when the gate returns rather than as they come (see `progress` below)."""

SilentAfterOption = Annotated[
    float,
    typer.Option(
        "--silent-after",
        metavar="SECONDS",
        help="Stop waiting for a replica not heard of for this long (it is silent).",
    ),
]


def served_peers() -> tuple[Connected, ...] | None:
    """The clients connected to the workspace service running this command (its status: each
    client's ids and published state vector), for the gate; None when not run by a service."""
    status = SERVED_STATUS.get()
    if status is None:
        return None
    found: list[Connected] = []
    clients: Any = status.get("clients")
    for client in clients if isinstance(clients, list) else []:
        if not isinstance(client, dict):
            continue
        try:
            state = dict(decode_state(bytes.fromhex(str(client.get("state_vector") or ""))))
        except ValueError:
            state = {}
        agent = str(client.get("agent") or "")
        ids = client.get("client_ids")
        for number in ids if isinstance(ids, list) else []:
            if isinstance(number, int):
                found.append(Connected(number, agent, state))
    return tuple(found)


@app.command()
def commit(
    ctx: typer.Context,
    message: Annotated[str, typer.Option("--message", "-m", help="The commit message.")],
    check: CheckOption = None,
    no_check: NoCheckOption = False,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for replicas that are behind.")
    ] = 0.0,
    allow_behind: Annotated[
        bool,
        typer.Option("--allow-behind", help="Commit without the edits of replicas behind."),
    ] = False,
    silent_after: SilentAfterOption = SILENT_AFTER,
    agent: AgentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Commit the converged, conflict-free state to the branch (exit 1 if the gate refuses).

    Checks convergence, conflicts and broken code, syntax, then the project's check command in
    a temporary worktree; writes the commit with the contributing agents as co-authors, moves
    the branch by compare-and-swap, and brings the index and working tree along wherever they
    hold no uncommitted work (paths left alone are named). Replicas that closed cleanly are
    never waited for; one not heard of for --silent-after seconds is silent and no longer
    waited for (`crdtspace replicas` lists them)."""
    from crdtspace.git.gate import GateOptions
    from crdtspace.git.gate import commit as run_gate

    shown: list[Step] = []

    def show(step: Step) -> None:
        shown.append(step)
        if not as_json:
            mark = "ok  " if step.ok else "FAIL"
            out.print(f"{mark} {step.name:12} {step.detail}", markup=False)

    def progress(step: Step) -> None:
        # The checks as they finish (the project's check may take minutes); the last steps
        # once the gate is done, so that every step of its report shows, in its order.
        if step.name not in LAST_STEPS:
            show(step)

    with handled(), open_workspace(ctx, agent) as workspace:
        options = GateOptions(
            message,
            check,
            wait,
            allow_behind,
            not no_check,
            progress,
            silent_after=silent_after,
            connected=served_peers(),
        )
        report = run_gate(workspace, options)
    for step in report.steps:  # those the gate reports without calling back: "no check
        if not any(step is seen for seen in shown):  # configured", "nothing to commit"
            show(step)
    if as_json:
        print_json(
            {
                "committed": report.commit,
                "branch": report.branch,
                "files": report.files_changed,
                "coauthors": report.coauthors,
                "kept": report.kept,
                "steps": [asdict(s) for s in report.steps],
            }
        )
    elif report.commit is not None:
        out.print(f"committed {report.commit[:10]} on {report.branch}", markup=False)
    if report.commit is None:
        raise typer.Exit(1)
