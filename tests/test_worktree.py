"""`crdtspace.git.worktree.follow`: the index and working tree follow a commit only where nobody
has work. Real repositories; the gate's own use is in test_gate.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git as gitpython

from crdtspace.git.worktree import follow
from crdtspace.testing import commit_files, git, make_repo


def _two_commits(tmp_path: Path, old: dict[str, str], new: dict[str, str | None]) -> Path:
    """A repository checked out at `old`'s commit, with `new`'s commit made after it (as the
    gate makes one: the checkout does not move)."""
    repo = make_repo(tmp_path / "repo", old)
    first = git(repo, "rev-parse", "HEAD").strip()
    second = commit_files(repo, new, "the agents' commit")
    git(repo, "reset", "--quiet", "--hard", first)
    git(repo, "tag", "old", first)
    git(repo, "tag", "new", second)
    return repo


def _follow(repo: Path, *, move: bool = True) -> dict[str, str]:
    with gitpython.Repo(repo) as handle:
        out = follow(handle, "old", "new")
    if move:
        git(repo, "reset", "--quiet", "--soft", "new")  # what moving the branch does
    return out.kept


def test_files_follow_and_the_status_is_clean(tmp_path: Path) -> None:
    repo = _two_commits(
        tmp_path,
        {"a.py": "a = 1\n", "gone.py": "x\n"},
        {"a.py": "a = 2\n", "d/new.py": "n\n", "gone.py": None},
    )
    assert _follow(repo) == {}
    assert (repo / "a.py").read_text() == "a = 2\n"
    assert (repo / "d" / "new.py").read_text() == "n\n"
    assert not (repo / "gone.py").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_merge_conflict_is_left_exactly_as_it_is(tmp_path: Path) -> None:
    repo = _two_commits(tmp_path, {"a.py": "a = 1\n"}, {"a.py": "a = 2\n"})
    blob = git(repo, "hash-object", "-w", "a.py").strip()
    stages = "".join(f"100644 {blob} {n}\ta.py\0" for n in (1, 2, 3))
    git(repo, "update-index", "--force-remove", "a.py")
    subprocess.run(
        ["git", "-C", str(repo), "update-index", "-z", "--index-info"],
        input=stages.encode(),
        check=True,
    )
    (repo / "a.py").write_text("<<<<<<< ours\n")
    assert _follow(repo, move=False) == {"a.py": "in a merge conflict"}
    assert (repo / "a.py").read_text() == "<<<<<<< ours\n"
    assert len(git(repo, "ls-files", "-s", "a.py").splitlines()) == 3


def test_a_path_behind_a_symlink_out_of_the_tree_is_not_written(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = _two_commits(tmp_path, {"a.py": "a = 1\n"}, {"lib/x.py": "x = 1\n"})
    (repo / "lib").symlink_to(outside)
    assert _follow(repo) == {"lib/x.py": "behind a symbolic link that leaves the working tree"}
    assert list(outside.iterdir()) == []


def test_line_ending_conversion_is_git_s_own(tmp_path: Path) -> None:
    """With `core.autocrlf`, files on disk have CRLF while blobs have LF: git's own hashing and
    checkout decide, so such files follow too, converted as git converts them."""
    repo = _two_commits(tmp_path, {"a.py": "a = 1\nb = 2\n"}, {"a.py": "a = 10\nb = 2\n"})
    subprocess.run(["git", "-C", str(repo), "config", "core.autocrlf", "true"], check=True)
    (repo / "a.py").unlink()
    subprocess.run(["git", "-C", str(repo), "checkout", "--", "a.py"], check=True)
    assert (repo / "a.py").read_bytes() == b"a = 1\r\nb = 2\r\n"
    assert _follow(repo) == {}
    assert (repo / "a.py").read_bytes() == b"a = 10\r\nb = 2\r\n"
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
