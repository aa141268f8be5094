"""Git hooks: install and remove the shims, and what each hook checks or does.

The shims in ``hooks/`` are small POSIX sh scripts. Installed (``install``), each runs the hook
it replaced first (moved aside to ``<name>.crdtspace-chained``), then
``<python> -m crdtspace hook <name> ARGS...`` with the python that installed it, which calls
:func:`run_hook`. The shims carry the good-citizen parts: ``CRDTSPACE_HOOKS=0`` skips
crdtspace (the chained hook still runs), ``git commit --no-verify`` skips pre-commit as usual,
and past ``CRDTSPACE_HOOK_TIMEOUT`` seconds (default 20, 0 = no limit) git proceeds with a
warning.

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
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crdtspace.conflicts.findings import Conflict
from crdtspace.errors import CrdtspaceError, GitStateError
from crdtspace.git import gitio, mergedriver
from crdtspace.model.replica import Workspace
from crdtspace.model.storage import LOG_NAME

__all__ = [
    "ALLOW",
    "ATTRIBUTES_BEGIN",
    "ATTRIBUTES_END",
    "BEHIND",
    "CHAINED_SUFFIX",
    "CONFLICTS",
    "HOOK_NAMES",
    "STAGED_DIFFERS",
    "HookResult",
    "HookState",
    "HooksStatus",
    "InstallReport",
    "UninstallReport",
    "hooks_dir",
    "install",
    "run_hook",
    "shims_dir",
    "status",
    "uninstall",
]

ALLOW = 0
CONFLICTS = 10
STAGED_DIFFERS = 11
BEHIND = 12

HOOK_NAMES = ("pre-commit", "post-commit", "post-merge", "post-checkout", "post-rewrite")
CHAINED_SUFFIX = ".crdtspace-chained"
SHIM_MARKER = "# crdtspace git hook"
PYTHON_PLACEHOLDER = "@PYTHON@"
ATTRIBUTES_BEGIN = "# crdtspace: begin (added by `crdtspace hooks install`)"
ATTRIBUTES_END = "# crdtspace: end"
DRIVER_SECTION = f"merge.{mergedriver.DRIVER_NAME}"
# What install changed beyond the hooks, so that uninstall undoes exactly that.
MANIFEST = "hooks-install.json"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# Commits that conclude a git operation bringing outside content in; sync-git takes them in.
CONCLUDING = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD")
REBASING = ("rebase-merge", "rebase-apply")


@dataclass(frozen=True)
class HookResult:
    """What a hook decided: the exit code for git and a message for stderr ("" for none)."""

    exit_code: int
    message: str = ""


@dataclass(frozen=True)
class InstallReport:
    """What `install` did."""

    hooks_dir: Path
    installed: tuple[str, ...]
    chained: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    driver: Mapping[str, str]
    gitattributes: Path
    gitattributes_changed: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UninstallReport:
    """What `uninstall` did."""

    hooks_dir: Path
    removed: tuple[str, ...]
    restored: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    driver_removed: bool
    gitattributes_changed: bool


@dataclass(frozen=True)
class HookState:
    """One hook: ``installed``, ``missing`` or ``foreign`` (someone else's), and what it chains."""

    name: str
    state: str
    chained: bool
    python: str | None = None
    python_exists: bool = False


@dataclass(frozen=True)
class HooksStatus:
    """Where the hooks live and whether each part of the installation is in place."""

    hooks_dir: Path
    hooks: tuple[HookState, ...]
    driver: Mapping[str, str]
    gitattributes: bool
    disabled: bool = field(default=False)

    @property
    def installed(self) -> bool:
        return all(hook.state == "installed" for hook in self.hooks)


# -- where things are ------------------------------------------------------------------------


def shims_dir() -> Path:
    """The shipped shims: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent.parent  # the package (this module is in a layer)
    installed = here / "_data" / "hooks"
    if installed.is_dir():
        return installed
    return here.parent / "hooks"


def hooks_dir(repo: Path | str) -> Path:
    """The directory git runs hooks from: ``core.hooksPath`` if set, else ``.git/hooks``."""
    root = _root(repo)
    path = Path(_git(root, "rev-parse", "--git-path", "hooks").strip())
    return path if path.is_absolute() else (root / path).resolve()


def _root(repo: Path | str) -> Path:
    return gitio.repo_root(gitio.open_repo(Path(repo)))


def _git_dir(root: Path) -> Path:
    path = Path(_git(root, "rev-parse", "--git-common-dir").strip())
    return path if path.is_absolute() else (root / path).resolve()


def _git(root: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=env,
        check=False,
    )
    if check and completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", "replace").strip()
        raise GitStateError(f"`git {' '.join(args)}` failed: {stderr}")
    return completed.stdout.decode("utf-8", "surrogateescape")


# -- install, uninstall, status --------------------------------------------------------------


def install(repo: Path | str, *, python: str = sys.executable) -> InstallReport:
    """Install the shims (chaining hooks already there), the merge driver and .gitattributes.

    Idempotent: installing again refreshes the shims (and the python they run) and changes
    nothing else. A hook that is neither ours nor chainable (its chained slot is taken) is
    skipped and reported."""
    root = _root(repo)
    directory = hooks_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    installed: list[str] = []
    chained: list[str] = []
    skipped: list[tuple[str, str]] = []
    for name in HOOK_NAMES:
        outcome = _install_one(directory, name, python)
        if outcome.startswith("skipped: "):
            skipped.append((name, outcome.removeprefix("skipped: ")))
            continue
        installed.append(name)
        if outcome == "chained":
            chained.append(name)
    driver = mergedriver.driver_config(python)
    for key, value in driver.items():
        _git(root, "config", key, value)
    attributes = root / ".gitattributes"
    changed = _add_attributes(root, attributes)
    notes = _shared_hooks_note(root, directory)
    return InstallReport(
        directory,
        tuple(installed),
        tuple(chained),
        tuple(skipped),
        driver,
        attributes,
        changed,
        notes,
    )


def _install_one(directory: Path, name: str, python: str) -> str:
    target = directory / name
    aside = directory / (name + CHAINED_SUFFIX)
    outcome = "installed"
    if (target.exists() or target.is_symlink()) and not _is_shim(target):
        if aside.exists() or aside.is_symlink():
            return f"skipped: {aside.name} already exists and {name} is not crdtspace's"
        target.rename(aside)
        outcome = "chained"
    elif aside.exists() or aside.is_symlink():
        outcome = "chained"
    text = (shims_dir() / name).read_text(encoding="utf-8")
    quoted = python.replace("'", "'\\''")
    _write_atomic(target, text.replace(PYTHON_PLACEHOLDER, quoted), mode=0o755)
    return outcome


def _is_shim(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return SHIM_MARKER in handle.read(4096)
    except OSError:
        return False


def _write_atomic(path: Path, text: str, *, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".crdtspace-tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _add_attributes(root: Path, attributes: Path) -> bool:
    """Add (or refresh) the marked block in .gitattributes; True when the file changed."""
    existed = attributes.exists()
    old = attributes.read_text(encoding="utf-8") if existed else ""
    kept, had_block = _without_block(old)
    block = "\n".join([ATTRIBUTES_BEGIN, *mergedriver.gitattributes_lines(), ATTRIBUTES_END]) + "\n"
    if had_block:
        new = _with_block_in_place(old, block)
    else:
        separator = "\n" if kept and not kept.endswith("\n") else ""
        new = kept + separator + block
        _save_manifest(root, {"created": not existed, "added_newline": bool(separator)})
    if new == old:
        return False
    attributes.write_text(new, encoding="utf-8", newline="")
    return True


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    """First and last line of the marked block (to the end if its end marker is gone)."""
    marks = [line.rstrip("\r\n") for line in lines]
    if ATTRIBUTES_BEGIN not in marks:
        return None
    start = marks.index(ATTRIBUTES_BEGIN)
    end = marks.index(ATTRIBUTES_END, start) if ATTRIBUTES_END in marks[start:] else len(marks) - 1
    return start, end


def _without_block(text: str) -> tuple[str, bool]:
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    if span is None:
        return text, False
    return "".join(lines[: span[0]] + lines[span[1] + 1 :]), True


def _with_block_in_place(text: str, block: str) -> str:
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    assert span is not None  # only called when the block is there
    return "".join(lines[: span[0]]) + block + "".join(lines[span[1] + 1 :])


def _manifest_path(root: Path) -> Path:
    return _git_dir(root) / "crdtspace" / MANIFEST


def _save_manifest(root: Path, values: dict[str, bool]) -> None:
    path = _manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values), encoding="utf-8")


def _load_manifest(root: Path) -> dict[str, bool]:
    try:
        value = json.loads(_manifest_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: bool(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _shared_hooks_note(root: Path, directory: Path) -> tuple[str, ...]:
    git_dir = _git_dir(root)
    if directory.is_relative_to(root) or directory.is_relative_to(git_dir):
        return ()
    return (
        f"core.hooksPath points outside the repository ({directory}): the hooks run for "
        "every repository that uses it (they do nothing where there is no workspace)",
    )


def uninstall(repo: Path | str) -> UninstallReport:
    """Remove the shims, put the chained hooks back, remove the driver and the attributes.

    Idempotent; what was there before `install` is restored exactly (the chained hooks are
    moved back, not copied)."""
    root = _root(repo)
    directory = hooks_dir(root)
    removed: list[str] = []
    restored: list[str] = []
    skipped: list[tuple[str, str]] = []
    for name in HOOK_NAMES:
        target = directory / name
        aside = directory / (name + CHAINED_SUFFIX)
        ours = _is_shim(target)
        if target.exists() and not ours:
            if aside.exists() or aside.is_symlink():
                skipped.append((name, f"{name} is not crdtspace's; {aside.name} left as is"))
            continue
        if ours:
            target.unlink()
            removed.append(name)
        if aside.exists() or aside.is_symlink():
            aside.rename(target)
            restored.append(name)
    driver_removed = _remove_driver(root)
    changed = _remove_attributes(root)
    return UninstallReport(
        directory, tuple(removed), tuple(restored), tuple(skipped), driver_removed, changed
    )


def _remove_driver(root: Path) -> bool:
    present = _git(root, "config", "--get-regexp", rf"^{DRIVER_SECTION}\.", check=False)
    if not present.strip():
        return False
    _git(root, "config", "--remove-section", DRIVER_SECTION)
    return True


def _remove_attributes(root: Path) -> bool:
    attributes = root / ".gitattributes"
    if not attributes.exists():
        return False
    old = attributes.read_text(encoding="utf-8")
    kept, had_block = _without_block(old)
    if not had_block:
        return False
    manifest = _load_manifest(root)
    if manifest.get("added_newline") and kept.endswith("\n"):
        kept = kept[:-1]
    if not kept and manifest.get("created", True):
        attributes.unlink()
    else:
        attributes.write_text(kept, encoding="utf-8", newline="")
    _manifest_path(root).unlink(missing_ok=True)
    return True


def status(repo: Path | str) -> HooksStatus:
    """Which hooks are installed, what they chain and run, and whether the driver is set up."""
    root = _root(repo)
    directory = hooks_dir(root)
    hooks = tuple(_hook_state(directory, name) for name in HOOK_NAMES)
    found = _git(root, "config", "--get-regexp", rf"^{DRIVER_SECTION}\.", check=False)
    driver = dict(line.split(" ", 1) for line in found.splitlines() if " " in line)
    attributes = root / ".gitattributes"
    has_block = attributes.exists() and _without_block(attributes.read_text("utf-8"))[1]
    disabled = _disabled(os.environ)
    return HooksStatus(directory, hooks, driver, bool(has_block), disabled)


def _hook_state(directory: Path, name: str) -> HookState:
    target = directory / name
    chained = (directory / (name + CHAINED_SUFFIX)).exists()
    if not target.exists():
        return HookState(name, "missing", chained)
    if not _is_shim(target):
        return HookState(name, "foreign", chained)
    python = _baked_python(target)
    exists = python is not None and os.access(python, os.X_OK)
    return HookState(name, "installed", chained, python, exists)


def _baked_python(path: Path) -> str | None:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("python="):
            words = shlex.split(line.removeprefix("python="))
            return words[0] if words else None
    return None


def _disabled(env: Mapping[str, str]) -> bool:
    return env.get("CRDTSPACE_HOOKS", "1").strip().lower() in ("0", "false", "no", "off")


# -- running a hook --------------------------------------------------------------------------


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
    if _disabled(environment):
        return HookResult(ALLOW)
    try:
        root = _root(repo)
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
    try:
        ws = Workspace.open(root, workspace=workspace)
    except CrdtspaceError as exc:
        # Most often another process holds the workspace (one holder at a time): never wait.
        return HookResult(ALLOW, f"crdtspace: pre-commit check skipped: {exc}")
    try:
        return _check(ws, root, env)
    except CrdtspaceError as exc:
        return HookResult(ALLOW, f"crdtspace: pre-commit check skipped: {exc}")
    finally:
        ws.close()


def _check(ws: Workspace, root: Path, env: Mapping[str, str]) -> HookResult:
    analysis = ws.analysis()
    findings = [*analysis.conflicts, *analysis.broken]
    if findings:
        return HookResult(CONFLICTS, _conflicts_message(findings))
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False, env=env).strip()
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
    path = Path(_git(root, "rev-parse", "--git-dir", env=env).strip())
    return path if path.is_absolute() else (root / path).resolve()


def _staged_differences(
    ws: Workspace, root: Path, head: str, env: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Staged files whose content is not the workspace's: (path, how), in git's order."""
    raw = _git(root, "diff", "--cached", "--raw", "-z", "--no-renames", head, env=env)
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
