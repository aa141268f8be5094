"""`crdtspace merge`: whole branches merged as concurrent agents, on real repositories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace.cli import app
from crdtspace.git import branchmerge
from crdtspace.git.branchmerge import (
    MergeReport,
    branch_client_id,
    branch_client_ids,
    merge_branches,
)
from crdtspace.model.importing import import_client_id
from crdtspace.testing import commit_files, git, make_repo

LIB = (
    "def parse(text):\n    return text.split()\n\n\ndef count(text):\n    return len(parse(text))\n"
)
MAIN = "from lib import count\n\n\ndef run(text):\n    return count(text)\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"lib.py": LIB, "main.py": MAIN})
    git(root, "branch", "feature-a")
    git(root, "branch", "feature-b")
    return root


def on_branch(repo: Path, branch: str, files: dict[str, str | bytes | None], msg: str) -> None:
    git(repo, "checkout", "-q", branch)
    commit_files(repo, files, msg)
    git(repo, "checkout", "-q", "main")


def test_two_branches_merge_cleanly_into_one_commit(repo: Path) -> None:
    on_branch(repo, "feature-a", {"lib.py": LIB.replace("split()", "split(',')")}, "commas")
    doubled = MAIN.replace("count(text)\n", "count(text) * 2\n")
    on_branch(repo, "feature-b", {"main.py": doubled}, "x2")
    commit_files(repo, {"README.md": "# tool\n"}, "readme on main")
    report = merge_branches(repo, ["feature-a", "feature-b"], run_the_check=False)
    assert report.clean
    assert report.commit is not None
    parents = git(repo, "log", "-1", "--format=%P").split()
    assert len(parents) == 3
    assert git(repo, "show", "HEAD:lib.py") == LIB.replace("split()", "split(',')")
    assert git(repo, "show", "HEAD:main.py").endswith("count(text) * 2\n")
    assert git(repo, "show", "HEAD:README.md") == "# tool\n"
    # the checked-out branch moved: its index and working tree followed
    assert report.gate.steps[-1].name == "worktree"
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "lib.py").read_text() == LIB.replace("split()", "split(',')")


def test_a_rename_on_one_branch_against_a_new_call_in_a_new_file(repo: Path) -> None:
    renamed = LIB.replace("def count(", "def word_count(")
    callers = MAIN.replace("count", "word_count")
    on_branch(repo, "feature-a", {"lib.py": renamed, "main.py": callers}, "rename")
    on_branch(
        repo,
        "feature-b",
        {"report.py": "from lib import count\n\n\ndef show(text):\n    print(count(text))\n"},
        "report",
    )
    tip = git(repo, "rev-parse", "HEAD").strip()
    report = merge_branches(repo, ["feature-a", "feature-b"], run_the_check=False)
    assert not report.clean
    (conflict,) = report.analysis.conflicts
    assert conflict.kind == "dangling-reference"
    assert set(conflict.agents) == {"feature-a", "feature-b"}
    assert {p.path for p in conflict.places} == {"lib.py", "report.py"}
    assert report.commit is None
    assert git(repo, "rev-parse", "HEAD").strip() == tip


def test_a_failing_check_commits_nothing(repo: Path) -> None:
    on_branch(repo, "feature-a", {"lib.py": LIB.replace("split()", "split(',')")}, "commas")
    tip = git(repo, "rev-parse", "HEAD").strip()
    failing = f'{sys.executable} -c "raise SystemExit(3)"'
    report = merge_branches(repo, ["feature-a"], check=failing)
    assert report.clean
    assert report.commit is None
    assert report.gate.steps[-1].name == "check"
    assert git(repo, "rev-parse", "HEAD").strip() == tip


def test_cli_exit_codes_and_json(repo: Path) -> None:
    runner = CliRunner()
    on_branch(repo, "feature-a", {"lib.py": LIB.replace("split()", "split(',')")}, "commas")
    result = runner.invoke(app, ["-C", str(repo), "merge", "feature-a", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["clean"] is True
    assert found["commit"] is None
    result = runner.invoke(app, ["-C", str(repo), "merge", "no-such-branch"])
    assert result.exit_code == 2
    assert "no-such-branch" in result.stderr
    result = runner.invoke(app, ["-C", str(repo), "merge", "feature-a", "--no-check"])
    assert result.exit_code == 0, result.output
    assert "merged feature-a into main" in result.stdout


def both_change_parse(repo: Path) -> None:
    """feature-a and feature-b change the same line of parse differently; main reads on."""
    on_branch(repo, "feature-a", {"lib.py": LIB.replace("split()", "split(',')")}, "commas")
    on_branch(repo, "feature-b", {"lib.py": LIB.replace("split()", "split(';')")}, "semis")
    commit_files(repo, {"README.md": "# tool\n"}, "readme on main")


def findings(report: MergeReport) -> list[tuple[object, ...]]:
    return [(c.id, c.kind, c.message, c.agents, c.sides) for c in report.analysis]


def test_the_same_merge_gets_the_same_conflict_ids_and_wording_every_time(repo: Path) -> None:
    both_change_parse(repo)
    runs = [
        merge_branches(repo, ["feature-a", "feature-b"], dry_run=True),
        merge_branches(repo, ["feature-a", "feature-b"], dry_run=True),
        merge_branches(repo, ["feature-b", "feature-a"], dry_run=True),
    ]
    first = findings(runs[0])
    assert first
    assert all(findings(run) == first for run in runs[1:])
    (conflict,) = runs[0].analysis.conflicts
    assert conflict.kind == "overlap"
    assert conflict.message == "feature-a and feature-b changed the same lines of parse."
    # nothing random in the replicas' entry ids: each branch writes with its own fixed client id
    base = runs[0].base
    tips = {b: git(repo, "rev-parse", b).strip() for b in ("feature-a", "feature-b")}
    clients = {int(s.entry.partition(".")[0], 16) for s in conflict.sides}
    assert clients == {branch_client_id(base, b, tip) for b, tip in tips.items()}


def test_cli_merge_reports_stable_ids_in_both_branch_orders(repo: Path) -> None:
    both_change_parse(repo)
    runner = CliRunner()

    def conflicts(*args: str) -> list[tuple[str, str]]:
        result = runner.invoke(app, ["-C", str(repo), "merge", *args, "--json"])
        assert result.exit_code == 1, result.output
        return [(c["id"], c["message"]) for c in json.loads(result.stdout)["conflicts"]]

    found = conflicts("feature-a", "feature-b", "--dry-run")
    assert len(found) == 1
    assert found[0][1] == "feature-a and feature-b changed the same lines of parse."
    assert conflicts("feature-a", "feature-b", "--dry-run") == found
    assert conflicts("feature-b", "feature-a", "--dry-run") == found
    assert conflicts("feature-b", "feature-a") == found  # a real (refused) merge: the same
    # the table names the same id the JSON did, run after run
    for _ in range(2):
        result = runner.invoke(app, ["-C", str(repo), "merge", "feature-a", "feature-b"])
        assert result.exit_code == 1, result.output
        assert found[0][0] in result.stdout


def test_branch_client_ids_are_fixed_distinct_and_never_the_imports() -> None:
    base, tip = "a" * 40, "b" * 40
    sides = [("main", base), ("feature-a", tip), ("feature-b", tip)]
    ids = branch_client_ids(base, sides)
    assert ids == branch_client_ids(base, sides)
    assert ids[::-1] == branch_client_ids(base, sides[::-1])
    assert len(set(ids)) == 3
    assert import_client_id(base) not in ids
    assert all(0 < i < 2**53 for i in ids)
    assert ids[1] == branch_client_id(base, "feature-a", tip)
    assert branch_client_id(base, "feature-a", "c" * 40) != ids[1]  # a new tip, a new writer
    twice = branch_client_ids(base, [("feature-a", tip), ("feature-a", tip)])
    assert len(set(twice)) == 2  # one branch named twice still gets two writers


def test_clashing_client_ids_move_to_free_ones_in_a_fixed_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = "a" * 40
    monkeypatch.setattr(branchmerge, "branch_client_id", lambda *_: import_client_id(base))
    sides = [("main", "1" * 40), ("feature-a", "2" * 40), ("feature-b", "3" * 40)]
    ids = branch_client_ids(base, sides)
    assert len(set(ids)) == 3
    assert import_client_id(base) not in ids
    assert ids[::-1] == branch_client_ids(base, sides[::-1])


def test_a_merge_leaves_the_workspace_at_its_merge_commit(repo: Path) -> None:
    """After `crdtspace merge` the workspace stands at the merge commit: the next commit
    through the gate works without a `sync-git` first."""
    runner = CliRunner()
    assert runner.invoke(app, ["-C", str(repo), "init"]).exit_code == 0
    on_branch(repo, "feature-a", {"lib.py": LIB.replace("split()", "split(',')")}, "commas")
    result = runner.invoke(app, ["-C", str(repo), "merge", "feature-a", "--no-check", "--json"])
    assert result.exit_code == 0, result.output
    merged = json.loads(result.stdout)
    assert merged["workspace"] == merged["commit"] == git(repo, "rev-parse", "HEAD").strip()
    shown = runner.invoke(app, ["-C", str(repo), "show", "lib.py"])
    assert "split(',')" in shown.stdout
    doubled = MAIN.replace("count(text)\n", "count(text) * 2\n")
    wrote = runner.invoke(app, ["-C", str(repo), "write", "main.py", "--agent", "al"], doubled)
    assert wrote.exit_code == 0, wrote.output
    committed = runner.invoke(app, ["-C", str(repo), "commit", "-m", "x2", "--no-check"])
    assert committed.exit_code == 0, committed.output
    assert git(repo, "show", "HEAD:main.py") == doubled
    assert git(repo, "show", "HEAD:lib.py") == LIB.replace("split()", "split(',')")
