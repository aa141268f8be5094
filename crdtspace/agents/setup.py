"""How an agent gets in: its session on the workspace service, its client's config, its guide.

`join(repo, ...)` finds the repository's workspace service (starting one when none runs) and
connects a networked replica to it under a name of its own; `client_config(client, repo)`
is the snippet that makes Claude Code, Codex or Cursor start `crdtspace mcp`; `GUIDE` is what
to put in `AGENTS.md` or `CLAUDE.md`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path

from crdtspace.agents.tools import Session, networked
from crdtspace.errors import CrdtspaceError
from crdtspace.git import gitio
from crdtspace.live.service import ensure_service
from crdtspace.workspace import Workspace

CLIENTS = ("claude", "codex", "cursor")
PRESENCE_WAIT = 0.3
"""Seconds a joining agent waits for the others' presence before it picks its name."""


def join(
    repo: Path | str,
    *,
    workspace: str = "default",
    agent: str | None = None,
    client: str | None = None,
    check: str | None = None,
    idle_timeout: float = 600.0,
    url: str | None = None,
    token: str | None = None,
) -> Session:
    """A session on the repository's workspace service (started when none runs), as `agent`,
    else under a readable name of its own made from the client's (`claude-code-2`). With
    `url` (and its `token`), on that server instead: another `crdtspace serve`, a y-websocket
    server, or a Hocuspocus node (``hocuspocus+ws://``)."""
    root = gitio.repo_root(gitio.open_repo(Path(repo)))
    name = agent or _slug(client or "agent")
    address, secret, named = _server(repo, workspace, idle_timeout, url, token)
    replica = Workspace.connect(address, secret, agent=name, root=root, workspace=named)
    live = networked(replica)
    if live is not None:
        time.sleep(PRESENCE_WAIT)  # (the others' presence arrives just after the first sync)
    if agent is None and live is not None:
        present = live.present()
        number = 1
        while f"{name}-{number}" in present:
            number += 1
        live.rename_agent(f"{name}-{number}")
    return Session(replica, replica.agent, check=check)


def _server(
    repo: Path | str, workspace: str, idle_timeout: float, url: str | None, token: str | None
) -> tuple[str, str, str]:
    """The URL, token and workspace name to join: `url`'s, else the workspace service's
    (started if need be)."""
    if url is not None:
        return url, token or "", workspace
    service = ensure_service(repo, workspace, idle_timeout=idle_timeout)
    return service.url, service.token, service.workspace


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40] or "agent"


def command_line(repo: Path | str) -> list[str]:
    """How to start `crdtspace mcp` for `repo`, whatever the client's PATH holds."""
    found = shutil.which("crdtspace")
    start = [found] if found else [sys.executable, "-m", "crdtspace"]
    return [*start, "-C", str(Path(repo).resolve()), "mcp"]


def client_config(client: str, repo: Path | str) -> str:
    """The snippet (or command) that makes `client` start the crdtspace MCP server."""
    command, *args = command_line(repo)
    if client == "claude":
        quoted = " ".join(_shell(a) for a in [command, *args])
        entry = {"mcpServers": {"crdtspace": {"command": command, "args": args}}}
        return (
            f"claude mcp add crdtspace -- {quoted}\n\n"
            f"# or, in the repository's .mcp.json:\n{json.dumps(entry, indent=2)}\n"
        )
    if client == "codex":
        listed = ", ".join(json.dumps(a) for a in args)
        return (
            "# in ~/.codex/config.toml\n[mcp_servers.crdtspace]\n"
            f"command = {json.dumps(command)}\nargs = [{listed}]\n"
        )
    if client == "cursor":
        entry = {"mcpServers": {"crdtspace": {"command": command, "args": args}}}
        return f"// in .cursor/mcp.json\n{json.dumps(entry, indent=2)}\n"
    raise CrdtspaceError(f"No config for {client!r}.", hint=f"the clients are {', '.join(CLIENTS)}")


def _shell(word: str) -> str:
    return word if re.fullmatch(r"[\w@%+=:,./-]+", word) else "'" + word.replace("'", "'\\''") + "'"


GUIDE = """\
## Working in this repository with other agents (crdtspace)

Several agents edit this repository at once through the `crdtspace` MCP tools. Use them, not
your own file tools: an edit made on disk behind their back is not seen by the others.

1. `status` first: who is here, what they claim, what changed, the open conflicts.
2. `outline` a file, then `read` the file or the node (PATH::NAME) you will change. Every read
   gives a version: pass it as `base` when you edit, so only your change is applied and
   nobody's later edit is undone.
3. `claim` the nodes you are about to change (with a short `note`); `release` them when done.
   Stay off nodes others claim; if you must, tell them how in your note.
4. Edit with `edit` (one exact occurrence of `old` replaced by `new`), `replace_node`,
   `insert_node`, `write_file`. Read every result: it names conflicts your edit made and
   claims it crossed, and any tool result may bring news of conflicts on your work.
5. A conflict is yours to settle with the other agent: `conflicts` shows both sides; `resolve`
   by taking a side or giving the merged text.
6. `run_check` runs the project's check on the workspace as it is now. When it passes and no
   conflict is open, `commit` with a message: the gate writes the git commit for everyone.
"""
