"""Everything crdtspace reads from git, with errors that say what to do.

GitPython opens the repository and resolves names; the bulk reads (the listing of a tree and the
contents of its blobs) go through one ``git ls-tree`` and one ``git cat-file --batch`` process
(:mod:`crdtspace.git.gitbatch`), which reads a tree of a few thousand files in a few tens of
milliseconds.

No raw GitPython exception escapes this module for the cases it documents: a missing or bare
repository, a repository without commits, an unknown revision or object are
:class:`~crdtspace.errors.GitStateError`; a path that is not a file of the repository is a
:class:`~crdtspace.errors.PathError`.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import git
from git.exc import BadName, BadObject

from crdtspace.errors import GitStateError, PathError
from crdtspace.git.gitbatch import blob_head, cat_blobs, list_tree, stderr_text
from crdtspace.model.importing import TrackedFile
from crdtspace.model.paths import DEFAULT_SIZE_LIMIT, safe_relpath

__all__ = [
    "BINARY_CHECK_BYTES",
    "DEFAULT_SIZE_LIMIT",
    "TrackedFile",
    "blob_text",
    "classify",
    "head_commit",
    "is_dirty",
    "open_repo",
    "read_tree",
    "repo_root",
    "resolve_commit",
    "safe_relpath",
    "safe_target",
    "state_dir",
    "tree_problems",
    "user_name",
]

BINARY_CHECK_BYTES = 8000
"""Like git, a file is binary when its first 8000 bytes hold a NUL byte."""

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
MODE_SYMLINK = "120000"
MODE_SUBMODULE = "160000"

# read_tree reads blobs with up to this many `git cat-file` processes, each taking at least
# _CHUNK_MIN objects (git inflates objects on one core per process).
_CAT_FILE_WORKERS = 4
_CHUNK_MIN = 256

_WORKSPACE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HEX_SHA = re.compile(r"[0-9a-fA-F]{4,64}")


# ---------------------------------------------------------------------------------------------
# The repository


def open_repo(path: Path) -> git.Repo:
    """The repository holding ``path`` (searching parent directories); it must have a work tree."""
    path = Path(path)
    start = path.parent if path.is_file() else path
    if not start.exists():
        raise GitStateError(f"The path {str(path)!r} does not exist.")
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitStateError(
            f"{path} is not inside a git repository.",
            hint="run `git init` or cd into a repository",
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        git_dir = repo.git_dir
        repo.close()
        raise GitStateError(
            f"{git_dir} is a bare repository; crdtspace needs a working tree.",
            hint="clone it without --bare, or use `git worktree add`",
        )
    return repo


def repo_root(repo: git.Repo) -> Path:
    """The working tree directory, resolved."""
    if repo.working_tree_dir is None:
        raise GitStateError(f"{repo.git_dir} is a bare repository; it has no working tree.")
    return Path(repo.working_tree_dir).resolve()


def head_commit(repo: git.Repo) -> str | None:
    """The hex sha HEAD points to, or None when the current branch has no commits yet."""
    try:
        if not repo.head.is_valid():
            return None
        return repo.head.commit.hexsha
    except (ValueError, BadName, BadObject, git.GitCommandError):
        return None


def resolve_commit(repo: git.Repo, rev: str = "HEAD") -> git.Commit:
    """The commit ``rev`` names (any git revision syntax: branch, tag, short sha, ``HEAD~2``)."""
    try:
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except git.GitCommandError:
        sha = ""
    if sha:
        try:
            return repo.commit(sha.strip())
        except (ValueError, BadName, BadObject) as error:  # pragma: no cover - rev-parse agreed
            raise GitStateError(f"The revision {rev!r} cannot be read: {error}.") from None
    if not repo.head.is_valid():
        if not _has_refs(repo):
            raise GitStateError("The repository has no commits yet.", hint="commit something first")
        if rev == "HEAD":
            raise GitStateError(
                f"The current branch {_head_name(repo)!r} has no commits yet.",
                hint="commit something first",
            )
    raise GitStateError(
        f"The revision {rev!r} does not name a commit in this repository.",
        hint="try a branch, a tag or a commit sha; `git log --oneline` lists commits",
    )


def _has_refs(repo: git.Repo) -> bool:
    try:
        return bool(repo.git.for_each_ref("--count=1").strip())
    except git.GitCommandError:  # pragma: no cover - defensive
        return False


def _head_name(repo: git.Repo) -> str:
    try:
        return str(repo.head.reference.name)
    except (TypeError, ValueError):  # pragma: no cover - a detached HEAD always resolves
        return "HEAD"


def is_dirty(repo: git.Repo, *, untracked_files: bool = False) -> bool:
    """Whether the index or the working tree differ from HEAD (untracked files only if asked)."""
    try:
        if not repo.head.is_valid():
            # No commits: any staged (or, if asked, untracked) file is uncommitted work.
            staged = repo.git.ls_files("--cached")
            untracked = repo.untracked_files if untracked_files else []
            return bool(staged.strip()) or bool(untracked)
        return repo.is_dirty(index=True, working_tree=True, untracked_files=untracked_files)
    except git.GitCommandError as error:
        raise GitStateError(
            f"Cannot tell whether the working tree is clean: {stderr_text(error)}"
        ) from None


def blob_text(repo: git.Repo, sha: str) -> bytes:
    """The exact bytes of a blob (for a symbolic link, its target)."""
    if not _HEX_SHA.fullmatch(sha):
        raise GitStateError(f"{sha!r} is not a blob sha.")
    try:
        _, kind, _, data = repo.git.get_object_data(sha)
    except (ValueError, git.GitCommandError):
        raise GitStateError(f"The blob {sha} is not in the repository.") from None
    kind_name = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind_name != "blob":
        raise GitStateError(f"The object {sha} is a {kind_name}, not a blob (a file's contents).")
    return bytes(data)


def state_dir(repo: git.Repo, workspace: str = "default") -> Path:
    """Where a workspace keeps its state: ``.git/crdtspace/<workspace>`` (not created here)."""
    if not _WORKSPACE_NAME.fullmatch(workspace) or workspace.startswith("."):
        raise PathError(
            f"The workspace name {workspace!r} is not valid.",
            hint="use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'",
        )
    return Path(repo.git_dir) / "crdtspace" / workspace


def configured_workspace(root: Path) -> str:
    """A repository's default workspace: ``git config crdtspace.workspace``, else "default"
    (also outside a repository, where nothing else will work anyway)."""
    done = subprocess.run(
        ["git", "-C", str(root), "config", "--get", "crdtspace.workspace"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "default"


def user_name(repo: git.Repo) -> str:
    """``git config user.name`` (repository, then global), else ``$USER``, else "anonymous"."""
    try:
        name = repo.git.config("--get", "user.name").strip()
    except git.GitCommandError:
        name = ""
    return name or os.environ.get("USER", "").strip() or "anonymous"


# ---------------------------------------------------------------------------------------------
# Text or git-only


def classify(data: bytes, size_limit: int = DEFAULT_SIZE_LIMIT) -> tuple[str | None, str | None]:
    """``(text, None)`` for a text file, else ``(None, reason)``.

    In order: a NUL byte in the first 8000 bytes makes it binary (git's own heuristic); then a
    file larger than ``size_limit`` bytes stays git-only; then it must decode as strict UTF-8.
    The text is exact: CRLF is kept, a byte order mark is kept as ``"\\ufeff"``.
    """
    reason = _binary_or_large(data[:BINARY_CHECK_BYTES], len(data), size_limit)
    if reason is not None:
        return None, reason
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return None, f"invalid UTF-8 at byte {error.start}"


def _binary_or_large(head: bytes, size: int, size_limit: int) -> str | None:
    nul = head.find(b"\0", 0, BINARY_CHECK_BYTES)
    if nul >= 0:
        return f"binary (NUL byte at offset {nul})"
    if size > size_limit:
        limit, actual = _human_size(size_limit), _human_size(size)
        if actual == limit:
            actual = f"{size:,} bytes"
        return f"larger than the {limit} size limit ({actual})"
    return None


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


# ---------------------------------------------------------------------------------------------
# Reading a tree


def read_tree(commit: git.Commit, *, size_limit: int = DEFAULT_SIZE_LIMIT) -> list[TrackedFile]:
    """Every file, symbolic link and submodule of the commit's tree, recursively, sorted by path."""
    repo = commit.repo
    entries = list_tree(repo, commit.hexsha)
    small = sorted(
        {
            e.sha
            for e in entries
            if e.kind == "blob" and e.mode != MODE_SYMLINK and e.size <= size_limit
        }
    )
    contents = _read_blobs(repo, small)
    files = []
    for entry in entries:
        if entry.mode == MODE_SUBMODULE or entry.kind == "commit":
            files.append(TrackedFile(entry.path, MODE_SUBMODULE, entry.sha, None, "submodule"))
        elif entry.mode == MODE_SYMLINK:
            files.append(TrackedFile(entry.path, entry.mode, entry.sha, None, "symbolic link"))
        elif entry.size <= size_limit:
            text, reason = classify(contents[entry.sha], size_limit)
            files.append(TrackedFile(entry.path, entry.mode, entry.sha, text, reason))
        else:
            head = blob_head(repo, entry.sha, BINARY_CHECK_BYTES)
            reason = _binary_or_large(head, entry.size, size_limit)
            files.append(TrackedFile(entry.path, entry.mode, entry.sha, None, reason))
    files.sort(key=lambda f: f.path)
    return files


def tree_entries(repo: git.Repo, treeish: str) -> dict[str, tuple[str, str]]:
    """Every entry of a tree, recursively: path -> (mode, hex sha)."""
    return {e.path: (e.mode, e.sha) for e in list_tree(repo, treeish)}


def blob_sha(data: bytes) -> str:
    """The sha git gives a blob of these bytes (without writing it)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _read_blobs(repo: git.Repo, shas: list[str]) -> dict[str, bytes]:
    """The contents of many blobs, from a few ``git cat-file --batch`` processes in parallel."""
    if not shas:
        return {}
    workers = max(1, min(_CAT_FILE_WORKERS, os.cpu_count() or 1, len(shas) // _CHUNK_MIN))
    if workers == 1:
        return dict(cat_blobs(repo, shas))
    chunks = [shas[index::workers] for index in range(workers)]
    contents: dict[str, bytes] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(lambda chunk: dict(cat_blobs(repo, chunk)), chunks):
            contents.update(part)
    return contents


# -- trees and paths that must not be written ------------------------------------------------


def tree_problems(
    entries: dict[str, tuple[str, str | None]],
    allowed: dict[str, tuple[str, str]],
    has_blob: Callable[[str], bool],
) -> list[str]:
    """Why a tree about to be written is not one git (or a checkout of it) can take safely:
    one sentence per problem, none when it is fine.

    `entries`: path -> (mode, blob sha or None for a blob yet to be written); `allowed`: the
    entries of the commits the tree is made from (modes and blobs come from git, never from a
    peer). Refused: a path not in normal form or going into ``.git`` (in any case); a path
    below another entry (``a/b`` beside the file, link or submodule ``a``: a checkout would
    write through it); a mode that is not a file's, or a link or submodule that is not exactly
    one of `allowed`; a blob the object store does not hold (looked up only for entries that
    are not `allowed` as they are: those git already holds)."""
    problems: list[str] = []
    for path, (mode, sha) in sorted(entries.items()):
        try:
            if safe_relpath(None, path) != path:
                problems.append(f"{path!r} is not a path in normal form")
                continue
        except PathError as error:
            problems.append(error.message)
            continue
        parts = path.split("/")
        for depth in range(1, len(parts)):
            above = "/".join(parts[:depth])
            if above in entries:
                problems.append(f"{path!r} lies below {above!r}, a file, link or submodule")
                break
        if mode in (MODE_SYMLINK, MODE_SUBMODULE):
            if sha is None or allowed.get(path) != (mode, sha):
                what = "symbolic link" if mode == MODE_SYMLINK else "submodule"
                problems.append(f"{path!r} would be a new {what}, which only git may make")
            continue
        if mode not in (MODE_FILE, MODE_EXECUTABLE):
            problems.append(f"{path!r} has the mode {mode!r}, which is not a file's")
            continue
        known = allowed.get(path)
        if mode != (known[0] if known is not None else MODE_FILE) and mode == MODE_EXECUTABLE:
            problems.append(f"{path!r} would become executable, which only git may make it")
            continue
        if sha is not None and known != (mode, sha) and not has_blob(sha):
            problems.append(f"{path!r} names the blob {sha[:12]}, which is not in the repository")
    return problems


def safe_target(root: Path, path: str) -> Path:
    """Where a repository path is written under `root`, refusing one that is not in normal
    form, goes into ``.git``, or passes through (or is) a symbolic link, or goes through a file,
    on disk: writing there would land outside `root` or over something else."""
    relative = safe_relpath(None, path)
    if relative != path:
        raise PathError(f"The path {path!r} is not in normal form.")
    current = Path(root)
    parts = relative.split("/")
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break
        except NotADirectoryError:
            raise PathError(f"The path {path!r} goes through a file.") from None
        if stat.S_ISLNK(info.st_mode):
            raise PathError(f"The path {path!r} is, or goes through, a symbolic link on disk.")
        if index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
            raise PathError(f"The path {path!r} goes through a file.")
    return Path(root) / relative
