"""`crdtspace merge`: whole branches merged as concurrent agents, on real repositories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace.branchmerge import merge_branches
from crdtspace.cli import app
from crdtspace.testing import commit_files, git, make_repo

LIB = (
    "def parse(text):\n    return text.split()\n\n\n"
    "def count(text):\n    return len(parse(text))\n"
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
    failing = f"{sys.executable} -c \"raise SystemExit(3)\""
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
