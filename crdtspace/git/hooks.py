"""Git hooks: install, remove and inspect the shims, the merge driver and the .gitattributes lines.

The shims in ``hooks/`` are small POSIX sh scripts. Installed (``install``), each runs the hook
it replaced first (moved aside to ``<name>.crdtspace-chained``), then
``<python> -m crdtspace hook <name> ARGS...`` with the python that installed it, which calls
:func:`crdtspace.git.hookrun.run_hook` (what each hook checks or does, and its exit codes). The
shims carry the good-citizen parts: ``CRDTSPACE_HOOKS=0`` skips crdtspace (the chained hook
still runs), ``git commit --no-verify`` skips pre-commit as usual, and past
``CRDTSPACE_HOOK_TIMEOUT`` seconds (default 20, 0 = no limit) git proceeds with a warning.
They also carry the fast paths that start no python at all (a commit of exactly the
workspace's state): see :mod:`crdtspace.git.summary`.

The library never prints: messages are values, the CLI writes them to stderr.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crdtspace.errors import GitStateError
from crdtspace.git import gitio, mergedriver, nativeclient

__all__ = [
    "ATTRIBUTES_BEGIN",
    "ATTRIBUTES_END",
    "CHAINED_SUFFIX",
    "HOOK_NAMES",
    "HookState",
    "HooksStatus",
    "InstallReport",
    "UninstallReport",
    "hooks_dir",
    "install",
    "is_shim",
    "shims_dir",
    "status",
    "uninstall",
]

HOOK_NAMES = ("pre-commit", "post-commit", "post-merge", "post-checkout", "post-rewrite")
CHAINED_SUFFIX = ".crdtspace-chained"
SHIM_MARKER = "# crdtspace git hook"
PYTHON_PLACEHOLDER = "@PYTHON@"
ATTRIBUTES_BEGIN = "# crdtspace: begin (added by `crdtspace hooks install`)"
ATTRIBUTES_END = "# crdtspace: end"
DRIVER_SECTION = f"merge.{mergedriver.DRIVER_NAME}"
# What install changed beyond the hooks, so that uninstall undoes exactly that.
MANIFEST = "hooks-install.json"


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
    native: nativeclient.NativeBuild | None = None
    """The merge driver's native client (its path, or why there is none: then the Python
    client runs every merge)."""


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
    root = worktree_root(repo)
    path = Path(run_git(root, "rev-parse", "--git-path", "hooks").strip())
    return path if path.is_absolute() else (root / path).resolve()


def worktree_root(repo: Path | str) -> Path:
    return gitio.repo_root(gitio.open_repo(Path(repo)))


def _git_dir(root: Path) -> Path:
    path = Path(run_git(root, "rev-parse", "--git-common-dir").strip())
    return path if path.is_absolute() else (root / path).resolve()


def run_git(
    root: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None
) -> str:
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
    root = worktree_root(repo)
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
    native = nativeclient.build(python)  # (first: the command names the binary if built)
    driver = mergedriver.driver_config(python)
    for key, value in driver.items():
        run_git(root, "config", key, value)
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
        native,
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


def is_shim(path: Path) -> bool:
    """Whether the file at `path` is one of crdtspace's hook shims."""
    return _is_shim(path)


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
    root = worktree_root(repo)
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
    present = run_git(root, "config", "--get-regexp", rf"^{DRIVER_SECTION}\.", check=False)
    if not present.strip():
        return False
    run_git(root, "config", "--remove-section", DRIVER_SECTION)
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
    root = worktree_root(repo)
    directory = hooks_dir(root)
    hooks = tuple(_hook_state(directory, name) for name in HOOK_NAMES)
    found = run_git(root, "config", "--get-regexp", rf"^{DRIVER_SECTION}\.", check=False)
    driver = dict(line.split(" ", 1) for line in found.splitlines() if " " in line)
    attributes = root / ".gitattributes"
    has_block = attributes.exists() and _without_block(attributes.read_text("utf-8"))[1]
    disabled = hooks_disabled(os.environ)
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


def hooks_disabled(env: Mapping[str, str]) -> bool:
    return env.get("CRDTSPACE_HOOKS", "1").strip().lower() in ("0", "false", "no", "off")
