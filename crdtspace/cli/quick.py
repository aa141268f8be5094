"""Commands answered without opening the workspace: ``crdtspace status [--json]`` when the
summary its last holder wrote (`crdtspace.git.summary`) describes the update log as it is now.

Imports no CRDT, git, parser or terminal library (nor typer): such a status costs the
interpreter's start and two ``git`` calls. Anything else (another command or option, no
summary, a stale one) returns None: the command runs as always and prints the same.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from crdtspace.cli import remote

_WORKSPACE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_EMOJI_LIKE = re.compile(r":[^\s:]+:")
"""What rich's console would render as an emoji (``:name:``): such text goes through rich."""


def run(argv: list[str]) -> int | None:
    """Answer `argv` (the arguments after ``crdtspace``) here, or None to run it as always."""
    parsed = remote._split(argv)
    if parsed is None:
        return None
    repo, named, command, rest = parsed
    if command != "status" or not set(rest) <= {"--json"} or len(rest) > 1:
        return None
    try:
        shown = _state_dir_as_opened(argv, named)
        info = cached_status(repo, named) if shown is not None else None
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if info is None or shown is None or Path(shown).resolve() != Path(info["state_dir"]).resolve():
        return None
    info["state_dir"] = shown
    if rest:
        info["agent"] = _agent(repo)
        sys.stdout.write(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    else:
        _print(status_text(info))
    sys.stdout.flush()
    return 0


def cached_status(repo: Path, named: str | None) -> dict[str, Any] | None:
    """What ``status --json`` prints (``agent`` aside), from the summary, or None."""
    from crdtspace.git import summary  # (light at import: see its docstring)

    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    workspace = named or remote._configured(repo)
    if not _WORKSPACE.fullmatch(workspace) or workspace.startswith("."):
        return None
    return summary.status_cache(Path(done.stdout.strip()) / "crdtspace" / workspace, workspace)


def _state_dir_as_opened(argv: list[str], named: str | None) -> str | None:
    """The workspace folder as opening the workspace names it (``status`` prints it): below
    the ``.git`` folder found walking up from the ``-C`` folder as given (absolute, normalised,
    links kept), as gitpython finds it. None where that is not plain (a ``.git`` file of a
    linked worktree, $GIT_DIR, ``-C`` given twice): the workspace is opened then."""
    given = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-C", "--repo")]
    given += [arg.partition("=")[2] for arg in argv if arg.startswith("--repo=")]
    if len(given) > 1 or os.environ.get("GIT_DIR"):
        return None
    start = os.path.normpath(os.path.abspath(given[0] if given else "."))
    if os.path.isfile(start):
        start = os.path.dirname(start)
    here = start
    while True:
        dotgit = os.path.join(here, ".git")
        if os.path.isdir(dotgit):
            break
        if os.path.exists(dotgit) or os.path.exists(os.path.join(here, "HEAD")):
            return None  # (a worktree's .git file, or inside a git folder: not plain)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
    workspace = named or remote._configured(Path(start))
    return os.path.join(dotgit, "crdtspace", workspace)


def _agent(repo: Path) -> str:
    """Who is asking, named as opening the workspace names them: $CRDTSPACE_AGENT, else git's
    user.name, else $USER, else "anonymous"."""
    named = os.environ.get("CRDTSPACE_AGENT", "").strip()
    if named:
        return named
    done = subprocess.run(
        ["git", "-C", str(repo), "config", "--get", "user.name"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    return done.stdout.strip() or os.environ.get("USER", "").strip() or "anonymous"


def _print(text: str) -> None:
    """Print as the commands' rich console does (`crdtspace.cli.common.out`, no markup): the
    text as is, unless it holds what rich would change (tabs, ``:emoji:`` names, controls)."""
    if "\t" in text or _EMOJI_LIKE.search(text) or not text.replace("\n", "").isprintable():
        from crdtspace.cli.common import out

        out.print(text, markup=False)
        return
    sys.stdout.write(text + "\n")


def status_text(info: dict[str, Any]) -> str:
    """What ``crdtspace status`` prints, from what ``status --json`` prints."""
    lines = [
        f"base commit   {info['base']}",
        f"workspace     {info['state_dir']}",
        f"files         {info['files']} ({info['structured']} structured by syntax)",
        f"nodes         {info['nodes']}",
        f"agents        {', '.join(info['agents']) or '(no edits yet)'}",
    ]
    if "present" in info:
        lines.append(f"here now      {', '.join(info['present']) or '(nobody connected)'}")
    if info.get("claims"):
        lines.append(f"claims        {len(info['claims'])}:")
        for claim in info["claims"]:
            until = time.strftime("%H:%M:%S", time.localtime(float(claim.get("until", 0))))
            note = f" ({claim['note']})" if claim.get("note") else ""
            node = claim.get("name") or claim.get("node") or ""
            where = f"{claim.get('path', '')}::{node}".rstrip(":")
            lines.append(f"  {claim['agent']} claims {where} until {until}{note}")
    if info["plain_text"]:
        lines.append(f"plain text    {len(info['plain_text'])}: {', '.join(info['plain_text'])}")
    if info["unparsed"]:
        lines.append(f"unparsed      {len(info['unparsed'])} (kept as one leaf each):")
        lines += [f"  {path}" for path in info["unparsed"]]
    if info["git_only"]:
        lines.append(f"git-only      {len(info['git_only'])}:")
        lines += [f"  {item['path']}: {item['reason']}" for item in info["git_only"]]
    changed = info.get("changed") or {}
    lines.append(
        f"changed       {len(changed)} file(s) since the base commit" + (":" if changed else "")
    )
    lines += [f"  {path} by {', '.join(agents)}" for path, agents in changed.items()]
    conflicts = info.get("conflicts") or []
    lines.append(f"conflicts     {len(conflicts)} open" + (":" if conflicts else ""))
    for c in conflicts:
        where = "; ".join(c["places"]) or "-"
        lines.append(f"  {c['id']} {c['kind']} at {where} [{', '.join(c['agents'])}]")
    return "\n".join(lines)
