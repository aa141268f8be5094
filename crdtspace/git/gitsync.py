"""Git into the CRDT: commits made outside the workspace become edits by their authors.

A person's commit, a pull, a merge or a checkout moves the branch past the workspace's base.
`sync_git` applies every commit between the two (first parent, oldest first) as edits of an
agent named after the commit's author, through the same re-keying as any whole-file write, so
live agents see them and concurrent edits are checked against them like any other. Only the
workspace's home replica (the durable one, on the repository's machine) runs it, so a commit is
applied once. When the branch was rewritten (the base is no longer an ancestor), the difference
from the base to the new tip is applied as one edit by the tip's author.

The commits are applied where they were made: on a fork of the workspace restored to the
version of its base commit (`Replica.fork_at`), each commit's diff from its parent, then
merged back as edits concurrent with everything the agents did since. So a commit that changed
one function of a file never undoes an agent's pending edit to another function of it, and
one that changed the lines an agent also changed is an `overlap`, not a silent overwrite. The
fork's final state (exactly the tip's files) becomes the version of the new base.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import git

from crdtspace.errors import GitStateError
from crdtspace.git import gitio

if TYPE_CHECKING:
    from crdtspace.model.replica import Replica


@dataclass(frozen=True)
class Change:
    """One file changed by a commit: status A (added), M (modified) or D (deleted)."""

    status: str
    path: str
    mode: str
    blob: str


@dataclass
class SyncReport:
    """What `sync_git` brought in."""

    branch: str = ""
    old_base: str = ""
    new_base: str = ""
    commits: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rewritten: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.commits)


def sync_git(ws: Replica) -> SyncReport:
    """Apply the commits that arrived on the branch since the workspace's base."""
    if ws.root is None:
        raise GitStateError("This workspace has no repository to follow.")
    repo = gitio.open_repo(ws.root)
    try:
        try:
            branch = str(repo.active_branch.name)
        except TypeError:
            raise GitStateError(
                "HEAD is detached: crdtspace follows a branch.", hint="check out a branch"
            ) from None
        base = str(ws.document.meta.get("base", ""))
        tip = gitio.resolve_commit(repo, f"refs/heads/{branch}").hexsha
        report = SyncReport(branch, base, tip)
        if tip == base:
            return report
        commits, report.rewritten = _commits_between(repo, base, tip)
        forked = ws.fork_at(ws.commit_version())
        previous = base
        try:
            for commit in commits:
                changes = list(_changes(repo, previous, commit.hexsha))
                _apply(forked, repo, commit, changes)
                report.commits.append(commit.hexsha)
                report.files.extend(c.path for c in changes if c.path not in report.files)
                previous = commit.hexsha
        except BaseException:
            forked.close()
            raise
        written = ws.merge_fork(forked)
        ws.committed(tip, state=ws.versions.get(written))
        return report
    finally:
        repo.close()


def _commits_between(repo: git.Repo, base: str, tip: str) -> tuple[list[git.Commit], bool]:
    try:
        repo.git.merge_base("--is-ancestor", base, tip)
    except git.GitCommandError:
        return [repo.commit(tip)], True
    found = list(repo.iter_commits(f"{base}..{tip}", first_parent=True, reverse=True))
    return found, False


def _changes(repo: git.Repo, old: str, new: str) -> Iterator[Change]:
    """`git diff-tree -r --no-renames -z old new`, parsed."""
    raw = repo.git.diff_tree("-r", "--no-renames", "-z", old, new)
    fields = raw.split("\0")
    i = 0
    while i + 1 < len(fields):
        meta, path = fields[i], fields[i + 1]
        i += 2
        if not meta.startswith(":"):
            continue
        _old_mode, new_mode, _old_blob, new_blob, status = meta[1:].split()
        yield Change(status[0], path, new_mode, new_blob)


def apply_commit_range(
    ws: Replica, repo: git.Repo, base: str, tip: str, *, agent: str
) -> list[str]:
    """Apply the whole change from `base` to `tip` as one edit by `agent` (a branch merged as
    one side); returns the authors of the commits in between, for co-author trailers."""
    changes = list(_changes(repo, base, tip))
    if changes:
        _apply_changes(ws, repo, changes, agent, f"{agent}: {base[:10]}..{tip[:10]}")
    authors = repo.git.log("--format=%an", f"{base}..{tip}").splitlines()
    return list(dict.fromkeys(a for a in authors if a))


def _apply(ws: Replica, repo: git.Repo, commit: git.Commit, changes: list[Change]) -> None:
    author = str(commit.author.name or commit.author.email or "git")
    summary = str(commit.summary)[:60]
    _apply_changes(ws, repo, changes, author, f"git {commit.hexsha[:10]}: {summary}")


def _apply_changes(
    ws: Replica, repo: git.Repo, changes: list[Change], agent: str, description: str
) -> None:
    with ws.acting_as(agent), ws.transaction(description):
        for change in changes:
            if change.status == "D":
                ws.forget_path(change.path)
                continue
            if change.mode == gitio.MODE_SUBMODULE:  # a gitlink: a commit of another
                # repository, not a blob here (never read); kept as git has it, like init
                ws.keep_in_git(change.path, change.blob, change.mode, "submodule")
                continue
            data = gitio.blob_text(repo, change.blob)
            text, reason = gitio.classify(data) if change.mode.startswith("100") else (None, None)
            if text is None:
                ws.keep_in_git(change.path, change.blob, change.mode, reason or "not a file")
            else:
                if change.path in ws.document.gitonly:
                    ws.forget_path(change.path)
                ws.write(change.path, text, description=description)
                ws.set_mode(change.path, change.mode)
