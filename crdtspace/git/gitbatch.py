"""The git processes behind gitio's bulk reads: the listing of a tree and the contents of blobs.

A tree is listed by one ``git ls-tree``; blob contents stream from a ``git cat-file --batch``
process (fed by a writer thread, so neither side can block the other), and the first bytes of a
big blob from a ``git cat-file blob`` stopped early. A missing object is a
:class:`~crdtspace.errors.GitStateError`.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import git

from crdtspace.errors import GitStateError


@dataclass(frozen=True)
class _Entry:
    path: str
    mode: str
    kind: str
    sha: str
    size: int


def list_tree(repo: git.Repo, treeish: str) -> list[_Entry]:
    try:
        raw = repo.git.ls_tree("-r", "-l", "-z", "--full-tree", treeish, stdout_as_string=False)
    except git.GitCommandError as error:
        raise GitStateError(f"Cannot list the tree of {treeish}: {stderr_text(error)}") from None
    assert isinstance(raw, bytes)
    entries = []
    for record in raw.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, sha, size = meta.decode("ascii").split()
        if size != "-" and not size.isdigit():  # git prints "BAD" when it cannot read the object
            raise _missing(sha)
        entries.append(
            _Entry(
                path=name.decode("utf-8", "surrogateescape"),
                mode=mode,
                kind=kind,
                sha=sha,
                size=int(size) if size != "-" else 0,
            )
        )
    return entries


def _missing(sha: str) -> GitStateError:
    return GitStateError(
        f"The object {sha} is missing from the repository.",
        hint="is it a shallow or partial clone? `git fsck` tells what is broken",
    )


def _git_command(repo: git.Repo, *args: str) -> list[str]:
    executable = git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git"
    return [str(executable), f"--git-dir={repo.git_dir}", *args]


def cat_blobs(repo: git.Repo, shas: list[str]) -> Iterator[tuple[str, bytes]]:
    """The contents of many objects from one ``git cat-file --batch`` process."""
    process = subprocess.Popen(
        _git_command(repo, "cat-file", "--batch", "--buffer"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=repo.git_dir,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    writer = threading.Thread(target=_feed, args=(process.stdin, shas), daemon=True)
    writer.start()
    try:
        for sha in shas:
            header = process.stdout.readline()
            parts = header.split()
            if len(parts) != 3:
                if header.endswith(b" missing\n"):
                    raise _missing(sha)
                raise GitStateError(f"git cat-file failed reading {sha}: {_drain(process)}")
            size = int(parts[2])
            data = process.stdout.read(size)
            process.stdout.read(1)  # the LF after each object
            if len(data) != size:  # pragma: no cover - git died mid-object
                raise GitStateError(f"git cat-file stopped reading {sha}: {_drain(process)}")
            yield sha, data
    finally:
        # Stop git first (it may be blocked writing what nobody reads after an error), then the
        # writer (whose pipe is now broken), so neither can wait on the other.
        process.stdout.close()
        if process.poll() is None:
            process.kill()
        process.wait()
        writer.join()
        if process.stderr is not None:
            process.stderr.close()


def _feed(stream: IO[bytes], shas: Iterable[str]) -> None:
    try:
        stream.write("".join(f"{sha}\n" for sha in shas).encode("ascii"))
    except (BrokenPipeError, OSError):  # pragma: no cover - the reader reports the failure
        pass
    finally:
        with contextlib.suppress(OSError):
            stream.close()


def _drain(process: subprocess.Popen[bytes]) -> str:  # pragma: no cover - git failing
    process.kill()
    process.wait()
    if process.stderr is None:
        return "no message"
    return process.stderr.read().decode("utf-8", "replace").strip() or "no message"


def blob_head(repo: git.Repo, sha: str, count: int) -> bytes:
    """The first ``count`` bytes of a (big) blob, without reading the rest."""
    process = subprocess.Popen(
        _git_command(repo, "cat-file", "blob", sha),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=repo.git_dir,
    )
    assert process.stdout is not None
    try:
        head = process.stdout.read(count)
    finally:
        process.stdout.close()
        if process.poll() is None:
            process.kill()
        process.wait()
    if not head and process.returncode not in (0, -9):  # pragma: no cover - missing object
        raise _missing(sha)
    return head


def stderr_text(error: git.GitCommandError) -> str:
    message = error.stderr if isinstance(error.stderr, str) else str(error.stderr or "")
    message = message.strip().removeprefix("stderr:").strip().strip("'").strip()
    first = message.splitlines()[0] if message else f"git exited with {error.status}"
    return first.removeprefix("fatal: ").rstrip(".") + "."
