"""Git hooks: install/uninstall, chaining, the kill switch, the timeout, and each hook's logic.

Most tests drive a real `git commit` in a temporary repository, so the shims, git's own hook
machinery and the `crdtspace hook` command are all exercised together."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

import crdtspace
from crdtspace import Workspace
from crdtspace.git import hookrun as hooks_module
from crdtspace.git.hookrun import ALLOW, BEHIND, CONFLICTS, STAGED_DIFFERS, run_hook
from crdtspace.git.hooks import (
    ATTRIBUTES_BEGIN,
    CHAINED_SUFFIX,
    HOOK_NAMES,
    install,
    shims_dir,
    status,
    uninstall,
)
from crdtspace.testing import git, make_repo

SOURCE = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
EDITED = "def f():\n    return 10\n\n\ndef g():\n    return 2\n"


def _env(**extra: str) -> dict[str, str]:
    """The environment of a user running git: no variables of an outer git or of the tests."""
    drop = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "CRDTSPACE_HOOKS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def _git_run(repo: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=_env(**extra)
    )


def _commit(repo: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return _git_run(repo, "commit", "-m", "by hand", *args, **extra)


def _head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def _write_hook(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


def _stage(repo: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
        git(repo, "add", name)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"a.py": SOURCE, "notes.txt": "notes\n"})


@pytest.fixture
def workspace_repo(repo: Path) -> Path:
    """A repository with hooks installed and a workspace at HEAD."""
    install(repo)
    Workspace.init(repo, agent="alice").close()
    return repo


def _with_conflict(repo: Path) -> None:
    durable = Workspace.open(repo, agent="alice")
    bob = durable.replica("bob")
    durable.write("a.py", EDITED)
    bob.write("a.py", SOURCE.replace("return 1", "return 11"))
    crdtspace.sync(durable, bob)
    assert durable.conflicts()
    durable.close()


# -- the shipped shims -----------------------------------------------------------------------


def test_every_hook_has_a_shim_differing_only_by_its_name() -> None:
    texts = {name: (shims_dir() / name).read_text(encoding="utf-8") for name in HOOK_NAMES}
    for name, text in texts.items():
        assert text.startswith("#!/bin/sh\n")
        assert os.access(shims_dir() / name, os.X_OK)
        same = texts["pre-commit"].replace("hook=pre-commit\n", f"hook={name}\n")
        assert text == same


# -- install and uninstall -------------------------------------------------------------------


def test_install_writes_hooks_driver_and_attributes(repo: Path) -> None:
    report = install(repo)
    assert report.installed == HOOK_NAMES
    assert report.chained == ()
    for name in HOOK_NAMES:
        hook = repo / ".git" / "hooks" / name
        assert os.access(hook, os.X_OK)
    driver = git(repo, "config", "merge.crdtspace.driver").strip()
    assert driver.endswith("crdtspace/git/drivercommand.py' %O %A %B %P %L")
    attributes = (repo / ".gitattributes").read_text(encoding="utf-8")
    assert ATTRIBUTES_BEGIN in attributes
    assert "*.py merge=crdtspace\n" in attributes
    assert git(repo, "check-attr", "merge", "a.py").strip() == "a.py: merge: crdtspace"
    assert status(repo).installed


def test_install_is_idempotent(repo: Path) -> None:
    _write_hook(repo / ".git" / "hooks" / "pre-commit", "exit 0\n")
    install(repo)
    hooks_dir = repo / ".git" / "hooks"
    before = {p.name: p.read_bytes() for p in hooks_dir.iterdir()}
    attributes = (repo / ".gitattributes").read_bytes()
    config = (repo / ".git" / "config").read_bytes()
    again = install(repo)
    assert again.gitattributes_changed is False
    assert again.chained == ("pre-commit",)  # still chained, not chained to itself
    assert {p.name: p.read_bytes() for p in hooks_dir.iterdir()} == before
    assert (repo / ".gitattributes").read_bytes() == attributes
    assert (repo / ".git" / "config").read_bytes() == config


def test_the_users_hook_still_runs_and_its_failure_still_blocks(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    _write_hook(hook, 'echo "user hook ran" >&2\n[ -e block ] && exit 3\nexit 0\n')
    assert install(repo).chained == ("pre-commit",)
    assert (repo / ".git" / "hooks" / ("pre-commit" + CHAINED_SUFFIX)).exists()
    _stage(repo, {"notes.txt": "more notes\n"})
    done = _commit(repo)
    assert done.returncode == 0, done.stderr
    assert "user hook ran" in done.stderr
    (repo / "block").write_text("", encoding="utf-8")
    _stage(repo, {"notes.txt": "even more\n"})
    head = _head(repo)
    refused = _commit(repo)
    assert refused.returncode != 0
    assert "user hook ran" in refused.stderr
    assert _head(repo) == head


def test_a_chained_post_checkout_hooks_status_is_kept(repo: Path) -> None:
    _write_hook(repo / ".git" / "hooks" / "post-checkout", "exit 5\n")
    install(repo)
    git(repo, "branch", "other")
    switched = _git_run(repo, "checkout", "-q", "other")
    assert switched.returncode != 0  # a failing post-checkout fails the checkout


def test_a_chained_post_rewrite_hook_gets_its_arguments_and_input(repo: Path) -> None:
    _write_hook(repo / ".git" / "hooks" / "post-rewrite", 'echo "$1" > seen\ncat >> seen\n')
    install(repo)
    old = _head(repo)
    done = _git_run(repo, "commit", "--amend", "-m", "amended")
    assert done.returncode == 0, done.stderr
    assert (repo / "seen").read_text(encoding="utf-8") == f"amend\n{old} {_head(repo)}\n"


def test_uninstall_restores_exactly(repo: Path) -> None:
    hooks_dir = repo / ".git" / "hooks"
    _write_hook(hooks_dir / "pre-commit", "echo mine\n")
    (hooks_dir / "pre-commit").chmod(0o750)
    _write_hook(hooks_dir / "post-merge", "echo merged\n")
    (repo / ".gitattributes").write_bytes(b"*.png binary")  # no final newline
    config = (repo / ".git" / "config").read_bytes()
    before = {p.name: (p.read_bytes(), p.stat().st_mode) for p in hooks_dir.iterdir()}
    install(repo)
    install(repo)
    report = uninstall(repo)
    assert report.removed == HOOK_NAMES
    assert set(report.restored) == {"pre-commit", "post-merge"}
    assert report.driver_removed
    after = {p.name: (p.read_bytes(), p.stat().st_mode) for p in hooks_dir.iterdir()}
    assert after == before
    assert (repo / ".gitattributes").read_bytes() == b"*.png binary"
    assert (repo / ".git" / "config").read_bytes() == config
    again = uninstall(repo)
    assert (again.removed, again.restored, again.driver_removed) == ((), (), False)
    assert {p.name: (p.read_bytes(), p.stat().st_mode) for p in hooks_dir.iterdir()} == before


def test_uninstall_removes_a_gitattributes_it_created(repo: Path) -> None:
    install(repo)
    uninstall(repo)
    assert not (repo / ".gitattributes").exists()
    assert not status(repo).installed


def test_a_hook_whose_chained_slot_is_taken_is_skipped(repo: Path) -> None:
    hooks_dir = repo / ".git" / "hooks"
    _write_hook(hooks_dir / "post-commit", "exit 0\n")
    _write_hook(hooks_dir / ("post-commit" + CHAINED_SUFFIX), "exit 0\n")
    report = install(repo)
    assert [name for name, _ in report.skipped] == ["post-commit"]
    assert "post-commit" not in report.installed
    assert (hooks_dir / "post-commit").read_text(encoding="utf-8") == "#!/bin/sh\nexit 0\n"


def test_core_hooks_path_is_respected(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "githooks")
    _write_hook(repo / "githooks" / "pre-commit", 'echo "team hook" >&2\n')
    report = install(repo)
    assert report.hooks_dir == repo / "githooks"
    assert report.chained == ("pre-commit",)
    assert report.notes == ()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    Workspace.init(repo, agent="alice").close()
    _with_conflict(repo)
    _stage(repo, {"notes.txt": "more notes\n"})
    refused = _commit(repo)
    assert refused.returncode != 0
    assert "team hook" in refused.stderr
    assert "open conflict" in refused.stderr
    uninstall(repo)
    restored = (repo / "githooks" / "pre-commit").read_text(encoding="utf-8")
    assert restored == '#!/bin/sh\necho "team hook" >&2\n'


def test_a_hooks_path_outside_the_repository_is_noted(repo: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-hooks"
    git(repo, "config", "core.hooksPath", str(shared))
    report = install(repo)
    assert report.hooks_dir == shared
    assert "every repository" in report.notes[0]


# -- pre-commit ------------------------------------------------------------------------------


def test_pre_commit_allows_when_there_is_no_workspace(repo: Path) -> None:
    install(repo)
    _stage(repo, {"a.py": EDITED})
    done = _commit(repo)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_without_a_workspace_the_shims_do_not_start_python(repo: Path, tmp_path: Path) -> None:
    spy = tmp_path / "spy-python"
    _write_hook(spy, f"echo ran >> {tmp_path / 'ran'}\n")
    install(repo, python=str(spy))
    _stage(repo, {"notes.txt": "more notes\n"})
    assert _commit(repo).returncode == 0
    assert not (tmp_path / "ran").exists()
    Workspace.init(repo, agent="alice").close()
    _stage(repo, {"notes.txt": "yet more\n"})
    assert _commit(repo).returncode == 0
    assert (tmp_path / "ran").read_text(encoding="utf-8") == "ran\nran\n"  # pre and post


def test_pre_commit_refuses_with_open_conflicts(workspace_repo: Path) -> None:
    repo = workspace_repo
    _with_conflict(repo)
    _stage(repo, {"notes.txt": "more notes\n"})
    head = _head(repo)
    refused = _commit(repo)
    assert refused.returncode != 0
    assert "open conflict" in refused.stderr
    assert "overlap" in refused.stderr
    assert "crdtspace commit" in refused.stderr
    assert _head(repo) == head
    shim = subprocess.run(
        [str(repo / ".git" / "hooks" / "pre-commit")], cwd=repo, env=_env(), capture_output=True
    )
    assert shim.returncode == CONFLICTS


def test_the_hooks_act_on_the_configured_workspace(repo: Path) -> None:
    """`git config crdtspace.workspace NAME` points the hooks (the shims' quick check and the
    python part) at that workspace instead of `default`."""
    install(repo)
    Workspace.init(repo, agent="alice", workspace="team").close()
    durable = Workspace.open(repo, agent="alice", workspace="team")
    bob = durable.replica("bob")
    durable.write("a.py", EDITED)
    bob.write("a.py", SOURCE.replace("return 1", "return 11"))
    crdtspace.sync(durable, bob)
    durable.close()
    _stage(repo, {"notes.txt": "more notes\n"})
    shim = [str(repo / ".git" / "hooks" / "pre-commit")]
    # not configured: the hooks look at `default`, which does not exist here
    assert subprocess.run(shim, cwd=repo, env=_env(), capture_output=True).returncode == 0
    assert run_hook("pre-commit", repo, env=_env()).exit_code == ALLOW
    git(repo, "config", "crdtspace.workspace", "team")
    assert subprocess.run(shim, cwd=repo, env=_env(), capture_output=True).returncode == CONFLICTS
    head = _head(repo)
    refused = _commit(repo)
    assert refused.returncode != 0
    assert "open conflict" in refused.stderr
    assert _head(repo) == head
    assert run_hook("pre-commit", repo, env=_env()).exit_code == CONFLICTS
    assert run_hook("pre-commit", repo, workspace="default", env=_env()).exit_code == ALLOW


def test_the_kill_switch_lets_git_commit(workspace_repo: Path) -> None:
    repo = workspace_repo
    _with_conflict(repo)
    _stage(repo, {"notes.txt": "more notes\n"})
    done = _commit(repo, CRDTSPACE_HOOKS="0")
    assert done.returncode == 0, done.stderr
    assert run_hook("pre-commit", repo, env=_env(CRDTSPACE_HOOKS="0")).exit_code == ALLOW


def test_no_verify_skips_the_check(workspace_repo: Path) -> None:
    _with_conflict(workspace_repo)
    _stage(workspace_repo, {"notes.txt": "more notes\n"})
    done = _commit(workspace_repo, "--no-verify")
    assert done.returncode == 0, done.stderr


def test_pre_commit_refuses_staged_content_that_differs(workspace_repo: Path) -> None:
    repo = workspace_repo
    _stage(repo, {"a.py": EDITED})
    head = _head(repo)
    refused = _commit(repo)
    assert refused.returncode != 0
    assert "a.py: staged content differs" in refused.stderr
    assert _head(repo) == head
    result = run_hook("pre-commit", repo, env=_env())
    assert result.exit_code == STAGED_DIFFERS


def test_pre_commit_allows_staged_content_equal_to_the_workspace(workspace_repo: Path) -> None:
    repo = workspace_repo
    with Workspace.open(repo, agent="alice") as ws:
        ws.write("a.py", EDITED)
    _stage(repo, {"a.py": EDITED})
    done = _commit(repo)
    assert done.returncode == 0, done.stderr
    assert git(repo, "show", "HEAD:a.py") == EDITED


def test_new_deleted_and_binary_files(workspace_repo: Path) -> None:
    repo = workspace_repo
    (repo / "image.bin").write_bytes(b"\x00\x01binary")
    git(repo, "add", "image.bin")
    assert run_hook("pre-commit", repo, env=_env()).exit_code == ALLOW  # binary: git-only
    _stage(repo, {"new.py": "x = 1\n"})
    refused = run_hook("pre-commit", repo, env=_env())
    assert refused.exit_code == STAGED_DIFFERS
    assert "new.py: not in the workspace" in refused.message
    git(repo, "reset", "-q", "new.py")
    git(repo, "rm", "-q", "notes.txt")
    refused = run_hook("pre-commit", repo, env=_env())
    assert "notes.txt: deleted in the index" in refused.message


def test_commit_of_paths_checks_the_index_git_is_about_to_commit(workspace_repo: Path) -> None:
    # `git commit -- PATH` commits the work tree's PATH through a temporary index.
    (workspace_repo / "a.py").write_text(EDITED, encoding="utf-8")
    refused = _commit(workspace_repo, "--", "a.py")
    assert refused.returncode != 0
    assert "a.py: staged content differs" in refused.stderr


def test_concluding_a_git_merge_is_not_compared(repo: Path) -> None:
    Workspace.init(repo, agent="alice").close()
    git(repo, "checkout", "-q", "-b", "other")
    _stage(repo, {"notes.txt": "from the other branch\n"})
    git(repo, "commit", "-q", "-m", "other")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-commit", "other")
    assert run_hook("pre-commit", repo, env=_env()) == hooks_module.HookResult(ALLOW)
    git(repo, "merge", "--abort")
    _stage(repo, {"notes.txt": "from the other branch\n"})
    assert run_hook("pre-commit", repo, env=_env()).exit_code == STAGED_DIFFERS


def test_pre_commit_refuses_when_the_workspace_is_behind_head(workspace_repo: Path) -> None:
    repo = workspace_repo
    _stage(repo, {"notes.txt": "more notes\n"})
    assert _commit(repo, CRDTSPACE_HOOKS="0").returncode == 0  # post-commit skipped too
    result = run_hook("pre-commit", repo, env=_env())
    assert result.exit_code == BEHIND
    assert "crdtspace sync-git" in result.message


def test_a_busy_workspace_lets_the_commit_through_with_a_warning(workspace_repo: Path) -> None:
    repo = workspace_repo
    _stage(repo, {"a.py": EDITED})
    with Workspace.open(repo, agent="carol"):
        done = _commit(repo)
    assert done.returncode == 0, done.stderr
    assert "in use by another process" in done.stderr


# -- post hooks ------------------------------------------------------------------------------


def test_post_commit_brings_the_commit_into_the_workspace(workspace_repo: Path) -> None:
    repo = workspace_repo
    with Workspace.open(repo, agent="alice") as ws:
        ws.write("a.py", EDITED)
    _stage(repo, {"a.py": EDITED})
    assert _commit(repo).returncode == 0
    with Workspace.open(repo) as ws:
        assert ws.status().base == _head(repo)
    _stage(repo, {"notes.txt": "by hand\n"})
    assert _commit(repo, "--no-verify").returncode == 0  # post-commit still runs
    with Workspace.open(repo) as ws:
        assert ws.status().base == _head(repo)
        assert ws.render("notes.txt") == "by hand\n"


def test_post_hooks_never_fail(workspace_repo: Path) -> None:
    with Workspace.open(workspace_repo, agent="carol"):  # sync-git cannot open it
        result = run_hook("post-merge", workspace_repo, ["0"], env=_env())
    assert result.exit_code == ALLOW
    assert "run `crdtspace sync-git`" in result.message


def test_a_file_checkout_does_not_sync(workspace_repo: Path) -> None:
    head = _head(workspace_repo)
    result = run_hook("post-checkout", workspace_repo, [head, head, "0"], env=_env())
    assert result == hooks_module.HookResult(ALLOW)


def test_hooks_do_nothing_without_a_workspace(repo: Path) -> None:
    for name in HOOK_NAMES:
        assert run_hook(name, repo, ["x", "y", "1"], env=_env()) == hooks_module.HookResult(ALLOW)
    assert run_hook("pre-push", repo).exit_code == ALLOW


# -- the timeout -----------------------------------------------------------------------------


def test_a_slow_hook_times_out_and_git_proceeds(repo: Path, tmp_path: Path) -> None:
    slow = tmp_path / "slow-python"
    _write_hook(slow, "exec sleep 30\n")
    install(repo, python=str(slow))
    Workspace.init(repo, agent="alice").close()
    _stage(repo, {"notes.txt": "more notes\n"})
    started = time.monotonic()
    done = _commit(repo, CRDTSPACE_HOOK_TIMEOUT="1")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10
    assert "pre-commit took over 1s, git proceeds without it" in done.stderr
    assert "post-commit took over 1s" in done.stderr


def test_a_crashing_or_missing_python_lets_git_proceed(repo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-python"
    _write_hook(broken, "exit 1\n")
    install(repo, python=str(broken))
    Workspace.init(repo, agent="alice").close()
    _stage(repo, {"notes.txt": "more notes\n"})
    done = _commit(repo)
    assert done.returncode == 0, done.stderr
    assert "pre-commit failed (exit 1), git proceeds without it" in done.stderr
    install(repo, python=str(tmp_path / "gone"))
    assert not status(repo).hooks[0].python_exists
    _stage(repo, {"notes.txt": "yet more\n"})
    done = _commit(repo)
    assert done.returncode == 0, done.stderr
    assert "is gone" in done.stderr


# -- the command line ------------------------------------------------------------------------


def _cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=_env(),
    )


def test_cli_install_status_uninstall(repo: Path) -> None:
    assert _cli(repo, "hooks", "status").returncode == 1
    installed = _cli(repo, "hooks", "install")
    assert installed.returncode == 0, installed.stderr
    shown = _cli(repo, "hooks", "status")
    assert shown.returncode == 0
    assert "pre-commit     installed" in shown.stdout
    removed = _cli(repo, "hooks", "uninstall")
    assert removed.returncode == 0
    assert "removed pre-commit" in removed.stdout
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
