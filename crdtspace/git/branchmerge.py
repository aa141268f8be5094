"""Merging whole branches with the node model: every branch is one agent, editing at once.

`merge_branches(repo, ["feature-a", "feature-b"])` finds the merge base of the current branch
and the others, imports it into one in-memory replica per branch (deterministically: they all
start from the same state, and each writes with a client id fixed by the base, its branch and
its tip, so one merge reports the same conflict ids in every run), applies each branch's
change since the base as that branch's edits (through the same re-keying as any write), syncs
them all and runs the conflict analysis. So a rename on one branch against a new call on
another is caught even across files, which no per-file merge driver can see. Clean: one merge
commit through the gate's checks (syntax, the project's check command), with every branch as a
parent, the current branch moved by compare-and-swap. Not clean: nothing is committed; the
report says what to resolve.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import git

from crdtspace.conflicts.analysis import analysis_of
from crdtspace.conflicts.findings import Analysis
from crdtspace.errors import GitStateError
from crdtspace.git import gitio
from crdtspace.git.gate import (
    GateReport,
    check_command,
    check_syntax,
    check_tree,
    follow_checkout,
    move_branch,
    run_check,
    snapshot,
    write_commit,
)
from crdtspace.git.gitsync import SyncReport, apply_commit_range, sync_git
from crdtspace.git.workspaces import open_workspace
from crdtspace.model.importing import import_client_id, import_commit
from crdtspace.model.links import sync
from crdtspace.model.replica import Replica
from crdtspace.model.storage import LOG_NAME
from crdtspace.model.versions import new_doc


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
    workspace: SyncReport | None = None
    """What the durable workspace took in to stand at the merge commit (None: no workspace)."""

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
    workspace: str | None = None,
    lock_wait: float = 0.0,
) -> MergeReport:
    """Merge `branches` into the current branch (see the module docstring). With `workspace`
    (a durable workspace's name), that workspace, when the repository has one, takes in the
    merge commit afterwards (`sync_git`), so that it stands at the commit the merge made."""
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
        sides = list(zip([report.branch, *branches], [head, *tips], strict=True))
        replicas = _replicas(repo, report.base, sides)
        authors: list[str] = []
        for replica, tip in zip(replicas, [head, *tips], strict=True):
            authors += apply_commit_range(replica, repo, report.base, tip, agent=replica.agent)
            say(f"{replica.agent}: applied its change since the base")
        merged = replicas[0]
        for other in replicas[1:]:
            sync(merged, other)
        report.analysis = analysis_of(merged)
        if not report.clean or dry_run:
            return report
        base = repo.commit(report.base)
        snap = snapshot(merged, repo, base)
        report.files = sorted(snap.changed) + snap.removed
        if not check_tree(repo, snap, report.gate, also=[head, *tips]):
            return report
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
        if workspace is not None:
            report.workspace = _follow_workspace(repo, workspace, lock_wait, report.gate)
        return report
    finally:
        repo.close()


def _follow_workspace(
    repo: git.Repo, name: str, lock_wait: float, gate: GateReport
) -> SyncReport | None:
    """The durable workspace named `name`, if there is one, takes in the new commit."""
    if not (gitio.state_dir(repo, name) / LOG_NAME).is_file():
        return None
    with open_workspace(Replica, gitio.repo_root(repo), workspace=name, lock_wait=lock_wait) as ws:
        synced = sync_git(ws)
    gate.add("workspace", True, f"workspace {name!r} at {synced.new_base[:10]}")
    return synced


def _merge_base(repo: git.Repo, commits: list[str]) -> str:
    try:
        return str(repo.git.merge_base("--octopus", *commits)).strip().splitlines()[0]
    except (git.GitCommandError, IndexError):
        raise GitStateError("These branches share no history: nothing to merge from.") from None


def _replicas(repo: git.Repo, base: str, sides: list[tuple[str, str]]) -> list[Replica]:
    """One in-memory replica per (branch, tip), each importing `base` and writing with its
    `branch_client_id`: the same merge gets the same entry ids, so the same conflict ids."""
    commit = repo.commit(base)
    update = import_commit(base, gitio.read_tree(commit))
    root = gitio.repo_root(repo)
    ids = branch_client_ids(base, sides)
    out = []
    for (agent, _tip), client_id in zip(sides, ids, strict=True):
        doc = new_doc(client_id)
        doc.apply_update(update)
        out.append(Replica(doc, agent=agent, root=root))
    return out


_CLIENT_BITS = (1 << 53) - 1


def branch_client_id(base: str, branch: str, tip: str) -> int:
    """The client id a branch's replica writes with in a merge from `base` (53 bits, never 0).

    Derived from (base, branch, tip), not random: log-entry ids embed the client id and
    conflict ids hash entry ids, so with a random id every run of one merge reported new
    conflict ids (and yrs orders concurrent insertions at one point by client id, so the merged
    text could differ between runs too)."""
    digest = hashlib.blake2b(f"merge\0{base}\0{branch}\0{tip}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") & _CLIENT_BITS or 1


def branch_client_ids(base: str, sides: Sequence[tuple[str, str]]) -> list[int]:
    """`branch_client_id` of each (branch, tip), made distinct from each other and from the
    import's client id (two writers sharing a client id would corrupt the doc). A clash moves
    to the next free id, in the order of the sorted sides, so it does not depend on the order
    the branches were named in."""
    taken = {import_client_id(base)}
    chosen: dict[int, int] = {}
    for index in sorted(range(len(sides)), key=lambda i: (sides[i], i)):
        client_id = branch_client_id(base, *sides[index])
        while client_id in taken:
            client_id = client_id % _CLIENT_BITS + 1
        taken.add(client_id)
        chosen[index] = client_id
    return [chosen[i] for i in range(len(sides))]
