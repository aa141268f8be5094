"""Paths in the workspace: relative to the repository root, or refused; and the size limit.

Every path an agent gives is made relative to the root, or refused (outside it, into `.git`,
through a symbolic link); a file past the size limit stays in git only.
"""

from __future__ import annotations

import os
from pathlib import Path

from crdtspace.errors import PathError

DEFAULT_SIZE_LIMIT: int = 1 << 20
"""1 MiB: bigger text files stay git-only."""


def safe_relpath(root: Path | None, path: str) -> str:
    """A posix path relative to the repository root, or PathError.

    An absolute path must lie inside ``root`` (symbolic links in the directories above it are
    resolved, so /tmp and /private/tmp agree; the last component is never followed). A relative
    path is taken from the repository root. ``.`` and ``..`` are folded lexically; a path that
    leaves the root, is empty, names the root itself, goes into ``.git`` or holds a NUL byte is
    refused, and so is one that goes through a symbolic link inside ``root``.
    """
    if "\0" in path:
        raise PathError(f"The path {path!r} contains a NUL byte.")
    if not path:
        raise PathError("The path '' is empty.", hint="name a file in the repository")
    relative: str
    if os.path.isabs(path):
        if root is None:
            raise PathError(
                f"The path {path!r} is absolute; give it relative to the repository root."
            )
        inside = _inside(Path(root), path)
        if inside is None:
            raise PathError(f"The path {path!r} is outside the repository.")
        relative = inside
    else:
        relative = path
    parts: list[str] = []
    for part in relative.replace(os.sep, "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathError(f"The path {path!r} is outside the repository.")
            parts.pop()
            continue
        parts.append(part)
    if not parts:
        raise PathError(
            f"The path {path!r} names the repository root, not a file.",
            hint="name a file in the repository",
        )
    if any(part.lower() == ".git" for part in parts):
        raise PathError(f"The path {path!r} points into .git, which crdtspace never edits.")
    if root is not None:
        # Like git: a path may not go through a symbolic link (it could lead anywhere).
        directory = Path(root)
        for part in parts[:-1]:
            directory = directory / part
            if directory.is_symlink():
                raise PathError(f"The path {path!r} is beyond a symbolic link.")
    return "/".join(parts)


def _inside(root: Path, path: str) -> str | None:
    """``path`` (absolute) relative to ``root``, or None when it lies outside."""
    lexical = Path(os.path.normpath(path))
    roots = [Path(os.path.normpath(root)), root.resolve()]
    # Resolve the directories above the last component (not the component itself: a tracked
    # symbolic link is a file of the repository, whatever it points to).
    candidates = [lexical, lexical.parent.resolve() / lexical.name]
    for candidate in candidates:
        for base in roots:
            if candidate == base:
                return "."
            if candidate.is_relative_to(base):
                return candidate.relative_to(base).as_posix()
    return None
