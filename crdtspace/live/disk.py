"""The watcher's dealings with the disk: atomic writes, text told from binary, git's ignores.

Also `WatchEvent`, what the watcher reports it did or noticed, and `Binary`, why a file on
disk stays git-only. `crdtspace.live.watch` has the watcher itself.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from crdtspace.conflicts.findings import Conflict
from crdtspace.errors import CrdtspaceError
from crdtspace.git import gitio

__all__ = [
    "TEMP_MARK",
    "Binary",
    "Disk",
    "WatchEvent",
    "atomic_write",
    "git",
    "not_ours",
    "user_name",
]

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, at import (os.umask has no read-only form)

TEMP_MARK = ".crdtspace-tmp"
"""In the name of the temporary files of atomic writes (never mirrored)."""


@dataclass(frozen=True)
class Binary:
    """A file on disk that stays git-only: why."""

    reason: str


@dataclass(frozen=True)
class WatchEvent:
    """One thing the watcher did or noticed.

    `kind` is one of: ``saved`` (an editor save became an edit), ``created``, ``removed`` (a
    file new or deleted on disk, now in or out of the workspace), ``written`` and ``deleted``
    (a remote change written to disk; also the merge of a save written back), ``merged`` (a
    save made from a version the workspace has changed the file since, merged with those
    remote edits cleanly), ``conflict`` (the same, with overlapping changes: `conflicts`, the
    new open conflicts the editor is part of; or, with `method` ``keep``, a file deleted on
    one side and edited on the other, kept), ``refused`` (a save the workspace did not take,
    e.g. one that changed an open overlap's conflict block but kept its markers: `detail` says
    why; the file is left as saved), ``skipped`` (a file left to git: `detail` says why).
    """

    kind: str
    path: str
    detail: str = ""
    method: str = ""
    conflicts: tuple[Conflict, ...] = ()
    at: float = field(default_factory=time.monotonic, compare=False)


Disk = str | None | Binary


def atomic_write(target: Path, text: str, git_mode: str) -> None:
    """Write through a temporary file in the same folder and `os.replace` (keeping the mode)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o755 if git_mode == gitio.MODE_EXECUTABLE else 0o644
        mode &= ~_UMASK
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_MARK, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def not_ours(change: watchfiles.Change, path: str) -> bool:
    """watchfiles filter: nothing under .git, none of our temporary files."""
    parts = Path(path).parts
    return ".git" not in parts and TEMP_MARK not in parts[-1]


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), *args],
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        check=False,
    )
    if completed.returncode not in (0, 1):  # check-ignore: 1 means "nothing ignored"
        stderr = completed.stderr.decode("utf-8", "replace").strip()
        raise OSError(f"git {args[0]} failed: {stderr}")
    return completed.stdout.decode("utf-8", "surrogateescape")


def user_name(root: Path) -> str:
    try:
        return gitio.user_name(gitio.open_repo(root))
    except CrdtspaceError:
        return os.environ.get("USER", "") or "anonymous"
