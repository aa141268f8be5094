"""The schema check the server runs on a scratch copy before it accepts a peer's update."""

from __future__ import annotations

from pathlib import Path

import pytest

from crdtspace import Workspace
from crdtspace.model import schema
from crdtspace.testing import make_repo
from tests.test_server import SCHEMA, _raw_update

APP = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"app.py": APP, "notes.txt": "one\n"})


def touched(repo: Path, update: bytes) -> list[str]:
    """What `schema.problems` says of every node and path after `update`."""
    ws = Workspace.from_commit(repo, agent="check")
    ws.doc.apply_update(update)
    nodes = [str(k) for k in ws.document.nodes]
    return schema.problems(ws.doc, nodes, list(ws.document.files.keys()))


@pytest.mark.parametrize("case", sorted(set(SCHEMA) - {"deleted node", "file removed unrecorded"}))
def test_each_broken_shape_is_named(repo: Path, case: str) -> None:
    assert touched(repo, _raw_update(repo, SCHEMA[case]))


def test_a_sound_document_has_no_problems(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="check")
    ws.write("app.py", APP + "\n\nclass C:\n    def m(self):\n        return 3\n")
    ws.write("new.py", "x = 1\n")
    nodes = [str(k) for k in ws.document.nodes]
    assert schema.problems(ws.doc, nodes, list(ws.document.files.keys())) == []
