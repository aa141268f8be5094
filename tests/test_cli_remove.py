"""`crdtspace rm` and `crdtspace mv`: nodes and files deleted, moved, renamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace import Workspace
from crdtspace.cli import app
from crdtspace.testing import git, make_repo

APP = "def f(x):\n    return x + 1\n\n\nclass Box:\n    def put(self):\n        pass\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"app.py": APP, "notes.txt": "hello\n"})
    assert CliRunner().invoke(app, ["-C", str(root), "init"]).exit_code == 0
    return root


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["-C", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def test_rm_deletes_nodes_and_removes_files(repo: Path) -> None:
    key = json.loads(run(repo, "outline", "app.py", "--json")[1])["nodes"][0]["key"]
    assert run(repo, "rm", "app.py::f", "notes.txt", "--agent", "ann")[0] == 0
    shown = run(repo, "show", "app.py")[1]
    assert "def f" not in shown
    assert "class Box" in shown
    assert json.loads(run(repo, "status", "--json")[1])["files"] == 1
    with Workspace.open(repo, agent="reader") as ws:
        assert [(e.agent, e.op) for e in ws.document.log(key)] == [("ann", "delete")]
    code, _, err = run(repo, "rm", "nope.py")
    assert code == 4
    assert "no file 'nope.py'" in err


def test_mv_moves_a_node_into_a_class_and_renames_a_file(repo: Path) -> None:
    key = json.loads(run(repo, "outline", "app.py", "--json")[1])["nodes"][0]["key"]
    assert run(repo, "mv", "app.py::f", "app.py::Box", "--after", "put")[0] == 0
    names = [
        n["qualname"] for n in json.loads(run(repo, "outline", "app.py", "--json")[1])["nodes"]
    ]
    assert names == ["Box", "Box.put", "Box.f"]
    assert run(repo, "mv", "app.py", "pkg/box.py", "--agent", "bo")[0] == 0
    outline = json.loads(run(repo, "outline", "pkg/box.py", "--json")[1])
    assert key in [n["key"] for n in outline["nodes"]]  # the same nodes, keys kept
    assert run(repo, "show", "app.py")[0] == 4
    assert run(repo, "mv", "notes.txt", "pkg/box.py")[0] == 4  # exists already
    with Workspace.open(repo, agent="gate") as ws:
        report = ws.commit("moved", run_check=False)
    assert report.commit is not None, report.steps
    assert git(repo, "ls-files").split() == ["notes.txt", "pkg/box.py"]


def test_mv_to_another_language_writes_the_text_anew(repo: Path) -> None:
    assert run(repo, "mv", "app.py", "app.txt")[0] == 0
    assert run(repo, "show", "app.txt")[1] == APP
