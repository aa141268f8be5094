"""`crdtspace claim|release|claims`: claims from the command line, held in the document, seen
by every replica (networked ones and agents' tools included) until they expire."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from crdtspace import Workspace
from crdtspace.cli import app
from crdtspace.live.server import running_server
from crdtspace.model import claims as board
from crdtspace.testing import make_repo

APP = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n"


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["-C", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def test_claim_list_release_from_the_command_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": APP})
    assert run(repo, "init")[0] == 0
    code, out, _ = run(repo, "claim", "app.py::f", "app.py", "--note", "tidy", "--agent", "ann")
    assert code == 0
    assert out.startswith("ann claims app.py::f until ")
    code, out, _ = run(repo, "claim", "app.py::f", "--agent", "bo", "--ttl", "60")
    assert "also claimed by ann" in out
    listed = json.loads(run(repo, "claims", "--json")[1])
    assert [(c["agent"], c["name"], c["note"]) for c in listed] == [
        ("ann", "", "tidy"),
        ("ann", "f", "tidy"),
        ("bo", "f", ""),
    ]
    assert "claims        3:" in run(repo, "status")[1]
    assert run(repo, "release", "app.py::f", "--agent", "ann")[1] == "released app.py::f\n"
    assert run(repo, "release", "app.py::g", "--agent", "ann")[1] == "no claim on app.py::g\n"
    listed = json.loads(run(repo, "claims", "--json")[1])
    assert [(c["agent"], c["name"]) for c in listed] == [("ann", ""), ("bo", "f")]
    code, _, err = run(repo, "claim", "app.py::nope", "--agent", "ann")
    assert code == 4
    assert "no node 'nope'" in err


def test_a_claim_expires(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": APP})
    with Workspace.init(repo, agent="ann") as ws:
        board.hold(ws, "app.py::g", agent="ann", ttl=0.2)
        assert [c.name for c in board.in_document(ws)] == ["g"]
        time.sleep(0.3)
        assert board.in_document(ws) == []


def test_networked_replicas_see_claims_held_in_the_document(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": APP})
    Workspace.init(repo, agent="setup").close()
    with (
        running_server(repo) as server,
        Workspace.connect(server.url, server.token, agent="alice") as alice,
        Workspace.connect(server.url, server.token, agent="bob") as bob,
    ):
        board.hold(alice, "app.py::g", agent="carol", ttl=60, note="by hand")
        deadline = time.monotonic() + 10
        while not bob.claims():  # type: ignore[attr-defined]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (seen,) = bob.claims()  # type: ignore[attr-defined]
        assert (seen.agent, seen.name, seen.note) == ("carol", "g", "by hand")
