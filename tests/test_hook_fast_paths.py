"""The hooks' and status's fast paths (crdtspace.git.summary): taken when they should be, never
otherwise, and leaving the workspace exactly where the slow paths would.

The hooks are installed with a spy python that notes each hook it is started for, then runs
the real one: a fast path is one where the spy notes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import crdtspace
from crdtspace import Workspace
from crdtspace.git import summary
from crdtspace.git.hooks import install
from crdtspace.testing import git, make_repo

SOURCE = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
EDITED = "def f():\n    return 10\n\n\ndef g():\n    return 2\n"
AGAIN = "def f():\n    return 10\n\n\ndef g():\n    return 20\n"


def _env(**extra: str) -> dict[str, str]:
    drop = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "CRDTSPACE_HOOKS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"CRDTSPACE_SERVICE": "0", **extra})
    return env


class Repo:
    """A repository with a workspace and the hooks, run by a spy python."""

    def __init__(self, root: Path, spied: Path) -> None:
        self.root, self.spied = root, spied
        self.state = root / ".git" / "crdtspace" / "default"

    def started(self) -> list[str]:
        """The hooks python was started for since the last call."""
        if not self.spied.exists():
            return []
        names = self.spied.read_text(encoding="utf-8").split()
        self.spied.unlink()
        return names

    def git(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, text=True, env=_env(**extra)
        )

    def commit(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return self.git("commit", "-m", "by hand", *args, **extra)

    def cli(self, *args: str, where: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crdtspace", "-C", str(where or self.root), *args],
            capture_output=True,
            text=True,
            env=_env(),
        )

    def stage(self, **files: str) -> None:
        for name, text in files.items():
            (self.root / name.replace("_", ".")).write_text(text, encoding="utf-8")
            git(self.root, "add", name.replace("_", "."))

    def write(self, path: str, text: str, agent: str = "alice") -> None:
        with Workspace.open(self.root, agent=agent) as ws:
            ws.write(path, text)

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()

    def base(self) -> str:
        with Workspace.open(self.root) as ws:
            return ws.status().base


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = make_repo(tmp_path / "repo", {"a.py": SOURCE, "notes.txt": "notes\n"})
    spied = tmp_path / "started"
    spy = tmp_path / "spy-python"
    spy.write_text(
        f'#!/bin/sh\necho "$4" >> {spied}\nexec {sys.executable} "$@"\n', encoding="utf-8"
    )
    spy.chmod(0o755)
    install(root, python=str(spy))
    Workspace.init(root, agent="setup").close()
    return Repo(root, spied)


# -- taken ------------------------------------------------------------------------------------


def test_a_commit_of_the_workspaces_state_starts_no_python(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    repo.stage(a_py=EDITED)
    done = repo.commit()
    assert done.returncode == 0, done.stderr
    assert repo.started() == []
    assert (repo.state / summary.PENDING_BASE).exists()
    with Workspace.open(repo.root) as ws:  # the new base is recorded on opening
        assert ws.status().base == repo.head()
        assert ws.changed_files() == {}
        assert ws.render("a.py") == EDITED
    assert not (repo.state / summary.PENDING_BASE).exists()


def test_after_a_fast_commit_everything_behaves_as_after_the_slow_one(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    repo.stage(a_py=EDITED)
    assert repo.commit().returncode == 0
    assert repo.started() == []
    fast_text, fast_json = repo.cli("status").stdout, repo.cli("status", "--json").stdout
    assert f"base commit   {repo.head()}" in fast_text
    assert json.loads(fast_json)["changed"] == {}
    (repo.state / summary.STATUS_CACHE).unlink()  # the same state, the workspace opened
    slow_json, slow_text = repo.cli("status", "--json").stdout, repo.cli("status").stdout
    assert (fast_text, fast_json) == (slow_text, slow_json)
    assert "up to date" in repo.cli("sync-git").stdout
    gate = repo.cli("commit", "-m", "nothing new", "--no-check")
    assert "nothing to commit" in gate.stdout  # not "behind"
    # a second commit, the slow way (a file by hand): no false "behind HEAD"
    repo.stage(notes_txt="by hand\n")
    assert repo.commit("--no-verify").returncode == 0
    assert repo.base() == repo.head()
    with Workspace.open(repo.root) as ws:
        assert ws.render("notes.txt") == "by hand\n"
        assert ws.render("a.py") == EDITED


def test_fast_commits_in_a_row_and_an_edit_between(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    repo.stage(a_py=EDITED)
    assert repo.commit().returncode == 0
    assert repo.commit("--allow-empty", "-m", "again").returncode == 0  # the same tree
    assert repo.started() == []
    first = repo.head()
    repo.write("a.py", AGAIN, agent="bob")  # opens: records the pending base first
    repo.stage(a_py=AGAIN)
    assert repo.commit().returncode == 0
    assert repo.started() == []
    assert git(repo.root, "rev-parse", "HEAD^").strip() == first
    with Workspace.open(repo.root) as ws:
        assert ws.status().base == repo.head()
        assert ws.render("a.py") == AGAIN


def test_status_answers_from_the_summary_without_heavy_imports(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    probe = (
        "import sys, json, contextlib, io\n"
        f"sys.argv = ['crdtspace', '-C', {str(repo.root)!r}, 'status', '--json']\n"
        "from crdtspace.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), check=True
    )
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    assert not modules & {"typer", "pycrdt", "git", "tree_sitter", "rich"}
    fast = repo.cli("status", "--json").stdout
    (repo.state / summary.STATUS_CACHE).unlink()
    assert repo.cli("status", "--json").stdout == fast
    assert json.loads(fast)["changed"] == {"a.py": ["alice"]}


# -- not taken ------------------------------------------------------------------------------


def test_an_edit_after_the_summary_goes_the_slow_way(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("a.py", EDITED)  # the summary says EDITED
    monkeypatch.setattr(summary, "refresh", lambda *a, **k: None)
    repo.write("a.py", AGAIN, agent="bob")  # not in the summary
    repo.stage(a_py=EDITED)
    state = summary.read_hook_state(repo.state)
    assert state is not None
    assert git(repo.root, "write-tree").strip() == state.tree
    done = repo.commit()
    assert done.returncode != 0
    assert "a.py: staged content differs" in done.stderr
    assert repo.started() == ["pre-commit"]


def test_open_conflicts_go_the_slow_way(repo: Repo) -> None:
    durable = Workspace.open(repo.root, agent="alice")
    bob = durable.replica("bob")
    durable.write("a.py", EDITED)
    bob.write("a.py", SOURCE.replace("return 1", "return 11"))
    crdtspace.sync(durable, bob)
    rendered = durable.render("a.py")
    durable.close()
    state = summary.read_hook_state(repo.state)
    assert state is not None
    assert state.open
    repo.stage(a_py=rendered)
    done = repo.commit()
    assert done.returncode != 0
    assert "open conflict(s)" in done.stderr
    assert repo.started() == ["pre-commit"]


def test_staged_content_that_differs_goes_the_slow_way(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    repo.stage(a_py=AGAIN)
    done = repo.commit()
    assert done.returncode != 0
    assert "a.py: staged content differs" in done.stderr
    assert repo.started() == ["pre-commit"]


def test_head_moved_goes_the_slow_way(repo: Repo) -> None:
    repo.stage(notes_txt="by hand\n")
    assert repo.commit(CRDTSPACE_HOOKS="0").returncode == 0  # the workspace is behind now
    repo.stage(notes_txt="notes\n")  # (back to what the workspace holds)
    done = repo.commit()
    assert done.returncode != 0
    assert "sync-git" in done.stderr
    assert "HEAD is at" in done.stderr
    assert repo.started() == ["pre-commit"]


@pytest.mark.parametrize("how", [("-a",), ("--", "a.py")])
def test_all_and_paths_commits_go_the_slow_way(repo: Repo, how: tuple[str, ...]) -> None:
    repo.write("a.py", EDITED)
    (repo.root / "a.py").write_text(EDITED, encoding="utf-8")  # not staged
    done = repo.commit(*how)
    assert done.returncode == 0, done.stderr
    # python checked it, and wrote the summary again on closing: post-commit is fast
    assert repo.started() == ["pre-commit"]
    assert repo.base() == repo.head()


@pytest.mark.parametrize("damage", ["missing", "corrupt", "other workspace", "truncated"])
def test_a_missing_or_foreign_summary_goes_the_slow_way(repo: Repo, damage: str) -> None:
    repo.write("a.py", EDITED)
    path = repo.state / summary.HOOK_STATE
    line = path.read_text(encoding="ascii")
    if damage == "missing":
        path.unlink()
    elif damage == "corrupt":
        path.write_text(line.replace(" 0 default", " x default"), encoding="ascii")
    elif damage == "other workspace":
        path.write_text(line.replace(" default", " other"), encoding="ascii")
    else:
        path.write_text(" ".join(line.split()[:5]) + "\n", encoding="ascii")
    repo.stage(a_py=EDITED)
    done = repo.commit()
    assert done.returncode == 0, done.stderr
    # python checked it, and wrote the summary again on closing: post-commit is fast
    assert repo.started() == ["pre-commit"]
    assert repo.base() == repo.head()


def test_a_running_service_gets_the_commit_through_sync_git(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    (repo.state / "service.json").write_text("{}", encoding="utf-8")  # (announced, not there)
    repo.stage(a_py=EDITED)
    assert repo.commit().returncode == 0
    assert repo.started() == ["post-commit"]  # pre-commit fast, post-commit through python
    assert not (repo.state / summary.PENDING_BASE).exists()


def test_a_commit_of_something_else_is_brought_in(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    repo.stage(a_py=EDITED, notes_txt="more\n")
    assert repo.commit("--no-verify").returncode == 0
    assert repo.started() == ["post-commit"]
    with Workspace.open(repo.root) as ws:
        assert ws.status().base == repo.head()
        assert ws.render("notes.txt") == "more\n"


def test_a_pending_base_whose_log_moved_on_is_dropped_and_nothing_lost(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crdtspace.git import workspaces

    repo.write("a.py", EDITED)
    repo.stage(a_py=EDITED)
    assert repo.commit().returncode == 0
    assert repo.started() == []
    pending = summary.read_pending(repo.state)
    assert pending is not None
    assert pending.new == repo.head()
    # a writer that knows nothing of pending bases (an older crdtspace) edits meanwhile
    with monkeypatch.context() as patched:
        patched.setattr(workspaces.summary, "take_pending", lambda *a, **k: None)
        patched.setattr(summary, "refresh", lambda *a, **k: None)
        repo.write("a.py", AGAIN, agent="bob")
    with Workspace.open(repo.root) as ws:  # the pending base no longer holds: dropped
        assert ws.status().base != repo.head()
        assert ws.render("a.py") == AGAIN
        ws.sync_git()  # brings the commit in as any commit made outside: nothing lost
        assert ws.status().base == repo.head()
        assert ws.render("a.py") == AGAIN
        assert not ws.conflicts()
    assert not (repo.state / summary.PENDING_BASE).exists()


def test_status_names_the_folder_as_given_like_the_slow_path(repo: Repo, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(repo.root)
    repo.write("a.py", EDITED)
    for where in (link, repo.root, link / "a.py"):
        assert (repo.state / summary.STATUS_CACHE).exists()
        fast = repo.cli("status", "--json", where=where).stdout
        (repo.state / summary.STATUS_CACHE).unlink()
        slow = repo.cli("status", "--json", where=where).stdout  # (writes the summary again)
        assert fast == slow
        assert json.loads(fast)["state_dir"].startswith(str(where).removesuffix("/a.py"))


def test_status_never_answers_from_a_stale_summary(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("a.py", EDITED)
    assert json.loads(repo.cli("status", "--json").stdout)["changed"] == {"a.py": ["alice"]}
    monkeypatch.setattr(summary, "refresh", lambda *a, **k: None)
    repo.write("notes.txt", "bob's\n", agent="bob")  # the summary says nothing of it
    changed = json.loads(repo.cli("status", "--json").stdout)["changed"]
    assert changed == {"a.py": ["alice"], "notes.txt": ["bob"]}


def test_the_gate_after_a_fast_commit_commits_only_what_came_after(repo: Repo) -> None:
    repo.write("a.py", EDITED)
    repo.stage(a_py=EDITED)
    assert repo.commit().returncode == 0
    assert repo.started() == []
    first = repo.head()
    repo.write("notes.txt", "bob's\n", agent="bob")
    gate = repo.cli("commit", "-m", "bob's notes", "--no-check")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert git(repo.root, "rev-parse", "HEAD^").strip() == first
    changed = git(repo.root, "diff", "--name-only", "HEAD^", "HEAD").split()
    assert changed == ["notes.txt"]
    message = git(repo.root, "log", "-1", "--format=%B")
    assert "Co-authored-by: bob" in message
    assert "alice" not in message
    assert repo.started() == []  # (the gate moves the branch itself: no hook runs)
