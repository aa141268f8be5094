"""After the gate moves a branch: the index and the working tree follow, where nobody has work.

The gate writes its commit into the object store and moves the branch; left at that, the
checkout still holds the old commit's files, so `git status` shows the agents' changes undone
and a `git commit -a` would undo them. `follow` moves each path that changed between the two
commits to its new content where it holds no uncommitted work: the index entry when it is
either commit's, the file on disk when its bytes are either commit's. A staged change or a
merge conflict leaves the path exactly as it is; a file changed on disk stays as it is while
its index entry follows (so `git status` and `git diff` show that work against the new
commit, as they would after a `git pull` that kept it). Either is named in `Followed.kept`.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import git

from crdtspace import gitio
from crdtspace.errors import GitStateError

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
    lines: list[str] = []
    for path in paths:
        was, now = before.get(path), after.get(path)
        why = _staged_work(path, was, now, staged.get(path))
        if why is not None:  # the user's work in progress: the index and the disk stay
            out.kept[path] = why
            continue
        why = _disk_work(root, path, was, now)
        if why is None:
            try:
                _write(repo, root, path, now)
            except OSError as error:
                why = f"cannot be written: {error.strerror or error}"
        if why is None:
            out.updated.append(path)
        else:  # the file on disk stays; the index (no work of anyone's) follows
            out.kept[path] = why
        lines.append(f"0 {ZERO}\t{path}" if now is None else f"{now[0]} {now[1]}\t{path}")
    if lines:
        _git(repo, "update-index", "-z", "--index-info", stdin="".join(f"{x}\0" for x in lines))
        _git(repo, "update-index", "-q", "--refresh", check=False)  # stat data of new files
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


def _disk_work(root: Path, path: str, was: Entry | None, now: Entry | None) -> str | None:
    """Why the file on disk at `path` holds work of someone's (neither commit's), or None."""
    if not _inside(root, root / path):
        return "behind a symbolic link that leaves the working tree"
    on_disk = _disk_sha(root / path)
    if on_disk not in {e[1] if e is not None else None for e in (was, now)}:
        return "changed on disk"
    return None


def _inside(root: Path, file: Path) -> bool:
    """Whether `file`'s folder, symbolic links followed, is inside the working tree."""
    try:
        file.parent.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _disk_sha(file: Path) -> str | None:
    """The blob sha of a regular file's bytes; None when absent, "" when not a regular file."""
    try:
        info = file.lstat()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    if not stat.S_ISREG(info.st_mode):
        return ""
    try:
        return gitio.blob_sha(file.read_bytes())
    except OSError:
        return ""


def _write(repo: git.Repo, root: Path, path: str, now: Entry | None) -> None:
    file = root / path
    if now is None:
        file.unlink(missing_ok=True)
        parent = file.parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        return
    mode, sha = now
    if _disk_sha(file) != sha:
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary = file.with_name(f".{file.name}.crdtspace-tmp")
        temporary.write_bytes(gitio.blob_text(repo, sha))
        os.replace(temporary, file)
    executable = mode == "100755"
    current = file.stat().st_mode
    wanted = current | 0o111 if executable else current & ~0o111
    if wanted != current:
        file.chmod(wanted)


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


def _git(repo: git.Repo, *args: str, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "--literal-pathspecs", "-C", str(repo.working_tree_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitStateError(f"git {args[0]} failed: {done.stderr.strip()}")
    return done.stdout
