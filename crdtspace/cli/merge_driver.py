"""`crdtspace merge-driver BASE CURRENT OTHER PATH`: git's merge driver (%O %A %B %P %L)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crdtspace.cli.common import app, err

if TYPE_CHECKING:
    from crdtspace.git.mergedriver import MergeOutcome

MARKER_SIZE = 7
"""git's conflict marker length unless told (= crdtspace.git.mergedriver.MARKER_SIZE; not
imported here, so that `--help` imports no model)."""

UNREADABLE = 2
"""The exit status when a version cannot be read or the result written: an error, not a
conflict (1), as `crdtspace merge` exits 2 on an error."""

KILL_SWITCH = "CRDTSPACE_MERGE_DRIVER"
"""Set to ``off`` (or ``0``) to make the driver behave exactly like ``git merge-file``."""


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
    ] = 10.0,
) -> None:
    """Merge one file syntax-aware, never worse than git: exit 0 clean, 1 with conflicts, 2
    when an input cannot be read or the result cannot be written (nothing merged)."""
    versions = {"base": base, "current": current, "other": other}
    try:
        data = {role: _load(role, file) for role, file in versions.items()}
    except _Unreadable as exc:
        err.print(f"crdtspace: {exc}", markup=False)
        raise typer.Exit(UNREADABLE) from None
    if os.environ.get(KILL_SWITCH, "").lower() in ("off", "0", "false", "no"):
        raise typer.Exit(_plain(base, current, other, marker_size, "the driver is switched off"))
    try:
        texts = [_text(data[role]) for role in versions]
        if any(t is None for t in texts):
            raise typer.Exit(_plain(base, current, other, marker_size, "a version is not text"))
        b, c, o = (t or "" for t in texts)
        from crdtspace.git.mergedriver import merge_files

        outcome = merge_files(b, c, o, path, timeout=timeout, marker_size=marker_size)
        try:
            current.write_bytes(outcome.text.encode("utf-8", "surrogateescape"))
        except OSError as exc:
            err.print(f"crdtspace: {_Unreadable('current', current, exc, 'write')}", markup=False)
            raise typer.Exit(UNREADABLE) from None
    except typer.Exit:
        raise
    except Exception as exc:  # never a traceback: git's own merge instead
        raise typer.Exit(
            _plain(base, current, other, marker_size, f"internal error ({exc!r})")
        ) from None
    _report(path, outcome)
    raise typer.Exit(0 if outcome.clean else 1)


class _Unreadable(Exception):
    """An input the driver cannot read (or the result it cannot write): which one, and why."""

    def __init__(self, role: str, path: Path, error: OSError, verb: str = "read") -> None:
        why = error.strerror or type(error).__name__
        super().__init__(f"cannot {verb} the {role} version {str(path)!r}: {why}")


def _load(role: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Unreadable(role, path, exc) from None


def _text(data: bytes) -> str | None:
    if b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _report(path: str, outcome: MergeOutcome) -> None:
    how = outcome.method
    if outcome.fallback_reason:
        how += f" ({outcome.fallback_reason})"
    state = "merged cleanly" if outcome.clean else "has conflicts"
    err.print(f"crdtspace: {path} {state}: {how}", markup=False)
    for conflict in outcome.conflicts:
        where = ", ".join(str(p) for p in conflict.places)
        err.print(f"  {conflict.kind}: {conflict.message} [{where}]", markup=False)


def _plain(base: Path, current: Path, other: Path, marker_size: int, why: str) -> int:
    """git's own merge, in place (the fallback that cannot fail); returns the exit code."""
    err.print(f"crdtspace: {why}; using git merge-file", markup=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    command = ["git", "merge-file", "--diff3", f"--marker-size={marker_size}"]
    command += ["-L", "left", "-L", "base", "-L", "right", str(current), str(base), str(other)]
    done = subprocess.run(
        command,
        capture_output=True,
        check=False,
        env=env,
    )
    if done.returncode < 0 or done.returncode > 127:  # git itself failed (not a conflict count)
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        err.print(f"crdtspace: git merge-file failed: {lines[0] if lines else '?'}", markup=False)
        return UNREADABLE
    return 0 if done.returncode == 0 else 1
