"""Merging whole branches with the node model: every branch is one agent, editing at once.

`merge_branches(repo, ["feature-a", "feature-b"])` finds the merge base of the current branch
and the others, imports it into one in-memory replica per branch (deterministically: they all
start from the same state), applies each branch's change since the base as that branch's edits
(through the same re-keying as any write), syncs them all and runs the conflict analysis. So a
rename on one branch against a new call on another is caught even across files, which no
per-file merge driver can see. Clean: one merge commit through the gate's checks (syntax, the
project's check command), with every branch as a parent, the current branch moved by
compare-and-swap. Not clean: nothing is committed; the report says what to resolve.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
from pycrdt import Doc

from crdtspace import gitio
from crdtspace.conflicts import Analysis
from crdtspace.document import import_commit
from crdtspace.errors import GitStateError
from crdtspace.gate import (
    GateReport,
    check_command,
    check_syntax,
    follow_checkout,
    move_branch,
    run_check,
    snapshot,
    write_commit,
)
from crdtspace.gitsync import apply_commit_range
from crdtspace.replicas import sync
from crdtspace.workspace import Workspace


@dataclass
class MergeReport:
    """What a branch merge found and did."""

    branch: str = ""
    branches: list[str] = field(default_factory=list)
    base: str = ""
    analysis: Analysis = field(default_factory=Analysis)
    gate: GateReport = field(default_factory=GateReport)
    commit: str | None = None
    files: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.analysis.conflicts and not self.analysis.broken


def merge_branches(
    repo_path: Path | str,
    branches: Sequence[str],
    *,
    message: str | None = None,
    check: str | None = None,
    run_the_check: bool = True,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> MergeReport:
    """Merge `branches` into the current branch (see the module docstring)."""
    say = progress or (lambda _text: None)
    repo = gitio.open_repo(Path(repo_path))
    try:
        report = MergeReport(branches=list(branches))
        try:
            report.branch = str(repo.active_branch.name)
        except TypeError:
            raise GitStateError("HEAD is detached: merge into a branch.") from None
        head = gitio.resolve_commit(repo, "HEAD").hexsha
        tips = [gitio.resolve_commit(repo, b).hexsha for b in branches]
        report.base = _merge_base(repo, [head, *tips])
        say(f"merge base {report.base[:10]}; {len(tips) + 1} sides")
        replicas = _replicas(repo, report.base, [report.branch, *branches])
        authors: list[str] = []
        for replica, tip in zip(replicas, [head, *tips], strict=True):
            authors += apply_commit_range(replica, repo, report.base, tip, agent=replica.agent)
            say(f"{replica.agent}: applied its change since the base")
        merged = replicas[0]
        for other in replicas[1:]:
            sync(merged, other)
        report.analysis = merged.analysis()
        if not report.clean or dry_run:
            return report
        base = repo.commit(report.base)
        snap = snapshot(merged, repo, base)
        report.files = sorted(snap.changed) + snap.removed
        if not check_syntax(base, snap.changed, report.gate):
            return report
        config = dict(snap.changed)
        command = check_command(config, check) if run_the_check else None
        if command and not run_check(
            repo, base, snap.changed, command, report.gate, removed=snap.removed
        ):
            return report
        text = message or f"Merge {', '.join(branches)} into {report.branch} (crdtspace)"
        sha, _ = write_commit(
            merged,
            repo,
            base,
            snap,
            text,
            list(dict.fromkeys(authors)),
            parents=[repo.commit(head), *(repo.commit(t) for t in tips)],
        )
        move_branch(repo, report.branch, sha, head)
        report.commit = sha
        report.gate.add("commit", True, f"{sha[:10]} on {report.branch}")
        follow_checkout(repo, report.branch, head, sha, report.gate)
        return report
    finally:
        repo.close()


def _merge_base(repo: git.Repo, commits: list[str]) -> str:
    try:
        return str(repo.git.merge_base("--octopus", *commits)).strip().splitlines()[0]
    except (git.GitCommandError, IndexError):
        raise GitStateError("These branches share no history: nothing to merge from.") from None


def _replicas(repo: git.Repo, base: str, agents: list[str]) -> list[Workspace]:
    commit = repo.commit(base)
    update = import_commit(base, gitio.read_tree(commit))
    root = gitio.repo_root(repo)
    out = []
    for agent in agents:
        doc: Doc[Any] = Doc()
        doc.apply_update(update)
        out.append(Workspace(doc, agent=agent, root=root))
    return out
