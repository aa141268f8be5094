"""Running a git hook: what each hook checks (pre-commit) or does (the post-* hooks).

The shims (installed by :mod:`crdtspace.git.hooks`) run
``<python> -m crdtspace hook <name> ARGS...``, which calls :func:`run_hook`.

Exit codes of :func:`run_hook` (``HookResult.exit_code``), which the shims pass on:

====  ===================================================================================
0     go ahead: nothing wrong, no workspace, the workspace busy or unreadable (warned),
      and always for the post-* hooks (a post hook never fails the git operation)
10    refused: the workspace has open conflicts or broken code
11    refused: the staged content of some files differs from the workspace's state
12    refused: the workspace is behind HEAD (commits it has not taken in yet)
====  ===================================================================================

Codes 10-19 are refusals; the shims treat anything else they get (a crash, a timeout) as "let
git proceed, with a warning", so a broken crdtspace never blocks git. A chained hook's own
failure is passed on as its exit code.

The library never prints: messages are values, the CLI writes them to stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crdtspace.errors import CrdtspaceError
from crdtspace.git import gitio
from crdtspace.git.hooks import HOOK_NAMES, hooks_disabled, run_git, worktree_root
from crdtspace.model.storage import LOG_NAME

if TYPE_CHECKING:  # (imported by pre-commit only: a post hook's python just starts sync-git)
    from crdtspace.conflicts.findings import Conflict
    from crdtspace.model.replica import Replica

__all__ = [
    "ALLOW",
    "BEHIND",
    "CONFLICTS",
    "STAGED_DIFFERS",
    "HookResult",
    "run_hook",
]

ALLOW = 0
CONFLICTS = 10
STAGED_DIFFERS = 11
BEHIND = 12

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# Commits that conclude a git operation bringing outside content in; sync-git takes them in.
CONCLUDING = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD")
REBASING = ("rebase-merge", "rebase-apply")


@dataclass(frozen=True)
class HookResult:
    """What a hook decided: the exit code for git and a message for stderr ("" for none)."""

    exit_code: int
    message: str = ""


def run_hook(
    name: str,
    repo: Path | str,
    args: Sequence[str] = (),
    *,
    workspace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> HookResult:
    """Run one hook's crdtspace part (see the module docstring for the exit codes).

    ``workspace``: the one the hooks act on, by default the repository's
    (`gitio.configured_workspace`: git config ``crdtspace.workspace``, else "default").
    ``env`` is the environment git gave the hook (default: this process's), which says which
    index a ``git commit -- PATHS`` or ``git commit -a`` is about to commit."""
    environment = dict(os.environ if env is None else env)
    if name not in HOOK_NAMES:
        return HookResult(ALLOW, f"crdtspace: no hook named {name!r}; nothing done")
    if hooks_disabled(environment):
        return HookResult(ALLOW)
    try:
        root = worktree_root(repo)
        if workspace is None:
            workspace = gitio.configured_workspace(root)
        if not _has_workspace(root, workspace):
            return HookResult(ALLOW)
    except CrdtspaceError as exc:
        return HookResult(ALLOW, f"crdtspace: {name} skipped: {exc}")
    if name == "pre-commit":
        return _pre_commit(root, workspace, environment)
    return _post(name, root, list(args), workspace, environment)


def _has_workspace(root: Path, workspace: str) -> bool:
    log = gitio.state_dir(gitio.open_repo(root), workspace) / LOG_NAME
    return log.is_file() and log.stat().st_size > 0


def _pre_commit(root: Path, workspace: str, env: Mapping[str, str]) -> HookResult:
    from crdtspace.git import workspaces
    from crdtspace.model.replica import Replica

    try:
        ws = workspaces.open_workspace(Replica, root, workspace=workspace)
    except CrdtspaceError as exc:
        # Most often another process holds the workspace (one holder at a time): never wait.
        return HookResult(ALLOW, f"crdtspace: pre-commit check skipped: {exc}")
    try:
        return _check(ws, root, env)
    except CrdtspaceError as exc:
        return HookResult(ALLOW, f"crdtspace: pre-commit check skipped: {exc}")
    finally:
        ws.close()


def _check(ws: Replica, root: Path, env: Mapping[str, str]) -> HookResult:
    from crdtspace.conflicts.analysis import analysis_of

    analysis = analysis_of(ws)
    findings = [*analysis.conflicts, *analysis.broken]
    if findings:
        return HookResult(CONFLICTS, _conflicts_message(findings))
    head = run_git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False, env=env).strip()
    base = ws.status().base
    if head and base and head != base:
        return HookResult(BEHIND, _behind_message(base, head))
    if any((_git_dir_of(root, env) / name).exists() for name in CONCLUDING):
        return HookResult(ALLOW)
    differing = _staged_differences(ws, root, head or EMPTY_TREE, env)
    if differing:
        return HookResult(STAGED_DIFFERS, _differs_message(differing))
    return HookResult(ALLOW)


def _git_dir_of(root: Path, env: Mapping[str, str]) -> Path:
    path = Path(run_git(root, "rev-parse", "--git-dir", env=env).strip())
    return path if path.is_absolute() else (root / path).resolve()


def _staged_differences(
    ws: Replica, root: Path, head: str, env: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Staged files whose content is not the workspace's: (path, how), in git's order."""
    raw = run_git(root, "diff", "--cached", "--raw", "-z", "--no-renames", head, env=env)
    fields = raw.split("\0")
    entries = [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
    tracked = set(ws.paths())
    git_only = {item.path for item in ws.git_only()}
    staged: dict[str, str] = {}
    differing: list[tuple[str, str]] = []
    for meta, path in entries:
        parts = meta.lstrip(":").split()
        new_mode, new_sha, kind = parts[1], parts[3], parts[4]
        if path in git_only or new_mode in (gitio.MODE_SYMLINK, "160000"):
            continue
        if kind == "D":
            if path in tracked:
                differing.append((path, "deleted in the index, still in the workspace"))
            continue
        staged[path] = new_sha
    blobs = _read_blobs(root, sorted(set(staged.values())))
    for path, sha in staged.items():
        text, _ = gitio.classify(blobs.get(sha, b""))
        if path not in tracked:
            if text is not None:
                differing.append((path, "not in the workspace"))
        elif text != ws.document.render(path):  # (not a read by anyone: no version noted)
            differing.append((path, "staged content differs from the workspace"))
    return sorted(differing)


def _read_blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    """Blob contents from one ``git cat-file --batch``."""
    if not shas:
        return {}
    completed = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input="".join(sha + "\n" for sha in shas).encode(),
        capture_output=True,
        check=False,
    )
    out = completed.stdout
    blobs: dict[str, bytes] = {}
    position = 0
    for sha in shas:
        newline = out.index(b"\n", position)
        header = out[position:newline].split()
        position = newline + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        blobs[sha] = out[position : position + size]
        position += size + 1
    return blobs


def _conflicts_message(findings: list[Conflict]) -> str:
    lines = [
        f"crdtspace: refusing the commit: the workspace has {len(findings)} open "
        "conflict(s) or broken code:"
    ]
    for item in findings:
        place = str(item.places[0]) if item.places else "-"
        lines.append(f"  {item.id}  {item.kind}  {place}  {item.message}")
    lines.append(
        "Resolve them (`crdtspace conflicts`, `crdtspace resolve ID --take AGENT`), then "
        "commit with `crdtspace commit -m MSG`. To commit anyway: `git commit --no-verify`."
    )
    return "\n".join(lines)


def _behind_message(base: str, head: str) -> str:
    return (
        f"crdtspace: refusing the commit: the workspace is at {base[:10]} but HEAD is at "
        f"{head[:10]}.\nRun `crdtspace sync-git` to bring the new commits in, then commit with "
        "`crdtspace commit -m MSG`. To commit anyway: `git commit --no-verify`."
    )


def _differs_message(differing: list[tuple[str, str]]) -> str:
    lines = [
        "crdtspace: refusing the commit: the staged content differs from the workspace's "
        "converged state:"
    ]
    lines.extend(f"  {path}: {how}" for path, how in differing)
    lines.append(
        "Commit the workspace's state with `crdtspace commit -m MSG`; to make your changes "
        "part of it first, `crdtspace write PATH --from PATH` each file. "
        "To commit anyway: `git commit --no-verify` (then `crdtspace sync-git`)."
    )
    return "\n".join(lines)


def _post(
    name: str, root: Path, args: list[str], workspace: str, env: Mapping[str, str]
) -> HookResult:
    if name == "post-checkout" and args[2:3] == ["0"]:
        return HookResult(ALLOW)  # a file checkout: HEAD did not move
    git_dir = _git_dir_of(root, env)
    if name != "post-rewrite" and any((git_dir / d).exists() for d in REBASING):
        return HookResult(ALLOW)  # mid-rebase: post-rewrite brings the result in at the end
    command = [sys.executable, "-m", "crdtspace", "-C", str(root), "-w", workspace]
    child_env = {k: v for k, v in env.items() if k not in ("GIT_INDEX_FILE", "GIT_PREFIX")}
    completed = subprocess.run(
        [*command, "sync-git", "--json"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=child_env,
        cwd=root,
        check=False,
    )
    return HookResult(ALLOW, _sync_message(name, completed))


def _sync_message(name: str, completed: subprocess.CompletedProcess[bytes]) -> str:
    stdout = completed.stdout.decode("utf-8", "replace").strip()
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode == 2 and "No such command" in stderr:
        return f"crdtspace: {name}: this crdtspace has no `sync-git` yet; nothing done"
    if completed.returncode != 0:
        detail = stderr.splitlines()[-1] if stderr else f"exit {completed.returncode}"
        return (
            f"crdtspace: {name}: sync-git did not run ({detail}); "
            "run `crdtspace sync-git` to bring this change into the workspace"
        )
    try:
        report = json.loads(stdout)
    except ValueError:
        return f"crdtspace: {stdout}" if stdout else ""
    commits = report.get("commits") if isinstance(report, dict) else None
    if not commits:
        return ""
    files = report.get("files") or []
    return f"crdtspace: brought {len(commits)} commit(s), {len(files)} file(s) into the workspace"
