"""Real git repositories for tests, the demo and benchmarks, made with the git CLI; and a
websocket client connection as a pycrdt Channel, for clients of `crdtspace serve`.

Nothing here depends on the caller's git configuration: every repository gets its identity,
``commit.gpgsign=false`` and ``core.autocrlf=false`` in its own config, and every git command
runs with ``init.defaultBranch=main`` and signing off. Files are written as bytes, exactly
(a ``str`` is encoded as UTF-8, with no newline translation).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

__all__ = ["GitFailed", "WebsocketChannel", "commit_files", "git", "make_repo"]

# Settings that make git behave the same whatever the user's global configuration says.
_SETTINGS = (
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "core.autocrlf=false",
)

# Variables a git hook (or an outer git command) may have set; they would redirect our commands.
_GIT_ENVIRONMENT = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
)


class GitFailed(subprocess.CalledProcessError):
    """A git command failed; unlike its base class, the message includes git's stderr."""

    def __str__(self) -> str:
        stderr = self.stderr.decode("utf-8", "replace").strip() if self.stderr else ""
        return f"{super().__str__()} {stderr}".strip()


def git(root: Path, *args: str) -> str:
    """Run ``git -C root args...`` (check=True) and return its standard output.

    Raises :class:`GitFailed` (a ``subprocess.CalledProcessError``) when git fails.
    """
    env = {key: value for key, value in os.environ.items() if key not in _GIT_ENVIRONMENT}
    command = ["git", "-C", str(root), *_SETTINGS, *args]
    completed = subprocess.run(command, capture_output=True, env=env, check=False)
    if completed.returncode != 0:
        raise GitFailed(completed.returncode, command, completed.stdout, completed.stderr)
    return completed.stdout.decode("utf-8", "surrogateescape")


def _config_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def make_repo(
    directory: Path,
    files: Mapping[str, str | bytes] | None = None,
    *,
    message: str = "initial",
    user: str = "Test User",
    email: str = "test@example.com",
) -> Path:
    """A new repository on branch ``main`` in ``directory``, with ``files`` committed if given."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    git(directory, "init", "--quiet", "--initial-branch=main")
    settings = {
        "user": {"name": user, "email": email},
        "commit": {"gpgsign": "false"},
        "tag": {"gpgsign": "false"},
        "core": {"autocrlf": "false"},
    }
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]\n")
        lines.extend(f"\t{key} = {_config_value(value)}\n" for key, value in values.items())
    with open(directory / ".git" / "config", "a", encoding="utf-8") as config:
        config.write("".join(lines))
    root = directory.resolve()
    if files:
        commit_files(root, files, message)
    return root


def commit_files(
    root: Path, files: Mapping[str, str | bytes | None], message: str = "change"
) -> str:
    """Write ``files`` (None deletes), ``git add -A``, commit; returns the new commit's sha."""
    root = Path(root)
    for path, content in files.items():
        target = root / path
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        with open(target, "wb") as handle:
            handle.write(data)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


class WebsocketChannel:
    """A `websockets` client connection as a pycrdt Channel (for `pycrdt.Provider`): messages
    in both directions, the iteration ending when the connection closes, and a message sent on
    a closed connection dropped (the provider's last sends race the close)."""

    def __init__(self, websocket: Any, path: str) -> None:
        self._websocket = websocket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> WebsocketChannel:
        return self

    async def __anext__(self) -> bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        with suppress(ConnectionClosed):
            await self._websocket.send(message)

    async def recv(self) -> bytes:
        message = await self._websocket.recv()
        return message.encode() if isinstance(message, str) else bytes(message)
