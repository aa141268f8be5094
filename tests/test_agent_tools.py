"""The agent tools through a real MCP client (the SDK's `Client`, in process): what the model
sees of reads, edits, errors, long results, conflicts, the check and the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from crdtspace import Workspace, sync
from crdtspace.agents.mcp import Sessions, server, tool_list
from crdtspace.agents.tools import MAX_RESULT, TOOLS, Session, clip
from crdtspace.testing import git, make_repo

APP = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n"
NAMES = [
    "status", "list_files", "search", "outline", "read", "edit", "write_file", "replace_node",
    "insert_node", "delete_node", "move_node", "claim", "release", "claims", "conflicts",
    "resolve", "history", "diff", "run_check", "commit",
]  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "app.py": APP,
            "pyproject.toml": '[tool.crdtspace]\ncheck = "python -c \\"import app\\""\n',
        },
    )


@pytest.fixture
def ws(repo: Path) -> Iterator[Workspace]:
    with Workspace.init(repo, agent="alice") as workspace:
        yield workspace


def calls(session: Session, *steps: tuple[str, dict[str, Any]]) -> list[tuple[bool, str]]:
    """Each step's (is_error, text) through an MCP client connected to the server in process."""
    out: list[tuple[bool, str]] = []

    async def main() -> None:
        async with Client(server(Sessions(lambda client: session))) as client:
            for name, args in steps:
                result = await client.call_tool(name, args)
                assert result.structured_content is None  # plain text: clients show it
                text = "".join(c.text for c in result.content if c.type == "text")
                out.append((bool(result.is_error), text))

    anyio.run(main)
    return out


def test_the_tools_are_named_as_clients_expect() -> None:
    assert list(TOOLS) == NAMES
    listed = tool_list()
    assert [t.name for t in listed] == NAMES
    for tool in listed:
        assert len(f"mcp__crdtspace__{tool.name}") <= 64
        assert tool.description
        assert tool.input_schema["type"] == "object"


def test_read_edit_and_the_version_to_give_back(ws: Workspace) -> None:
    session = Session(ws, "alice")
    (_, read), (error, edited), (_, after) = calls(
        session,
        ("read", {"ref": "app.py::f"}),
        ("edit", {"ref": "app.py::f", "old": "x + 1", "new": "x + 10"}),
        ("read", {"ref": "app.py"}),
    )
    assert read.startswith("[app.py::f at version v")
    assert read.endswith("def f(x):\n    return x + 1\n")
    assert not error
    assert edited.startswith("Edited app.py::f (version v")
    assert after.endswith(APP.replace("x + 1", "x + 10"))
    assert ws.render("app.py") == APP.replace("x + 1", "x + 10")


def test_an_edit_from_an_old_version_keeps_what_came_since(ws: Workspace) -> None:
    session = Session(ws, "alice")
    ((_, read),) = calls(session, ("read", {"ref": "app.py"}))
    version = read.split("version ")[1].split(";")[0]
    bob = ws.replica("bob")
    bob.replace("app.py::g", "\n\ndef g(x):\n    return x * 3\n")
    sync(ws, bob)
    ((error, _),) = calls(
        session, ("edit", {"ref": "app.py", "old": "x + 1", "new": "x + 5", "base": version})
    )
    assert not error
    assert ws.render("app.py") == APP.replace("x + 1", "x + 5").replace("x * 2", "x * 3")


def test_errors_are_tool_errors_with_one_sentence(ws: Workspace) -> None:
    session = Session(ws, "alice")
    results = calls(
        session,
        ("edit", {"ref": "app.py", "old": "nothing like this", "new": "x"}),
        ("edit", {"ref": "app.py", "old": "return", "new": "yield"}),
        ("read", {"ref": "nope.py"}),
        ("read", {}),
        ("search", {"pattern": "("}),
        ("claim", {"refs": "app.py::f", "ttl": -1}),
        ("nosuchtool", {}),
    )
    assert all(error for error, _ in results), results
    texts = [text for _, text in results]
    assert "not found in app.py" in texts[0]
    assert "found 2 times in app.py" in texts[1]
    assert "quote more lines" in texts[1]
    assert "no file 'nope.py'" in texts[2]
    assert "needs the argument 'ref'" in texts[3]
    assert "not a regular expression" in texts[4]
    assert "'ttl' must be a positive number" in texts[5]
    assert "nosuchtool" in texts[6]
    assert all("\n" not in t and "Traceback" not in t for t in texts)
    assert ws.render("app.py") == APP  # nothing changed


def test_long_results_are_cut_with_a_note(ws: Workspace) -> None:
    big = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(3000))
    ws.write("big.py", big)
    ((error, text),) = calls(Session(ws, "alice"), ("read", {"ref": "big.py"}))
    assert not error
    assert len(text) <= MAX_RESULT
    assert "cut:" in text
    assert "outline" in text
    assert clip("short") == "short"


def test_search_outline_list_history_and_diff(ws: Workspace) -> None:
    session = Session(ws, "alice")
    ws.replace("app.py::g", "\n\ndef g(x):\n    return x * 7\n")
    results = calls(
        session,
        ("search", {"pattern": r"return x \*", "glob": "*.py"}),
        ("outline", {"path": "app.py"}),
        ("list_files", {"glob": "*.toml"}),
        ("history", {"ref": "app.py::g"}),
        ("diff", {}),
    )
    assert not any(error for error, _ in results)
    found, outline, listed, history, diff = (text for _, text in results)
    assert found.startswith("app.py:6:     return x * 7")
    assert "  function_definition  f  1-2  (base)" in outline
    assert "  function_definition  g  5-6  alice" in outline
    assert listed == "pyproject.toml"
    assert "edit by alice" in history
    assert "-    return x * 2\n+    return x * 7\n" in diff


def test_conflicts_show_both_sides_and_resolve_settles_them(ws: Workspace) -> None:
    bob = ws.replica("bob")
    ws.replace("app.py::f", "def f(x):\n    return x + 10\n")
    bob.replace("app.py::f", "def f(x):\n    return x - 1\n")
    sync(ws, bob)
    session = Session(ws, "alice")
    (_, listed), (_, news), (error, resolved) = calls(
        session,
        ("conflicts", {}),
        ("status", {}),
        ("resolve", {"id": ws.conflicts()[0].id, "take": "bob"}),
    )
    assert "(overlap) at app.py:1 f [alice, bob]" in listed
    assert "alice's side:\n    def f(x):\n        return x + 10" in listed
    assert "bob's side:\n    def f(x):\n        return x - 1" in listed
    assert "Open conflicts: 1" in news
    assert not error
    assert "0 conflict(s) still open" in resolved
    assert ws.render("app.py").startswith("def f(x):\n    return x - 1\n")


def test_news_of_a_new_conflict_comes_with_the_next_result(ws: Workspace) -> None:
    session = Session(ws, "alice")
    bob = ws.replica("bob")
    calls(session, ("edit", {"ref": "app.py::f", "old": "x + 1", "new": "x + 10"}))
    bob.replace("app.py::f", "def f(x):\n    return x - 1\n")
    sync(ws, bob)
    (_, first), (_, second) = calls(session, ("list_files", {}), ("list_files", {}))
    assert "New conflict" in first
    assert "(overlap)" in first
    assert "New conflict" not in second  # told once


def test_run_check_and_commit_through_the_gate(ws: Workspace, repo: Path) -> None:
    session = Session(ws, "alice")
    calls(session, ("edit", {"ref": "app.py::g", "old": "x * 2", "new": "x * 4"}))
    (_, passed), (_, committed) = calls(
        session, ("run_check", {}), ("commit", {"message": "g times four"})
    )
    assert passed.startswith("Passed:")
    assert committed.startswith("Committed ")
    assert "ok   check:" in committed
    assert git(repo, "show", "HEAD:app.py") == APP.replace("x * 2", "x * 4")
    calls(session, ("write_file", {"path": "app.py", "text": "def f(:\n"}))
    (_, failed), (_, refused) = calls(
        session,
        ("run_check", {"command": 'python -c "import app"'}),
        ("commit", {"message": "broken"}),
    )
    assert failed.startswith("Failed:")
    assert "SyntaxError" in failed
    assert refused.startswith("Not committed.")
    assert "FAIL" in refused


def test_claims_without_a_connection_are_held_in_the_document(ws: Workspace) -> None:
    alice, bob = Session(ws, "alice"), Session(ws, "bob")
    (_, claimed), (_, listed) = calls(
        alice, ("claim", {"refs": ["app.py::f"], "note": "faster"}), ("claims", {})
    )
    assert claimed.startswith("Claimed app.py::f until ")
    assert "alice claims app.py::f until " in listed
    assert "(faster)" in listed
    (_, also), (_, outline) = calls(
        bob, ("claim", {"refs": "app.py::f"}), ("outline", {"path": "app.py"})
    )
    assert "also claimed by alice" in also
    assert "claimed by alice, bob" in outline
    ((_, news),) = calls(alice, ("list_files", {}))
    assert "bob also claims app.py::f (you claimed app.py::f)" in news
    calls(alice, ("release", {"refs": "app.py::f"}))
    ((_, left),) = calls(bob, ("claims", {}))
    assert "alice" not in left
    assert "bob claims app.py::f" in left
