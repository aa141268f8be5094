"""The edit log rebuilds any node's text: after its single head it equals the live text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace import Workspace, sync
from crdtspace.model.history import History, render_texts
from crdtspace.testing import make_repo
from tests.test_convergence import FILES, _op


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("hist") / "repo", FILES)


def _live(ws: Workspace, nid: str) -> dict[str, str]:
    return ws.document.texts(nid)


def _check_single_heads(ws: Workspace) -> int:
    history = History(ws.document)
    checked = 0
    for nid in list(ws.document.nodes.keys()):
        heads = history.node_log(nid).heads
        if len(heads) == 1:
            rebuilt = history.after(nid, heads[0])
            live = _live(ws, nid)
            assert {k: v for k, v in rebuilt.items() if v} == {k: v for k, v in live.items() if v}
            checked += 1
    return checked


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), replicas=st.integers(2, 3))
def test_text_after_a_single_head_is_the_live_text(repo: Path, seed: int, replicas: int) -> None:
    rnd = random.Random(seed)
    names = ["alice", "bob", "carol"][:replicas]
    spaces = [Workspace.from_commit(repo, agent=n) for n in names]
    for _ in range(12):
        ws = rnd.choice(spaces)
        _op(ws, rnd)
        if rnd.random() < 0.3:
            a, b = rnd.sample(spaces, 2)
            sync(a, b)
    for a in spaces:
        for b in spaces:
            if a is not b:
                sync(a, b)
    for ws in spaces:
        ws.flush()
        _check_single_heads(ws)


def test_concurrent_edits_fork_at_the_common_entry(repo: Path) -> None:
    alice = Workspace.from_commit(repo, agent="alice")
    bob = Workspace.from_commit(repo, agent="bob")
    alice.replace("lib/shelf.py::alpha", "def alpha(x):\n    return x + 2\n")
    sync(alice, bob)
    alice.replace("lib/shelf.py::alpha", "def alpha(x):\n    return x + 3\n")
    bob.replace("lib/shelf.py::alpha", "def alpha(y):\n    return y + 2\n")
    sync(alice, bob)
    _, nid = alice.resolve("lib/shelf.py::alpha")
    assert nid is not None
    history = History(alice.document)
    heads = history.node_log(nid).heads
    assert len(heads) == 2
    fork = history.fork_texts(nid, heads)
    assert render_texts(fork).endswith("return x + 2\n")
    sides = sorted(render_texts(history.after(nid, h)) for h in heads)
    assert sides == sorted(  # (each replace kept the blank lines before alpha: `unitfit`)
        ["\n\ndef alpha(x):\n    return x + 3\n", "\n\ndef alpha(y):\n    return y + 2\n"]
    )
    first, second = (history.node_log(nid).entries[h] for h in heads)
    assert not first.saw(second)
    assert not second.saw(first)
    (base_entry,) = [e for e in history.node_log(nid).entries.values() if not e.parents]
    assert first.saw(base_entry)
    assert second.saw(base_entry)


def test_a_typing_session_is_one_entry_per_node(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    path = "lib/shelf.py"
    _, nid = ws.resolve(f"{path}::beta")
    assert nid is not None
    at = ws.render(path).index("total = 0") + len("total = 0")
    for ch in " + 1 + 2":
        with ws.transaction():
            ws.splice(path, at, 0, ch)
        at += 1
    assert ws.document.log(nid) == []  # held back while only typing
    ws.flush()
    (entry,) = ws.document.log(nid)
    assert entry.agent == "typist"
    ((part, _, old, new),) = entry.edits  # the session's net change, not one per keystroke
    assert (part, old, new) == ("text", "", " + 1 + 2")
    history = History(ws.document)
    assert "total = 0 + 1 + 2" in history.after(nid, entry.id)["text"]


def test_typing_is_sealed_before_a_remote_update_so_concurrency_shows(repo: Path) -> None:
    alice = Workspace.from_commit(repo, agent="alice")
    bob = Workspace.from_commit(repo, agent="bob")
    path = "lib/shelf.py"
    at = alice.render(path).index("return x + 1") + len("return x + ")
    alice.splice(path, at, 1, "2")
    bob.replace(f"{path}::alpha", "\n\ndef alpha(x):\n    return x + 3\n")
    alice.apply_update(bob.update_since(alice.state()))  # alice's typing is sealed first
    bob.apply_update(alice.update_since(bob.state()))
    for ws in (alice, bob):
        assert [c.kind for c in ws.conflicts()] == ["overlap"]


def test_a_durable_replica_logs_every_transaction(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "durable", FILES)
    with Workspace.init(root, agent="typist") as ws:
        ws.splice("lib/shelf.py", 0, 0, "# x\n")
        edited = ws.document.edited_nodes()  # read without flushing: entries already written
        assert edited
        assert all(ws.document.log(nid) for nid in edited)
