"""`crdtspace merge-driver BASE CURRENT OTHER PATH`: git's merge driver (%O %A %B %P %L).

git's own calls do not come here: `crdtspace.cli.main` hands them to `crdtspace.cli.gitdriver`
(the same `drive`, without typer); this command answers `--help` and anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crdtspace.cli.common import app
from crdtspace.cli.gitdriver import KILL_SWITCH, MARKER_SIZE, TIMEOUT, UNREADABLE, drive

__all__ = ["KILL_SWITCH", "UNREADABLE", "merge_driver"]


@app.command("merge-driver")
def merge_driver(
    base: Annotated[Path, typer.Argument(help="The common ancestor's version (git's %O).")],
    current: Annotated[
        Path, typer.Argument(help="Our version, overwritten with the result (git's %A).")
    ],
    other: Annotated[Path, typer.Argument(help="Their version (git's %B).")],
    path: Annotated[str, typer.Argument(help="The file's path in the repository (git's %P).")],
    marker_size: Annotated[
        int, typer.Option("--marker-size", help="Conflict marker length (git's %L).")
    ] = MARKER_SIZE,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds before falling back to git's merge.")
    ] = TIMEOUT,
) -> None:
    """Merge one file syntax-aware, never worse than git: exit 0 clean, 1 with conflicts, 2
    when an input cannot be read or the result cannot be written (nothing merged)."""
    raise typer.Exit(drive(base, current, other, path, marker_size=marker_size, timeout=timeout))
