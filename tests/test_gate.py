"""The commit gate and git into the CRDT, on real repositories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace import Workspace, sync
from crdtspace.cli import app
from crdtspace.errors import GitStateError
from crdtspace.testing import commit_files, git, make_repo

APP = "def total(xs):\n    return sum(xs)\n\n\ndef mean(xs):\n    return total(xs) / len(xs)\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {"app.py": APP, "README.md": "# app\n", "logo.png": b"\x89PNG\x00\x01"},
        user="Repo Owner",
        email="owner@example.com",
    )


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def show(repo: Path, rev: str, path: str) -> str:
    return git(repo, "show", f"{rev}:{path}")


def test_a_commit_through_the_gate(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        alice = home.replica("alice")
        alice.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        alice.write("util.py", "def double(x):\n    return 2 * x\n")
        sync(home, alice)
        report = home.commit("Use a start value; add util", run_check=False)
        assert report.ok, report.steps
        assert [s.name for s in report.steps] == [
            "convergence",
            "conflicts",
            "tree",
            "syntax",
            "check",
            "commit",
            "worktree",
        ]
    assert head(repo) == report.commit
    assert "sum(xs, 0)" in show(repo, "HEAD", "app.py")
    assert show(repo, "HEAD", "util.py") == "def double(x):\n    return 2 * x\n"
    assert git(repo, "show", "HEAD:logo.png", "--textconv") is not None
    message = git(repo, "log", "-1", "--format=%B")
    assert "Co-authored-by: alice <alice@agents.crdtspace.invalid>" in message
    assert "Crdtspace-State: " in message
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Repo Owner <owner@example.com>"
    assert report.files_changed == ["app.py", "util.py"]
    # nobody had uncommitted work: the index and working tree followed the branch
    assert report.kept == {}
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert "sum(xs, 0)" in (repo / "app.py").read_text()
    assert (repo / "util.py").read_text() == "def double(x):\n    return 2 * x\n"


def test_uncommitted_work_is_left_alone_when_the_checkout_follows(repo: Path) -> None:
    """Paths with work of someone's (changed on disk, staged) keep it, byte for byte, and are
    named; the other changed paths follow the branch; a removed file goes from disk."""
    (repo / "tools.py").write_text("def tool():\n    return 1\n")
    (repo / "run.sh").write_text("echo run\n")
    (repo / "run.sh").chmod(0o755)
    commit_files(repo, {"notes.md": "notes\n"}, "more files")
    with Workspace.init(repo, agent="lead") as home:
        home.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        home.write("README.md", "# app, by agents\n")
        home.write("tools.py", "def tool():\n    return 2\n")
        home.write("run.sh", "echo run fast\n")
        home.remove("notes.md")
        mine = "# my own readme\n"
        (repo / "README.md").write_text(mine)  # changed on disk, not staged
        (repo / "tools.py").write_text("def tool():\n    return 3\n")
        git(repo, "add", "tools.py")  # staged
        report = home.commit("agents' work", run_check=False)
    assert report.ok, report.steps
    assert report.kept == {"README.md": "changed on disk", "tools.py": "staged changes"}
    step = report.steps[-1]
    assert step.name == "worktree"
    assert "README.md" in step.detail
    assert "tools.py" in step.detail
    assert (repo / "README.md").read_text() == mine
    assert (repo / "tools.py").read_text() == "def tool():\n    return 3\n"
    assert "sum(xs, 0)" in (repo / "app.py").read_text()
    assert (repo / "run.sh").read_text() == "echo run fast\n"
    assert (repo / "run.sh").stat().st_mode & 0o111  # still executable
    assert not (repo / "notes.md").exists()
    status = sorted(git(repo, "status", "--porcelain").splitlines())
    assert status == [" M README.md", "M  tools.py"]  # only the user's own work shows


def test_the_next_commit_names_only_new_contributors(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        alice.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        sync(home, alice)
        sync(home, bob)
        assert home.commit("first", run_check=False).coauthors == ["alice"]
        bob.write("README.md", "# app\n\nby bob\n")
        sync(home, bob)
        sync(home, alice)
        assert home.commit("second", run_check=False).coauthors == ["bob"]


def test_open_conflicts_refuse_and_change_nothing(repo: Path) -> None:
    tip = head(repo)
    with Workspace.init(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        alice.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        bob.write("app.py", APP.replace("sum(xs)", "sum(list(xs))"))
        sync(alice, bob)
        sync(home, alice)
        sync(home, bob)
        report = home.commit("both", run_check=False)
        assert not report.ok
        assert report.steps[-1].name == "conflicts"
        assert "overlap" in report.steps[-1].detail
    assert head(repo) == tip


def test_a_replica_behind_is_named_and_allow_behind_commits(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        alice, bob = home.replica("alice"), home.replica("bob")
        bob.write("README.md", "# app\n\nbob was here\n")
        sync(home, bob)
        alice.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        sync(home, alice)
        report = home.commit("not yet", run_check=False)
        assert not report.ok
        assert report.steps[0].name == "convergence"
        assert "bob" in report.steps[0].detail
        assert "behind" in report.steps[0].detail
        sync(home, bob)
        assert home.commit("now", run_check=False).ok


def test_a_silent_replica_is_named(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        alice = home.replica("alice")
        alice.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        home.apply_update(alice.update_since(home.state()))  # no report from alice
        report = home.commit("x", run_check=False)
        assert not report.ok
        assert "alice" in report.steps[0].detail
        assert "silent" in report.steps[0].detail
        assert home.commit("x", run_check=False, allow_behind=True).ok


def test_code_that_does_not_parse_is_refused(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        home.write("app.py", APP + "\ndef broken(:\n")
        report = home.commit("broken", run_check=False)
        assert not report.ok
        assert report.steps[-1].name in ("syntax", "conflicts")


def test_the_check_command_runs_on_the_rendered_tree(repo: Path) -> None:
    check = f'{sys.executable} -c "import app; assert app.total([1, 2]) == 3"'
    with Workspace.init(repo, agent="lead") as home:
        home.write("app.py", APP.replace("sum(xs)", "sum(xs) + 1"))
        report = home.commit("off by one", check=check)
        assert not report.ok
        assert report.steps[-1].name == "check"
        assert "exited 1" in report.steps[-1].detail
        home.write("app.py", APP.replace("sum(xs)", "sum(xs, 0)"))
        assert home.commit("fine", check=check).ok
    assert git(repo, "worktree", "list").count("\n") == 1  # the temporary worktree is gone


def test_the_check_command_from_pyproject(repo: Path) -> None:
    commit_files(repo, {"pyproject.toml": '[tool.crdtspace]\ncheck = "false"\n'}, "configure")
    with Workspace.init(repo, agent="lead") as home:
        home.write("README.md", "# app!\n")
        report = home.commit("readme")
        assert not report.ok
        assert "`false`" in report.steps[-1].detail
        assert home.commit("readme", run_check=False).ok


def test_a_moved_branch_refuses_then_sync_git_brings_it_in(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        home.write("README.md", "# app, by the workspace\n")
        commit_files(repo, {"app.py": APP.replace("len(xs)", "max(len(xs), 1)")}, "safer mean")
        with pytest.raises(GitStateError, match="sync-git"):
            home.commit("readme", run_check=False)
        report = home.sync_git()
        assert len(report.commits) == 1
        assert "max(len(xs), 1)" in home.render("app.py")
        assert home.commit("readme", run_check=False).ok
    assert "max(len(xs), 1)" in show(repo, "HEAD", "app.py")
    assert show(repo, "HEAD", "README.md") == "# app, by the workspace\n"


def test_sync_git_applies_commits_as_their_authors_edits(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        bob = home.replica("bob")
        git(
            repo, "-c", "user.name=Pat", "-c", "user.email=pat@example.com", "rm", "-q", "README.md"
        )
        (repo / "app.py").write_text(APP.replace("sum(xs)", "sum(xs) or 0"))
        (repo / "data.bin").write_bytes(b"\x00\x01")
        git(repo, "add", "-A")
        git(
            repo,
            "-c",
            "user.name=Pat",
            "-c",
            "user.email=pat@example.com",
            "commit",
            "-qm",
            "pat's change",
        )
        report = home.sync_git()
        assert report.files == ["README.md", "app.py", "data.bin"]
        assert "README.md" not in home.paths()
        assert "data.bin" in [g.path for g in home.git_only()]
        agents = {e.agent for _, e in home.log("app.py::total")}
        assert agents == {"Pat"}
        # concurrent edits are checked against the commit like any other
        bob.write("app.py", APP.replace("sum(xs)", "sum(list(xs))"))
        sync(home, bob)
        (conflict,) = home.conflicts()
        assert conflict.kind == "overlap"
        assert conflict.agents == ("Pat", "bob")
        assert home.sync_git().commits == []


def test_sync_git_after_history_was_rewritten(repo: Path) -> None:
    with Workspace.init(repo, agent="lead") as home:
        git(repo, "commit", "-q", "--amend", "-m", "reworded")
        commit_files(repo, {"README.md": "# amended\n"}, "amend")
        report = home.sync_git()
        assert report.rewritten
        assert home.render("README.md") == "# amended\n"


def test_cli_commit_and_sync_git(repo: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["-C", str(repo), "init", "--agent", "lead"]).exit_code == 0
    written = runner.invoke(
        app, ["-C", str(repo), "write", "README.md", "--agent", "carol"], input="# new\n"
    )
    assert written.exit_code == 0
    result = runner.invoke(app, ["-C", str(repo), "commit", "-m", "readme", "--no-check"])
    assert result.exit_code == 0, result.stdout
    assert "ok   convergence" in result.stdout
    assert "committed" in result.stdout
    assert "Co-authored-by: carol" in git(repo, "log", "-1", "--format=%B")
    result = runner.invoke(app, ["-C", str(repo), "commit", "-m", "again", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["committed"] is None
    commit_files(repo, {"README.md": "# outside\n"}, "outside")
    result = runner.invoke(app, ["-C", str(repo), "sync-git"])
    assert result.exit_code == 0
    assert "applied 1 commit(s)" in result.stdout
    result = runner.invoke(app, ["-C", str(repo), "sync-git", "--json"])
    assert json.loads(result.stdout)["commits"] == []
