"""A peer's update may say anything: nothing it says is written outside the repository, and no
tree the gate writes holds a link, submodule, mode or blob that git did not make."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pycrdt import Array, Map

from crdtspace import Workspace, sync
from crdtspace.errors import PathError
from crdtspace.git import gitio
from crdtspace.model.versions import new_doc
from crdtspace.testing import git, make_repo

APP = "def f():\n    return 1\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


@pytest.fixture
def repo(tmp_path: Path, outside: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"pkg/app.py": APP, "README.md": "# r\n"})
    os.symlink(outside, root / "linkdir")
    os.symlink("README.md", root / "readme-link")
    git(root, "add", "linkdir", "readme-link")
    git(root, "commit", "-qm", "links")
    return root


def peer_of(home: Workspace, agent: str = "mallory") -> Workspace:
    """A replica with no repository root: the API's own path checks on disk do not apply, as
    for a peer somewhere else on the network."""
    doc = new_doc()
    doc.apply_update(home.update_since())
    return Workspace(doc, agent=agent)


def gate(home: Workspace, check: str | None = "python -c pass") -> list[tuple[str, bool]]:
    report = home.commit("hostile", check=check, run_check=check is not None)
    return [(s.name, s.ok) for s in report.steps]


def test_a_file_below_a_tracked_link_is_never_written_outside(repo: Path, outside: Path) -> None:
    with Workspace.init(repo, agent="home") as home:
        peer = peer_of(home)
        peer.write("linkdir/evil.py", "x = 1\n")
        sync(home, peer)
        steps = gate(home)
        assert ("tree", False) in steps
        assert not (outside / "evil.py").exists()
        assert not any(name == "commit" for name, _ in steps)
    assert list(outside.iterdir()) == []


def test_a_file_below_a_file_is_refused(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as home:
        peer = peer_of(home)
        peer.write("pkg/app.py/sub.py", "y = 2\n")
        sync(home, peer)
        assert ("tree", False) in gate(home, check=None)
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").count("pkg/app.py") == 1


def test_a_forged_git_only_entry_is_refused(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as home:
        peer = peer_of(home)
        with peer.transaction("forge"):
            peer.document.gitonly["ghost.bin"] = Map(
                {"reason": "binary", "blob": "ab" * 20, "mode": gitio.MODE_FILE}
            )
            peer.document.gitonly["new-link"] = Map(
                {"reason": "link", "blob": gitio.blob_sha(b"/etc"), "mode": gitio.MODE_SYMLINK}
            )
        sync(home, peer)
        report = home.commit("forged", run_check=False)
        [tree] = [s for s in report.steps if s.name == "tree"]
        assert not tree.ok
        assert "not in the repository" in tree.detail
        assert "new symbolic link" in tree.detail
    git(repo, "fsck", "--no-dangling")


def test_dot_git_in_any_case_is_refused(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as home:
        peer = peer_of(home)
        nid = peer.document.roots("README.md")[0]
        with peer.transaction("forge"):
            peer.document.files[".GIT/config"] = Array([nid])
        sync(home, peer)
        assert ("tree", False) in gate(home, check=None)


def test_links_git_made_stay_and_can_go(repo: Path) -> None:
    with Workspace.init(repo, agent="home") as home:
        home.write("pkg/app.py", APP.replace("1", "2"))
        assert home.commit("edit", check="python -c pass").ok
        assert git(repo, "ls-tree", "HEAD", "linkdir").startswith("120000")
        home.forget_path("readme-link")
        assert home.commit("drop a link", check="python -c pass").ok
    assert "readme-link" not in git(repo, "ls-tree", "-r", "--name-only", "HEAD")


def test_safe_target_refuses_links_files_and_dot_git(repo: Path) -> None:
    assert gitio.safe_target(repo, "pkg/new.py") == repo / "pkg" / "new.py"
    for bad in ("linkdir/x.py", "readme-link", "pkg/app.py/x", ".git/config", "a/.Git/b", "../x"):
        with pytest.raises(PathError):
            gitio.safe_target(repo, bad)


def test_watch_writes_nothing_through_a_tracked_link(repo: Path, outside: Path) -> None:
    from crdtspace.live.watch import Watcher

    home = Workspace.from_commit(repo, agent="home")
    peer = peer_of(home)
    peer.write("linkdir/evil.py", "x = 1\n")
    peer.write("pkg/fine.py", "y = 2\n")
    watcher = Watcher(home)
    watcher.tick()  # start-up: the workspace has files the disk has not
    sync(home, peer)
    watcher.tick()
    assert list(outside.iterdir()) == []
    assert (repo / "pkg" / "fine.py").read_text(encoding="utf-8") == "y = 2\n"
    assert [e.kind for e in watcher.events if e.path == "linkdir/evil.py"] == ["refused"]


def test_render_out_never_writes_through_a_link(repo: Path, outside: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from crdtspace.cli import app

    Workspace.init(repo, agent="home").close()
    with Workspace.open(repo, agent="home") as home:
        peer = peer_of(home)
        peer.write("linkdir/evil.py", "x = 1\n")
        home.apply_update(peer.update_since(home.state()))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["-C", str(repo), "render", "--out", str(out)])
    assert result.exit_code == 4, result.output
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("mode", [gitio.MODE_SYMLINK, gitio.MODE_EXECUTABLE])
def test_a_forged_mode_is_refused(repo: Path, mode: str) -> None:
    """A peer's mode makes no link, and no file executable: only git may."""
    with Workspace.init(repo, agent="home") as home:
        peer = peer_of(home)
        [root] = peer.document.roots("pkg/app.py")
        with peer.transaction("forge"):
            peer.document.node(root)["mode"] = mode
        sync(home, peer)
        assert ("tree", False) in gate(home, check=None)
    assert git(repo, "ls-tree", "HEAD", "pkg/app.py").startswith("100644")
