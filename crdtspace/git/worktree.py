"""After the gate moves a branch: the index and the working tree follow, where nobody has work.

The gate writes its commit into the object store and moves the branch; left at that, the
checkout still holds the old commit's files, so `git status` shows the agents' changes undone
and a `git commit -a` would undo them. `follow` moves each path that changed between the two
commits to its new content where it holds no uncommitted work: the index entry when it is
either commit's, the file on disk when its bytes are either commit's. A staged change or a
merge conflict leaves the path exactly as it is; a file changed on disk stays as it is while
its index entry follows (so `git status` and `git diff` show that work against the new
commit, as they would after a `git pull` that kept it). Either is named in `Followed.kept`.
Git itself hashes the files on disk (`hash-object --stdin-paths`) and writes the new ones
(`checkout-index`), so line-ending conversion, filters and file modes are git's own.
"""

from __future__ import annotations

import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

import git

from crdtspace.errors import GitStateError
from crdtspace.git import gitio

Entry = tuple[str, str]
"""A tree or index entry: (mode, hex sha)."""

ZERO = "0" * 40
PATHS_ON_COMMAND_LINE = 200
"""More changed paths than this, and the whole index is listed instead of naming them."""


@dataclass
class Followed:
    """What `follow` did: paths brought to the new commit, paths left alone (with why)."""

    updated: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"index and working tree follow in {len(self.updated)} file(s)"
        if self.kept:
            names = ", ".join(sorted(self.kept)[:5]) + (", ..." if len(self.kept) > 5 else "")
            text += f"; left alone (uncommitted work): {names}"
        return text


def follow(repo: git.Repo, old: str, new: str) -> Followed:
    """Bring the index and working tree from commit `old` to commit `new` where they hold no
    uncommitted work (see the module docstring). Never raises for one path: a path that
    cannot be written is kept and named."""
    out = Followed()
    if repo.bare or repo.working_tree_dir is None:
        return out
    root = Path(repo.working_tree_dir)
    before = gitio.tree_entries(repo, old)
    after = gitio.tree_entries(repo, new)
    paths = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if not paths:
        return out
    staged = _index_entries(repo, paths)
    free: list[str] = []  # no staged work: the index entry follows
    for path in paths:
        why = _staged_work(path, before.get(path), after.get(path), staged.get(path))
        if why is None:
            free.append(path)
        else:  # the user's work in progress: the index and the disk stay
            out.kept[path] = why
    inside = []
    for path in free:
        if _inside(root, root / path):
            inside.append(path)
        else:  # the file on disk stays as it is (git would refuse to write it anyway)
            out.kept[path] = "behind a symbolic link that leaves the working tree"
    on_disk = _disk_shas(repo, root, inside)
    writable: list[str] = []
    for path in inside:
        was, now = before.get(path), after.get(path)
        if on_disk[path] in {e[1] if e is not None else None for e in (was, now)}:
            writable.append(path)
        else:  # the file on disk stays as it is
            out.kept[path] = "changed on disk"
    lines = []
    for path in free:
        now = after.get(path)
        lines.append(f"0 {ZERO}\t{path}" if now is None else f"{now[0]} {now[1]}\t{path}")
    if lines:
        _git(repo, "update-index", "-z", "--index-info", stdin="".join(f"{x}\0" for x in lines))
    checkout = []
    for path in writable:
        if after.get(path) is not None:
            checkout.append(path)
            continue
        try:
            _remove(root, path)
        except OSError as error:
            out.kept[path] = f"cannot be removed: {error.strerror or error}"
            continue
        out.updated.append(path)
    if checkout:
        # git writes them from the index: its filters, line endings and modes apply
        done = _git(
            repo,
            "checkout-index",
            "-f",
            "-z",
            "--stdin",
            stdin="".join(f"{p}\0" for p in checkout),
            check=False,
            result=True,
        )
        failed = set(_failed_paths(done.stderr, checkout)) if done.returncode else set()
        for path in checkout:
            if path in failed:
                out.kept[path] = "cannot be written"
            else:
                out.updated.append(path)
    if lines:
        _git(repo, "update-index", "-q", "--refresh", check=False)  # stat data of new files
    out.updated.sort()
    return out


def _staged_work(
    path: str, was: Entry | None, now: Entry | None, staged: list[Entry] | None
) -> str | None:
    """Why the index holds work of someone's at `path` (neither commit's entry), or None."""
    if staged is not None and len(staged) > 1:
        return "in a merge conflict"
    entry = staged[0] if staged else None
    if entry != was and entry != now:
        return "staged changes"
    for mode in {e[0] for e in (was, now) if e is not None}:
        if mode not in ("100644", "100755"):
            return f"not a regular file (mode {mode})"
    return None


def _inside(root: Path, file: Path) -> bool:
    """Whether `file`'s folder, symbolic links followed, is inside the working tree."""
    try:
        file.parent.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _disk_shas(repo: git.Repo, root: Path, paths: list[str]) -> dict[str, str | None]:
    """The blob sha of each path's file as git would store it (its filters and line-ending
    conversion applied, `git hash-object --stdin-paths`); None when absent, "" when it is not
    a regular file or cannot be hashed."""
    out: dict[str, str | None] = {}
    files: list[str] = []
    for path in paths:
        try:
            info = (root / path).lstat()
        except FileNotFoundError:
            out[path] = None
            continue
        except OSError:
            out[path] = ""
            continue
        if stat.S_ISREG(info.st_mode) and "\n" not in path:
            files.append(path)
        else:
            out[path] = ""
    if files:
        done = _git(repo, "hash-object", "--stdin-paths", stdin="".join(f"{p}\n" for p in files))
        shas = done.split()
        if len(shas) == len(files):
            out.update(zip(files, shas, strict=True))
        else:  # pragma: no cover - git answered oddly: count none of them as ours
            out.update(dict.fromkeys(files, ""))
    return out


def _remove(root: Path, path: str) -> None:
    """Delete a file the new commit removes, and the folders that leaves empty."""
    file = root / path
    file.unlink(missing_ok=True)
    parent = file.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _failed_paths(stderr: str, paths: list[str]) -> list[str]:
    """The paths `git checkout-index` names in its errors."""
    return [p for p in paths if p in stderr]


def _index_entries(repo: git.Repo, paths: list[str]) -> dict[str, list[Entry]]:
    """The index's entries of these paths (more than one: a merge conflict's stages)."""
    wanted = set(paths)
    named = paths if len(paths) <= PATHS_ON_COMMAND_LINE else []
    raw = _git(repo, "ls-files", "-s", "-z", "--", *named)
    out: dict[str, list[Entry]] = {}
    for record in raw.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        if path in wanted:
            mode, sha, _stage = meta.split()
            out.setdefault(path, []).append((mode, sha))
    return out


@overload
def _git(repo: git.Repo, *args: str, stdin: str | None = ..., check: bool = ...) -> str: ...


@overload
def _git(
    repo: git.Repo, *args: str, stdin: str | None = ..., check: bool = ..., result: Literal[True]
) -> subprocess.CompletedProcess[str]: ...


def _git(
    repo: git.Repo, *args: str, stdin: str | None = None, check: bool = True, result: bool = False
) -> str | subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["git", "--literal-pathspecs", "-C", str(repo.working_tree_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitStateError(f"git {args[0]} failed: {done.stderr.strip()}")
    return done if result else done.stdout
