"""The command line, through typer's runner and once through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace.cli import app
from crdtspace.testing import git, make_repo

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "def one():\n    return 1\n\n\ndef two():\n    return 2\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "src/m.py": SOURCE,
            "README.md": "hello\n",
            "data.bin": b"\x00\xff\x00",
            "bad.txt": b"ok \xff\xfe not utf-8\n",
        },
    )


def run(repo: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(app, ["-C", str(repo), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_init_status_outline_show(repo: Path) -> None:
    code, out, _ = run(repo, "init", "--agent", "tester")
    assert code == 0, out
    assert "Imported" in out
    code, out, _ = run(repo, "status", "--json")
    assert code == 0
    status = json.loads(out)
    assert status["files"] == 2
    assert {g["path"]: g["reason"] for g in status["git_only"]}.keys() == {"bad.txt", "data.bin"}
    assert "UTF-8" in {g["path"]: g["reason"] for g in status["git_only"]}["bad.txt"]
    code, out, _ = run(repo, "outline", "src/m.py", "--json")
    assert code == 0
    assert [e["name"] for e in json.loads(out)["nodes"]] == ["one", "two"]
    code, out, _ = run(repo, "outline", "src/m.py")
    assert "one" in out
    assert "two" in out
    code, out, _ = run(repo, "show", "src/m.py::two")
    assert code == 0
    assert out == "\n\ndef two():\n    return 2\n"
    code, out, _ = run(repo, "show", "src/m.py")
    assert out == SOURCE
    key = json.loads(run(repo, "show", "src/m.py::one", "--json")[1])["key"]
    assert run(repo, "show", key)[1] == "def one():\n    return 1\n"


def test_the_repositorys_workspace_comes_from_git_config(repo: Path) -> None:
    git(repo, "config", "crdtspace.workspace", "team")
    code, out, _ = run(repo, "init", "--agent", "tester")
    assert code == 0, out
    assert (repo / ".git" / "crdtspace" / "team").is_dir()
    assert not (repo / ".git" / "crdtspace" / "default").exists()
    code, out, _ = run(repo, "status", "--json")
    assert code == 0, out
    assert json.loads(out)["files"] == 2
    code, out, err = run(repo, "-w", "default", "status")  # -w still names one explicitly
    assert code != 0
    assert "crdtspace init" in out + err


def test_write_rekeys_and_logs_the_agent(repo: Path) -> None:
    assert run(repo, "init")[0] == 0
    before = json.loads(run(repo, "outline", "src/m.py", "--json")[1])["nodes"]
    new = SOURCE.replace("def one():\n    return 1", "def first():\n    return 100")
    code, out, _ = run(repo, "write", "src/m.py", "--agent", "carol", stdin=new)
    assert code == 0, out
    assert "1 edited" in out
    after = json.loads(run(repo, "outline", "src/m.py", "--json")[1])["nodes"]
    assert after[0]["key"] == before[0]["key"]
    assert after[0]["name"] == "first"
    assert after[0]["last_editor"] == "carol"
    entries = json.loads(run(repo, "log", "src/m.py::first", "--json")[1])
    assert [(e["agent"], e["op"], e["head"]) for e in entries] == [("carol", "edit", True)]
    assert run(repo, "show", "src/m.py")[1] == new
    source = repo.parent / "new.py"
    source.write_text("def fresh():\n    pass\n", encoding="utf-8")
    code, out, _ = run(repo, "write", "lib/fresh.py", "--from", str(source), "--agent", "dan")
    assert code == 0, out
    assert run(repo, "show", "lib/fresh.py")[1] == "def fresh():\n    pass\n"


def test_render_writes_the_tree_with_git_only_files(repo: Path, tmp_path: Path) -> None:
    assert run(repo, "init")[0] == 0
    run(repo, "write", "src/m.py", "--agent", "e", stdin=SOURCE + "\n\ndef three():\n    pass\n")
    code, out, _ = run(repo, "render", "--out", str(tmp_path / "out"))
    assert code == 0, out
    assert (
        (tmp_path / "out/src/m.py").read_text(encoding="utf-8").endswith("def three():\n    pass\n")
    )
    assert (tmp_path / "out/data.bin").read_bytes() == b"\x00\xff\x00"
    assert (tmp_path / "out/bad.txt").read_bytes() == b"ok \xff\xfe not utf-8\n"
    code, out, _ = run(repo, "render", "README.md")
    assert out == "hello\n"
    code, _, err = run(repo, "render", "--out", str(repo / ".git" / "x"))
    assert code != 0
    assert ".git" in err


def test_errors_are_one_line_and_non_zero(repo: Path, tmp_path: Path) -> None:
    code, _, err = run(repo, "status")
    assert code == 5
    assert err.count("\n") == 1
    assert "crdtspace init" in err
    assert run(repo, "init")[0] == 0
    code, _, err = run(repo, "init")
    assert code == 5
    assert "already exists" in err
    code, _, err = run(repo, "show", "src/m.py::nothing")
    assert code == 4
    assert err.startswith("error: There is no node")
    code, _, err = run(repo, "write", "../outside.py", stdin="x = 1\n")
    assert code == 4
    assert "outside" in err
    code, _, err = run(repo, "write", "src/m.py", stdin="\x00binary")
    assert code == 4
    assert "binary" in err
    assert run(repo, "show", "src/m.py")[1] == SOURCE  # nothing lost
    code, _, err = run(repo, "show", "data.bin")
    assert code == 4
    assert "git only" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = run(plain, "init")
    assert code == 3
    assert "not inside a git repository" in err
    code, _, err = run(repo, "init", "--force", "--rev", "no-such-rev")
    assert code == 3
    assert "no-such-rev" in err


def test_a_real_subprocess(repo: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "crdtspace", "-C", str(repo)]
    init = subprocess.run([*command, "init"], capture_output=True, text=True, env=env, check=False)
    assert init.returncode == 0, init.stderr
    written = subprocess.run(
        [*command, "write", "src/m.py", "--agent", "sub"],
        input=SOURCE.replace("return 2", "return 22"),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    shown = subprocess.run(
        [*command, "show", "src/m.py::two"], capture_output=True, text=True, env=env, check=False
    )
    assert shown.stdout == "\n\ndef two():\n    return 22\n"
    missing = subprocess.run(
        [*command, "outline", "nope.py"], capture_output=True, text=True, env=env, check=False
    )
    assert missing.returncode == 4
    assert missing.stderr.strip().startswith("error:")
    assert "Traceback" not in missing.stderr


def _conflicted(repo: Path) -> None:
    """A durable workspace holding a merged overlap between alice and bob."""
    from crdtspace import Workspace, sync

    with Workspace.init(repo, agent="alice", force=True) as alice:
        bob = alice.replica("bob")
        alice.write("src/m.py", SOURCE.replace("return 1", "return 10"))
        bob.write("src/m.py", SOURCE.replace("return 1", "return -1"))
        sync(alice, bob)


def test_conflicts_table_json_and_exit_code(repo: Path) -> None:
    run(repo, "init", "--agent", "tester")
    code, out, _ = run(repo, "conflicts")
    assert (code, out.strip()) == (0, "no conflicts")
    _conflicted(repo)
    code, out, _ = run(repo, "conflicts")
    assert code == 1
    assert "overlap" in out
    assert "src/m.py:1 one" in out
    assert "alice, bob" in out
    code, out, _ = run(repo, "conflicts", "--json")
    assert code == 1
    found = json.loads(out)
    (conflict,) = found["conflicts"]
    assert conflict["kind"] == "overlap"
    assert conflict["agents"] == ["alice", "bob"]
    assert conflict["places"][0]["name"] == "one"
    assert conflict["resolutions"] == ["take alice", "take bob", "edit"]


def test_resolve_take_and_errors(repo: Path) -> None:
    _conflicted(repo)
    code, out, _ = run(repo, "conflicts", "--json")
    conflict_id = json.loads(out)["conflicts"][0]["id"]
    code, _, err = run(repo, "resolve", conflict_id)
    assert code == 4
    assert "--take AGENT or --edit" in err
    code, _, err = run(repo, "resolve", "nope", "--take", "bob")
    assert code == 4
    assert "no open conflict" in err
    code, out, _ = run(repo, "resolve", conflict_id[:5], "--take", "bob", "--agent", "carol")
    assert code == 0, out
    assert f"resolved {conflict_id}" in out
    assert run(repo, "conflicts")[0] == 0
    assert "return -1" in run(repo, "show", "src/m.py::one")[1]


def test_resolve_edit_opens_the_editor(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _conflicted(repo)
    conflict_id = json.loads(run(repo, "conflicts", "--json")[1])["conflicts"][0]["id"]
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text('def one():\\n    return 100\\n')\n"
    )
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    code, out, _ = run(repo, "resolve", conflict_id, "--edit")
    assert code == 0, out
    assert run(repo, "show", "src/m.py::one")[1] == "def one():\n    return 100\n"
    assert run(repo, "conflicts")[0] == 0
