"""Versions on the command line: reads print their version, writes apply only the writer's
change from a base, the agent comes from --agent or CRDTSPACE_AGENT, and `render --out` does
not overwrite work. Through typer's runner, and the two-writers story through real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import pytest
from typer.testing import CliRunner

from crdtspace import Workspace
from crdtspace.cli import app
from crdtspace.testing import git, make_repo

SOURCE = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"m.py": SOURCE, "README.md": "hello\n"})
    return root


def run(
    repo: Path,
    *args: str,
    stdin: str | None = None,
    env: Mapping[str, str | None] | None = None,
) -> tuple[int, str, str]:
    """`crdtspace -C repo args...` in-process; CRDTSPACE_AGENT unset unless `env` sets it."""
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["-C", str(repo), *args],
        input=stdin,
        env={"CRDTSPACE_AGENT": None, **(env or {})},
    )
    return result.exit_code, result.stdout, result.stderr


def shown(repo: Path, ref: str = "m.py", *args: str) -> dict[str, str]:
    code, out, err = run(repo, "show", ref, "--json", *args)
    assert code == 0, err
    info: dict[str, str] = json.loads(out)
    return info


def text(repo: Path, ref: str = "m.py") -> str:
    code, out, err = run(repo, "show", ref)
    assert code == 0, err
    return out


def last_read(repo: Path, agent: str, path: str = "m.py") -> str | None:
    with Workspace.open(repo) as workspace:
        return workspace.versions.last_read(agent, path)


def write_json(repo: Path, *args: str, stdin: str) -> dict[str, object]:
    code, out, err = run(repo, "write", *args, "--json", stdin=stdin)
    assert code == 0, err
    info: dict[str, object] = json.loads(out)
    return info


# -- show and outline ------------------------------------------------------------------------


def test_show_and_outline_print_the_version_and_track_the_read(repo: Path) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    info = shown(repo, "m.py", "--agent", "bob")
    version = info["version"]
    assert version.startswith("v")
    assert len(version) == 17
    assert info["path"] == "m.py"
    assert info["text"] == SOURCE
    assert info["key"] is None
    assert last_read(repo, "bob") == version  # noted durably, for bob
    node = shown(repo, "m.py::b", "--agent", "carol")
    assert node["version"] == version  # nothing changed: the same version
    assert node["name"] == "b"
    assert node["text"] == "\n\ndef b():\n    return 2\n"
    assert last_read(repo, "carol") == version
    code, out, err = run(repo, "outline", "m.py", "--json", "--agent", "dora")
    assert code == 0, err
    outline = json.loads(out)
    assert outline["version"] == version
    assert outline["path"] == "m.py"
    assert [n["name"] for n in outline["nodes"]] == ["a", "b"]
    assert last_read(repo, "dora") == version
    code, out, _ = run(repo, "outline", "m.py")
    assert code == 0
    assert version in out
    assert text(repo) == SOURCE  # the plain text is exactly the file, nothing added


# -- write -----------------------------------------------------------------------------------


def test_write_path_node_replaces_that_node(repo: Path) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    code, out, _ = run(repo, "outline", "m.py", "--json")
    keys = [n["key"] for n in json.loads(out)["nodes"]]
    info = write_json(repo, "m.py::a", "--agent", "alice", stdin="def a():\n    return 100\n")
    assert info["node"] == keys[0]
    assert info["path"] == "m.py"
    assert info["version"] == last_read(repo, "alice")
    assert text(repo) == SOURCE.replace("return 1", "return 100")
    assert not (repo / "m.py::a").exists()
    code, out, _ = run(repo, "status", "--json")
    assert json.loads(out)["files"] == 2  # no file named "m.py::a" in the workspace
    code, out, err = run(
        repo, "write", f"m.py::{keys[1]}", "--agent", "alice", stdin="\n\ndef b():\n    pass\n"
    )
    assert code == 0, err
    assert f"replaced node {keys[1]}" in out
    assert str(last_read(repo, "alice")) in out
    assert text(repo) == "def a():\n    return 100\n\n\ndef b():\n    pass\n"
    code, out, _ = run(repo, "outline", "m.py", "--json")
    assert [n["key"] for n in json.loads(out)["nodes"]] == keys
    code, _, err = run(repo, "write", "m.py::nothing", "--agent", "alice", stdin="x = 1\n")
    assert code == 4
    assert "no node 'nothing'" in err


def test_write_with_no_base_uses_the_agents_tracked_read(repo: Path) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    write_json(repo, "m.py", "--agent", "alice", stdin=SOURCE.replace("return 1", "return 10"))
    seen = shown(repo, "m.py", "--agent", "bob")  # bob reads alice's change
    assert "return 10" in seen["text"]
    assert last_read(repo, "bob") == seen["version"]
    # alice changes her line again (from her own last write) after bob's read.
    write_json(repo, "m.py", "--agent", "alice", stdin=SOURCE.replace("return 1", "return 11"))
    info = write_json(
        repo, "m.py", "--agent", "bob", stdin=seen["text"].replace("return 2", "return 20")
    )
    assert info["version"] == last_read(repo, "bob")
    assert info["version"] != seen["version"]
    # Based on his read, bob changed only b. (Based on the commit, bob's copy of "10" would
    # be his own change of alice's line: "return 110" and an overlap.)
    assert text(repo) == "def a():\n    return 11\n\n\ndef b():\n    return 20\n"
    code, out, _ = run(repo, "conflicts")
    assert (code, out.strip()) == (0, "no conflicts")
    # The plain output says the version too.
    code, out, err = run(repo, "write", "m.py", "--agent", "bob", stdin=text(repo) + "\nX = 1\n")
    assert code == 0, err
    assert f"version {last_read(repo, 'bob')} for bob" in out


def test_an_explicit_stale_base_keeps_what_changed_since(repo: Path) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    old = shown(repo)
    write_json(repo, "m.py", "--agent", "alice", stdin=SOURCE.replace("return 1", "return 10"))
    assert "return 10" in shown(repo, "m.py", "--agent", "carol")["text"]  # carol's newer read
    # carol writes what she made from the older version, and says so.
    stale = old["text"].replace("return 2", "return 20")
    info = write_json(repo, "m.py", "--agent", "carol", "--base", old["version"], stdin=stale)
    assert info["version"] == last_read(repo, "carol")
    assert text(repo) == "def a():\n    return 10\n\n\ndef b():\n    return 20\n"
    assert run(repo, "conflicts")[0] == 0


def test_an_unknown_base_exits_4_and_changes_nothing(repo: Path) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    before = shown(repo)
    code, _, err = run(
        repo, "write", "m.py", "--base", "vdeadbeef", "--agent", "bob", stdin="x = 1\n"
    )
    assert code == 4
    assert err.startswith("error: The version 'vdeadbeef' is not known")
    assert err.count("\n") == 1
    code, _, err = run(
        repo, "write", "m.py::a", "--base", "vdeadbeef", "--agent", "bob", stdin="x = 1\n"
    )
    assert code == 4
    assert "vdeadbeef" in err
    after = shown(repo)
    assert after["text"] == SOURCE
    assert after["version"] == before["version"]
    assert last_read(repo, "bob") is None


def test_two_stale_writers_of_one_line_are_an_overlap(repo: Path) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    old = shown(repo)
    for agent, value in (("alice", "10"), ("bob", "-1")):
        new = old["text"].replace("return 1", f"return {value}")
        write_json(repo, "m.py", "--agent", agent, "--base", old["version"], stdin=new)
    code, out, _ = run(repo, "conflicts", "--json")
    assert code == 1
    (conflict,) = json.loads(out)["conflicts"]
    assert conflict["kind"] == "overlap"
    assert conflict["agents"] == ["alice", "bob"]


def test_writing_a_git_only_file_exits_4_and_changes_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"m.py": SOURCE, "logo.png": PNG})
    os.symlink("m.py", root / "link.py")
    git(root, "add", "link.py")
    git(root, "commit", "--quiet", "-m", "a link")
    assert run(root, "init", "--agent", "tester")[0] == 0
    log = root / ".git" / "crdtspace" / "default" / "updates.log"
    size = log.stat().st_size
    before = shown(root)
    code, out, _ = run(root, "status", "--json")
    assert {g["path"] for g in json.loads(out)["git_only"]} == {"logo.png", "link.py"}
    new = tmp_path / "new.txt"
    new.write_text("not an image\n", encoding="utf-8")
    for target in ("logo.png", "link.py", "logo.png::x"):
        code, _, err = run(root, "write", target, "--from", str(new), "--agent", "bob")
        assert code == 4, (target, err)
        assert err.count("\n") == 1
        assert "git only" in err
    assert (root / "logo.png").read_bytes() == PNG
    assert (root / "link.py").is_symlink()
    assert os.readlink(root / "link.py") == "m.py"
    assert git(root, "status", "--porcelain") == ""
    assert log.stat().st_size == size
    assert shown(root)["version"] == before["version"]
    assert last_read(root, "bob", "logo.png") is None


# -- CRDTSPACE_AGENT -------------------------------------------------------------------------


def test_crdtspace_agent_names_the_agent_below_the_option(repo: Path) -> None:
    assert run(repo, "init", env={"CRDTSPACE_AGENT": "importer"})[0] == 0
    erin = {"CRDTSPACE_AGENT": "erin"}
    seen = json.loads(run(repo, "show", "m.py", "--json", env=erin)[1])
    assert last_read(repo, "erin") == seen["version"]
    code, out, err = run(repo, "write", "m.py::a", env=erin, stdin="def a():\n    return 5\n")
    assert code == 0, err
    assert "for erin" in out
    code, out, err = run(
        repo, "write", "m.py::b", "--agent", "frank", env=erin, stdin="def b():\n    return 6\n"
    )
    assert code == 0, err
    assert "for frank" in out
    code, out, err = run(repo, "write", "README.md", stdin="hi\n")  # neither: git's user.name
    assert code == 0, err
    assert "for Test User" in out
    code, out, _ = run(repo, "outline", "m.py", "--json")
    editors = {n["name"]: n["last_editor"] for n in json.loads(out)["nodes"]}
    assert editors == {"a": "erin", "b": "frank"}
    code, out, _ = run(repo, "log", "README.md", "--json")
    assert {e["agent"] for e in json.loads(out)} == {"Test User"}


# -- render --out ----------------------------------------------------------------------------


def test_render_out_refuses_the_working_tree_and_keeps_uncommitted_work(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    run(repo, "write", "m.py", "--agent", "e", stdin=SOURCE.replace("return 2", "return 3"))
    work = SOURCE.replace("return 1", "return 'uncommitted'")
    (repo / "m.py").write_text(work, encoding="utf-8")
    (repo / "notes.txt").write_text("mine\n", encoding="utf-8")
    status = git(repo, "status", "--porcelain")
    code, _, err = run(repo, "render", "--out", ".")
    assert code == 4
    assert err.count("\n") == 1
    assert "working tree" in err
    assert "--force" in err
    monkeypatch.chdir(repo)  # the same without -C
    result = CliRunner().invoke(app, ["render", "--out", "."], env={"CRDTSPACE_AGENT": None})
    assert result.exit_code == 4
    assert "working tree" in result.stderr
    code, _, err = run(repo, "render", "--out", str(repo / "."))
    assert code == 4
    code, _, err = run(repo, "render", "--out", "..")  # the folder holding the repository
    assert code == 4
    assert "not empty" in err
    assert (repo / "m.py").read_text(encoding="utf-8") == work
    assert (repo / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert git(repo, "status", "--porcelain") == status
    assert not (repo.parent / "m.py").exists()


def test_render_out_refuses_a_folder_that_is_not_empty_unless_forced(
    repo: Path, tmp_path: Path
) -> None:
    assert run(repo, "init", "--agent", "tester")[0] == 0
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("keep\n", encoding="utf-8")
    code, _, err = run(repo, "render", "--out", str(full))
    assert code == 4
    assert err.startswith("error: Refusing to render into")
    assert "not empty" in err
    assert sorted(p.name for p in full.iterdir()) == ["keep.txt"]  # nothing written
    code, _, err = run(repo, "render", "--out", "src")  # (new, inside the repository)
    assert code == 0, err
    assert (repo / "src" / "m.py").read_text(encoding="utf-8") == SOURCE
    code, _, err = run(repo, "render", "--out", "src")  # now it holds files
    assert code == 4
    assert "not empty" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(repo, "render", "--out", str(empty))
    assert code == 0, err
    assert (empty / "m.py").read_text(encoding="utf-8") == SOURCE
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    code, _, err = run(repo, "render", "--out", str(afile), "--force")
    assert code == 4
    assert "not a folder" in err
    code, _, err = run(repo, "render", "--out", str(full), "--force")
    assert code == 0, err
    assert (full / "m.py").read_text(encoding="utf-8") == SOURCE
    assert (full / "keep.txt").read_text(encoding="utf-8") == "keep\n"
    code, _, err = run(repo, "render", "--out", str(repo / ".git" / "x"), "--force")
    assert code == 4
    assert ".git" in err


# -- the story, through real processes -------------------------------------------------------


def _crdtspace() -> list[str]:
    """The installed `crdtspace` script beside this interpreter (the venv's)."""
    script = Path(sys.executable).with_name("crdtspace")
    if script.exists():
        return [str(script)]
    found = shutil.which("crdtspace")
    assert found is not None, "the crdtspace script is not installed"
    return [found]


def test_two_writers_from_one_read_through_real_processes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    env = {k: v for k, v in os.environ.items() if k != "CRDTSPACE_AGENT"}
    command = _crdtspace()

    def crdtspace(
        *args: str, stdout: int | IO[str] = subprocess.PIPE
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args],
            cwd=root,
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )

    assert crdtspace("init").returncode == 0
    with open(tmp_path / "alice.txt", "w", encoding="utf-8") as handle:  # show m.py > alice.txt
        assert crdtspace("show", "m.py", stdout=handle).returncode == 0
    shutil.copy(tmp_path / "alice.txt", tmp_path / "bob.txt")
    for name, old, new in (("alice", "return 1", "return 10"), ("bob", "return 2", "return 20")):
        copy = tmp_path / f"{name}.txt"
        copy.write_text(copy.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    for name in ("alice", "bob"):
        written = crdtspace(
            "write", "m.py", "--from", str(tmp_path / f"{name}.txt"), "--agent", name
        )
        assert written.returncode == 0, written.stderr
    final = crdtspace("show", "m.py")
    assert final.returncode == 0, final.stderr
    assert "return 10" in final.stdout  # alice's edit survived bob's write
    assert "return 20" in final.stdout
    assert final.stdout == "def a():\n    return 10\n\n\ndef b():\n    return 20\n"
    conflicts = crdtspace("conflicts")
    assert conflicts.returncode == 0, conflicts.stdout + conflicts.stderr
