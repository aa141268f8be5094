"""External agents: a program (``claude -p ...``, codex, aider, a script) run by `Runner` in a
working directory of its own, kept in sync both ways with the workspace.

The directory is a git worktree of the workspace's base commit, in a temporary folder outside
the repository. A `Watcher` (as the agent ``plan.name``) keeps it and the workspace in step while
the program runs: what the other agents edit reaches its files, and what it saves becomes its
edits. The watcher's start writes the workspace's edits so far to the tree; its stop scans the
tree once more, so no save is lost. The watcher's threads hold `Runner.lock`, as the runner's own
tool calls do.

A program that speaks MCP (``mcp = true``, the default) gets the workspace's tools from the
runner itself: MCP over streamable HTTP on 127.0.0.1, on a port and with a bearer token of its
own, its calls made on its own session and told like any agent's (`Runner._call`). The client
config (``{"mcpServers": {"crdtspace": {"type": "http", ...}}}``, as Claude Code reads it with
``--mcp-config``) is written next to the worktree, never in it (the watcher would take it for a
new file of the repository).

The command runs with ``/bin/sh -c`` in its own process group, in the worktree; its output goes
to ``<agent>.out`` in the run's folder. Placeholders in it: ``{task}`` (shell-quoted),
``{agent}``, ``{mcp_config}`` (the config file's path) and ``{mcp_url}``; its environment has the
same values as ``CRDTSPACE_TASK``, ``CRDTSPACE_AGENT``, ``CRDTSPACE_MCP_CONFIG`` and
``CRDTSPACE_MCP_URL``, and the token as ``CRDTSPACE_TOKEN``. It ends when the program exits (a
non-zero exit is an `ExternalError` naming the exit and the output's last line) or when the
runner cancels it (its budget of seconds): the process group gets SIGTERM, then SIGKILL after
`GRACE` seconds. However it ends, the watcher is stopped and the worktree removed; the
program's edits stay in the workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crdtspace.agents.mcp import refuse
from crdtspace.agents.tools import ToolError
from crdtspace.errors import CrdtspaceError
from crdtspace.live.access import bind_socket, request_token
from crdtspace.live.watch import Watcher

if TYPE_CHECKING:
    from crdtspace.agents.plan import AgentPlan
    from crdtspace.agents.runner import Runner
    from crdtspace.agents.tools import Session

__all__ = ["GRACE", "Endpoint", "ExternalError", "client_config", "command_line", "run_command"]

GRACE = 2.0
"""Seconds a stopped program has between SIGTERM and SIGKILL."""
SERVER_STOP = 5.0
"""Seconds the MCP server has to close once its program has ended."""
LOG = logging.getLogger(__name__)
_MCP_ONLY = ("mcp_config", "mcp_url")
_TOLD = {f"CRDTSPACE_{k}" for k in ("AGENT", "TASK", "MCP_CONFIG", "MCP_URL", "TOKEN")}
"""The variables a program is given (an outer run's are not passed on)."""


class ExternalError(CrdtspaceError):
    """An external agent's program that failed: its exit and the last line of its output."""


@dataclass(frozen=True)
class Endpoint:
    """Where an external agent finds the workspace's tools: the URL, its token, its config."""

    url: str
    token: str
    config: Path


async def run_command(runner: Runner, plan: AgentPlan, session: Session) -> None:
    """Run `plan.command` in a worktree of its own to its end (see the module docstring)."""
    from crdtspace.agents.runner import RunError

    root = runner.workspace.root
    if root is None:
        raise RunError(f"{plan.name}: an external agent needs a workspace with a repository.")
    with runner.lock:
        base = str(runner.workspace.document.meta.get("base", ""))
    if not base:
        raise RunError(f"{plan.name}: the workspace names no base commit to check out.")
    scratch = Path(tempfile.mkdtemp(prefix="crdtspace-agent-"))
    tree = scratch / "tree"
    try:
        _add_worktree(root, tree, base)
        watcher = Watcher(runner.workspace, root=tree, agent=plan.name, lock=runner.lock)
        try:
            await _settled(watcher.start)
            async with _served(runner, plan, session, scratch) as endpoint:
                await _run_program(runner, plan, tree, scratch, endpoint)
        finally:
            await _settled(watcher.stop)
            for error in watcher.errors:  # (kept by its threads; the last scan still ran)
                LOG.warning("The worktree watcher of %s: %s", plan.name, error)
    finally:
        _remove_worktree(root, tree)
        shutil.rmtree(scratch, ignore_errors=True)


# -- the program ---------------------------------------------------------------------------


async def _run_program(
    runner: Runner, plan: AgentPlan, tree: Path, scratch: Path, endpoint: Endpoint | None
) -> None:
    values = {
        "task": plan.task,
        "agent": plan.name,
        "mcp_config": str(endpoint.config) if endpoint else "",
        "mcp_url": endpoint.url if endpoint else "",
    }
    command = command_line(plan.command or "", values, mcp=endpoint is not None)
    output = runner.folder / f"{plan.name}.out" if runner.folder else scratch / "output"
    with open(output, "ab") as out:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            cwd=tree,
            env=_environment(values, endpoint),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    runner._event({"type": "process", "agent": plan.name, "pid": process.pid, "tree": str(tree)})
    try:
        code = await process.wait()
    finally:
        await _end_group(process)  # (what it started and left running too)
    if code != 0:
        raise ExternalError(f"{_exit(code)}: {_last_line(output)}")


def command_line(command: str, values: dict[str, str], *, mcp: bool = True) -> str:
    """The command with its placeholders filled: ``{task}`` shell-quoted, ``{agent}``,
    ``{mcp_config}`` and ``{mcp_url}`` as they are (a name, a path, a URL)."""
    if not mcp:
        named = [key for key in _MCP_ONLY if "{" + key + "}" in command]
        if named:
            raise ExternalError(
                f"its command names {{{named[0]}}}, but it has no MCP server (mcp = false)."
            )
    for key, value in values.items():
        command = command.replace("{" + key + "}", shlex.quote(value) if key == "task" else value)
    return command


def _environment(values: dict[str, str], endpoint: Endpoint | None) -> dict[str, str]:
    # (GIT_DIR and the like, set when run from a hook, would point its git at another tree)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in _TOLD}
    env["CRDTSPACE_AGENT"] = values["agent"]
    env["CRDTSPACE_TASK"] = values["task"]
    if endpoint is not None:
        env["CRDTSPACE_MCP_CONFIG"] = str(endpoint.config)
        env["CRDTSPACE_MCP_URL"] = endpoint.url
        env["CRDTSPACE_TOKEN"] = endpoint.token
    return env


async def _end_group(process: asyncio.subprocess.Process) -> None:
    """The program's process group ended: SIGTERM, then SIGKILL to what is left after
    `GRACE` seconds; returns once the program itself has been reaped."""
    group = process.pid
    if not _signal(group, signal.SIGTERM):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GRACE
    while loop.time() < deadline:
        if process.returncode is not None and not _running(group):
            return
        await asyncio.sleep(0.05)
    _signal(group, signal.SIGKILL)
    await process.wait()


def _signal(group: int, number: int) -> bool:
    """Send `number` to the process group; False when no process of it is left."""
    try:
        os.killpg(group, number)
    except ProcessLookupError:
        return False
    except PermissionError:  # (a member that changed its user: nothing more we may do)
        return False
    return True


def _running(group: int) -> bool:
    """Whether a process of the group still runs. A zombie does not: one left to an init that
    does not reap (in a container) would otherwise count until SIGKILL."""
    if not _signal(group, 0):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True  # (no /proc: take the group as running)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # (gone meanwhile)
        if fields[2] == str(group) and fields[0] != "Z":
            return True
    return False


def _exit(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit {code}"


def _last_line(output: Path) -> str:
    """The last line the program printed (from the end of its output file)."""
    try:
        with open(output, "rb") as stream:
            stream.seek(max(0, stream.seek(0, os.SEEK_END) - 4096))
            tail = stream.read().decode("utf-8", "replace")
    except OSError:
        return "(no output)"
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


async def _settled(work: Callable[[], None]) -> None:
    """Run blocking `work` in a thread; when cancelled meanwhile, wait for its end anyway
    (starting and stopping a watcher must not be cut short), then be cancelled."""
    done = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        await asyncio.shield(done)
    except asyncio.CancelledError:
        await done
        raise


# -- the worktree ---------------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["CRDTSPACE_HOOKS"] = "0"  # (a checkout of ours is no event for crdtspace's hooks)
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _add_worktree(root: Path, tree: Path, base: str) -> None:
    done = _git(root, "worktree", "add", "--detach", "--quiet", str(tree), base)
    if done.returncode != 0:
        raise ExternalError(f"cannot make a worktree of {base[:10]}: {done.stderr.strip()}")


def _remove_worktree(root: Path, tree: Path) -> None:
    if tree.exists():
        _git(root, "worktree", "remove", "--force", str(tree))
    _git(root, "worktree", "prune")


# -- the tools over MCP ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _served(
    runner: Runner, plan: AgentPlan, session: Session, scratch: Path
) -> AsyncIterator[Endpoint | None]:
    """The workspace's tools served to the agent while the block runs (None: mcp = false)."""
    if not plan.mcp:
        yield None
        return
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    from crdtspace.agents.mcp import loopback_manager, server

    async def call(ctx: Any, name: str, arguments: dict[str, Any]) -> str:
        text, error = runner._call(plan, session, name, arguments)
        if error:
            raise ToolError(text)
        return text

    manager = loopback_manager(server(call))
    token = secrets.token_urlsafe(32)
    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    config = scratch / "mcp.json"
    _write_private(config, json.dumps(client_config(url, token), indent=2) + "\n")
    stop = asyncio.Event()
    app = _guarded(StreamableHTTPASGIApp(manager), token)
    serving = asyncio.create_task(_serve(app, manager, sock, stop))
    try:
        yield Endpoint(url, token, config)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(serving, SERVER_STOP)
        except Exception as error:  # (the agent is over: its server's end is logged, not raised)
            LOG.warning("The MCP server of %s ended badly: %s", plan.name, error)


def client_config(url: str, token: str) -> dict[str, Any]:
    """The MCP client config that names the workspace's tools at `url` (Claude Code's
    ``--mcp-config`` form; others read the same ``mcpServers`` table)."""
    entry = {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}
    return {"mcpServers": {"crdtspace": entry}}


async def _serve(app: Any, manager: Any, sock: Any, stop: asyncio.Event) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket now
    config.accesslog = None
    config.errorlog = LOG
    config.graceful_timeout = 1.0
    async with manager.run():
        await serve(app, config, shutdown_trigger=stop.wait, mode="asgi")


def _guarded(inner: Any, token: str) -> Any:
    """The MCP app, answering only requests that present `token` (``Authorization: Bearer``)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return  # (no websockets here)
        given = (request_token(scope) or "").encode()
        if not secrets.compare_digest(given, token.encode()):
            await refuse(send, 401, "a valid token is required")
            return
        await inner(scope, receive, send)

    return app


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (it holds a token)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
