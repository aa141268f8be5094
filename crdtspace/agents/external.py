"""External agents: a program (``claude -p ...``, codex, aider, a script) run by `Runner` in a
working directory of its own, kept in sync both ways with the workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crdtspace.agents.plan import AgentPlan
    from crdtspace.agents.runner import Runner
    from crdtspace.agents.tools import Session


async def run_command(runner: Runner, plan: AgentPlan, session: Session) -> None:
    """Run `plan.command` to its end (to be written)."""
    raise NotImplementedError("external agents are not written yet")
