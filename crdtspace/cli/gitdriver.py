"""`crdtspace merge-driver` as git runs it: once per conflicting file, with typer left out.

git starts the driver in a process of its own for every file both branches changed, so what
the process imports is paid per file: this module parses git's arguments itself and imports
the library's merge only, never typer, rich or the command modules (`crdtspace.cli.main`
sends ``merge-driver`` here first). Anything it does not recognise (``--help``, a misspelt
option) returns None, and the typer command (`crdtspace.cli.merge_driver`, the same `drive`)
answers as for any command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MARKER_SIZE = 7
"""git's conflict marker length unless told (= `crdtspace.git.mergedriver.MARKER_SIZE`)."""
TIMEOUT = 10.0
"""Seconds before falling back to git's merge, unless told."""
UNREADABLE = 2
"""The exit status when a version cannot be read or the result written: an error, not a
conflict (1), as `crdtspace merge` exits 2 on an error."""
KILL_SWITCH = "CRDTSPACE_MERGE_DRIVER"
"""Set to ``off`` (or ``0``) to make the driver behave exactly like ``git merge-file``."""


def main(argv: list[str]) -> int | None:
    """Run the driver on `argv` (the arguments after ``merge-driver``): its exit code, or None
    when the arguments are not a plain driver call (the typer command then answers)."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    files, marker_size, timeout = parsed
    base, current, other = (Path(f) for f in files[:3])
    return drive(base, current, other, files[3], marker_size=marker_size, timeout=timeout)


def _parse(argv: list[str]) -> tuple[list[str], int, float] | None:
    files: list[str] = []
    options = {"--marker-size": str(MARKER_SIZE), "--timeout": str(TIMEOUT)}
    args = iter(argv)
    for arg in args:
        name, equals, value = arg.partition("=")
        if name in options:
            value = value if equals else next(args, "")
            options[name] = value
        elif arg.startswith("-") and arg != "-":
            return None
        else:
            files.append(arg)
    try:
        marker_size, timeout = int(options["--marker-size"]), float(options["--timeout"])
    except ValueError:
        return None
    return (files, marker_size, timeout) if len(files) == 4 else None


def drive(
    base: Path,
    current: Path,
    other: Path,
    path: str,
    *,
    marker_size: int = MARKER_SIZE,
    timeout: float = TIMEOUT,
) -> int:
    """Merge `current` (overwritten with the result) and `other` from `base`, for the file
    `path`: 0 clean, 1 with conflicts, 2 when an input cannot be read or the result cannot be
    written (nothing merged)."""
    versions = {"base": base, "current": current, "other": other}
    try:
        data = {role: _load(role, file) for role, file in versions.items()}
    except _Unreadable as exc:
        _say(f"crdtspace: {exc}")
        return UNREADABLE
    if os.environ.get(KILL_SWITCH, "").lower() in ("off", "0", "false", "no"):
        return _plain(base, current, other, marker_size, "the driver is switched off")
    try:
        from crdtspace.git.mergejob import merge_versions

        b, c, o = data.values()
        merged = merge_versions(b, c, o, path, marker_size=marker_size, timeout=timeout)
    except Exception as exc:  # never a traceback: git's own merge instead
        merged = f"internal error ({exc!r})"
    if isinstance(merged, str):
        return _plain(base, current, other, marker_size, merged)
    try:
        from crdtspace.git.mergeclient import write_atomic

        write_atomic(current, merged.data)
    except OSError as exc:
        _say(f"crdtspace: {_Unreadable('current', current, exc, 'write')}")
        return UNREADABLE
    for line in merged.report:
        _say(line)
    return merged.code


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


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def _plain(base: Path, current: Path, other: Path, marker_size: int, why: str) -> int:
    """git's own merge, in place (the fallback that cannot fail); returns the exit code."""
    _say(f"crdtspace: {why}; using git merge-file")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    command = ["git", "merge-file", "--diff3", f"--marker-size={marker_size}"]
    command += ["-L", "left", "-L", "base", "-L", "right", str(current), str(base), str(other)]
    done = subprocess.run(command, capture_output=True, check=False, env=env)
    if done.returncode < 0 or done.returncode > 127:  # git itself failed (not a conflict count)
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        _say(f"crdtspace: git merge-file failed: {lines[0] if lines else '?'}")
        return UNREADABLE
    return 0 if done.returncode == 0 else 1
