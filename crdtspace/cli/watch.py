"""`crdtspace watch`: mirror the working tree and the workspace both ways, live."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from crdtspace.cli.common import AGENT_ENV, agent_name, app, context, handled, joined_or_opened, out

if TYPE_CHECKING:
    from crdtspace.live.disk import WatchEvent
    from crdtspace.live.watch import Watcher

_VERBS = {
    "saved": "saved",
    "created": "created",
    "removed": "removed",
    "written": "updated on disk",
    "deleted": "deleted on disk",
    "merged": "merged (a save raced a remote edit)",
    "conflict": "CONFLICT (a save raced a remote edit; both kept)",
    "skipped": "left to git",
    "refused": "save REFUSED, the file is left as saved",
}


@app.command()
def watch(
    ctx: typer.Context,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            help=f"Who the saves are by (default: ${AGENT_ENV}, else editor:<git user.name>).",
        ),
    ] = None,
    step: Annotated[
        int, typer.Option("--step", help="Quiet time (ms) before a batch of saves is read.")
    ] = 15,
) -> None:
    """Keep the working tree and the workspace in sync both ways until interrupted (Ctrl-C).

    Files saved in an editor become edits by editor:<user>; edits from other replicas are
    written to the files. Files ignored by git and binary files are left alone."""
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly on SIGTERM, as on Ctrl-C
    with handled(), joined_or_opened(ctx, agent_name(agent) or "watch") as workspace:
        from crdtspace.live.watch import Watcher

        watcher = Watcher(workspace, context(ctx).repo, agent=agent_name(agent), step_ms=step)
        watcher.start()
        out.print(f"watching {watcher.root} as {watcher.agent} (Ctrl-C stops)")
        shown = 0
        try:
            while True:
                time.sleep(0.2)
                shown = _show(watcher, shown)
        except KeyboardInterrupt:  # the way to stop watching: not an error (exit 0)
            pass
        finally:
            watcher.stop()
        _show(watcher, shown)  # what the last scan found


def _show(watcher: Watcher, shown: int) -> int:
    """Print the events after the first `shown`, and errors; returns how many are shown."""
    with watcher.lock:
        events, errors = watcher.events[shown:], list(watcher.errors)
        watcher.errors.clear()
    for event in events:
        out.print(_line(event), markup=False)
    for error in errors:
        out.print(f"error: {error}", markup=False)
    return shown + len(events)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _line(event: WatchEvent) -> str:
    line = f"{event.path}: {_VERBS.get(event.kind, event.kind)}"
    if event.detail:
        line += f" ({event.detail})"
    for conflict in event.conflicts:
        line += f"\n  {conflict.kind}: {conflict.message} [{conflict.id[:8]}]"
    return line
