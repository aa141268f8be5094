"""The splice index (FileIndex) and the re-keying of typed regions through `Workspace.splice`."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crdtspace.model.splicing as splicing
from crdtspace import Workspace
from crdtspace.model.history import History
from crdtspace.model.segment import Seg, segment_file
from crdtspace.model.textmap import FileIndex
from crdtspace.testing import make_repo

SOURCE = '''"""A module."""

import os


def alpha(x):
    return x + 1


class Box:
    """Holds things."""

    def put(self, item):
        self.items.append(item)

    def size(self):
        return len(self.items)


def gamma():
    return alpha(1)
'''

TYPED = [
    "x",
    " ",
    "\n",
    "é",
    "🙂",
    "(",
    ")",
    ":",
    "\n\ndef typed():\n    return 0\n",
    "\n    def method(self):\n        pass\n",
    "# note\n",
]


RUST = """use std::fmt;

/// A counter.
struct Counter {
    n: u32,
}

impl Counter {
    fn new() -> Self {
        Counter { n: 0 }
    }

    fn bump(&mut self) {
        self.n += 1;
    }
}

fn main() {
    let mut c = Counter::new();
    c.bump();
}
"""

TYPED_RUST = [
    "x",
    " ",
    "\n",
    "é",
    "{",
    "}",
    ";",
    "\n    fn typed(&self) -> u32 {\n        1\n    }\n",
    "\nfn free() {}\n",
    "// note\n",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"m.py": SOURCE, "lib.rs": RUST, "notes.txt": "one\ntwo\n"})


def assert_index_is_exact(ws: Workspace, path: str) -> None:
    """The workspace's cached index agrees with the document and with a fresh index."""
    index = ws._typing.indexes.get(path)
    if index is None:
        return
    fresh = FileIndex(ws.document, path)
    assert index.text() == ws.document.render(path)
    assert [(p.nid, p.part, p.slot, p.content) for p in index.pieces] == [
        (p.nid, p.part, p.slot, p.content) for p in fresh.pieces
    ]
    assert index.starts == fresh.starts
    assert index.length == fresh.length
    assert index.top == fresh.top
    for piece in index.pieces:
        assert str(piece.text) == piece.content


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), rust=st.booleans(), waiting=st.sampled_from([1, 2, 8]))
def test_the_index_stays_exact_through_typing_and_re_keys(
    repo: Path, seed: int, rust: bool, waiting: int
) -> None:
    rnd = random.Random(seed)
    splicing.DIRTY_SLOTS, default = waiting, splicing.DIRTY_SLOTS
    try:
        _type_randomly(repo, rnd, rust)
    finally:
        splicing.DIRTY_SLOTS = default


def _type_randomly(repo: Path, rnd: random.Random, rust: bool) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    path, typed = ("lib.rs", TYPED_RUST) if rust else ("m.py", TYPED)
    text = ws.render(path)
    at = rnd.randint(0, len(text))
    for _ in range(60):
        if rnd.random() < 0.3:  # the cursor moves; else it stays near where it was
            at = rnd.randint(0, len(text))
        at = min(at, len(text))
        delete = rnd.randint(0, min(4, len(text) - at)) if rnd.random() < 0.3 else 0
        insert = rnd.choice(typed) if not delete or rnd.random() < 0.5 else ""
        ws.splice(path, at, delete, insert)
        text = text[:at] + insert + text[at + delete :]
        at += len(insert)
        assert_index_is_exact(ws, path)
    assert ws.render(path) == text
    ws.flush()
    assert_index_is_exact(ws, path)
    assert ws.render(path) == text
    fresh = segment_file(path, text)
    if fresh.fallback_reason is None:  # it parses: the structure is that of an import
        assert [(e.depth, e.kind, e.name) for e in ws.outline(path)] == _outline(fresh.root)


def _outline(seg: Seg, depth: int = 1) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for child in seg.children:
        out.append((depth, child.kind, child.name))
        out += _outline(child, depth + 1)
    return out


def test_typing_in_one_place_then_another_keeps_the_index(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    path = "m.py"
    text = ws.render(path)
    first = text.index("return x + 1") + len("return x")
    ws.splice(path, first, 0, " * 2")
    index = ws._typing.indexes[path]
    second = ws.render(path).index("return alpha(1)") + len("return alpha(1")
    ws.splice(path, second, 0, " + 1")
    # the move re-keyed alpha's unit: its cut did not change, so the index was kept
    assert ws._typing.indexes[path] is index
    assert_index_is_exact(ws, path)


def test_a_rename_typed_in_place_renames_the_node(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    path = "m.py"
    key = ws.resolve(f"{path}::alpha")[1]
    at = ws.render(path).index("def alpha") + len("def alph")
    ws.splice(path, at, 1, "z")
    at = ws.render(path).index("return alpha(1)")
    ws.splice(path, at, 0, "#")  # the typing moves on: alpha's unit is re-keyed
    assert ws.resolve(f"{path}::alphz")[1] == key
    assert_index_is_exact(ws, path)


def test_a_unit_typed_beside_a_broken_one_appears(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    path = "m.py"
    # break alpha: an unclosed parenthesis, then type elsewhere, several times
    at = ws.render(path).index("return x + 1") + len("return ")
    ws.splice(path, at, 0, "(")
    for round_ in range(3):
        text = ws.render(path)
        ws.splice(path, text.index("return alpha(1)"), 0, "#")
        text = ws.render(path)
        ws.splice(path, text.index("return (x") + len("return (x"), 0, str(round_))
    # a new function typed at the end while alpha stays broken
    end = len(ws.render(path))
    for ch in "\n\ndef omega():\n    return 9\n":
        ws.splice(path, end, 0, ch)
        end += 1
    names = [e.qualname for e in ws.outline(path) if e.depth == 1]
    assert names[-1] == "omega"
    # closing the parenthesis makes alpha parse again; the outline is then that of an import
    text = ws.render(path)
    ws.splice(path, text.index("(x210 + 1") + len("(x210 + 1"), 0, ")")
    fresh = Workspace.from_commit(
        make_repo(repo.parent / "again", {path: ws.render(path)}), agent="b"
    )
    outline = [(e.depth, e.kind, e.qualname) for e in ws.outline(path)]
    assert outline == [(e.depth, e.kind, e.qualname) for e in fresh.outline(path)]
    assert_index_is_exact(ws, path)


def test_plain_text_files_keep_their_index(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    ws.splice("notes.txt", 0, 0, "zero\n")
    ws.splice("notes.txt", len("zero\none\n"), 0, "one and a half\n")
    assert ws.render("notes.txt") == "zero\none\none and a half\ntwo\n"
    assert_index_is_exact(ws, "notes.txt")


def test_a_method_typed_into_a_class_is_re_keyed_in_the_class_alone(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(splicing, "DIRTY_SLOTS", 1)  # re-key at each move
    ws = Workspace.from_commit(repo, agent="typist")
    path = "m.py"
    box = ws.resolve(f"{path}::Box")[1]
    assert box is not None
    at = ws.render(path).index("    def size(self)")
    for ch in "    def count(self):\n        return 0\n\n":
        ws.splice(path, at, 0, ch)
        at += 1
    at = ws.render(path).index("return alpha(1)")
    ws.splice(path, at, 0, "#")  # the typing moves on: Box's typed child is re-keyed
    index = ws._typing.indexes[path]
    names = [index.identity(ws.document, p.nid)[1] for p in index.pieces if p.part == "text"]
    assert names.count("count") == 1
    children = [index.identity(ws.document, nid)[1] for nid in ws.document.children(box)]
    assert children[-3:] == ["put", "count", "size"]
    assert path in ws._typing.stale  # re-keyed piecewise: a structure read re-segments it whole
    assert_index_is_exact(ws, path)
    outline = [(e.depth, e.qualname) for e in ws.outline(path)]
    assert (2, "Box.count") in outline


def test_writes_keep_the_index_exact(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="writer")
    path = "m.py"
    text = ws.render(path)
    ws.splice(path, 0, 0, "# typed first\n")  # an index exists and is dirty when write comes
    versions = [
        text.replace("return x + 1", "return x + 2"),
        text.replace("def alpha(x):", "def alpha2(x):").replace("return x + 1", "return 0"),
        text + "\n\ndef added():\n    return 1\n",
        text.replace("def gamma", "def gamma(:"),  # does not parse: edited piecewise
        text.replace("    def size(self):\n        return len(self.items)\n", ""),
        text,
    ]
    for version in versions:
        ws.write(path, version)
        assert ws.render(path) == version
        assert_index_is_exact(ws, path)
        at = version.index("return")
        ws.splice(path, at, 0, "#")
        assert_index_is_exact(ws, path)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), rust=st.booleans())
def test_bursts_typed_in_one_transaction_lose_nothing(repo: Path, seed: int, rust: bool) -> None:
    """Keystrokes of a burst are held back and written to the Text as one insert: whatever
    happens inside the transaction (backspaces into and past the held run, typing elsewhere, in
    another file, reads of the document), every read sees the typed text, a peer that receives
    the updates converges, and the log's edits rebuild what was typed."""
    rnd = random.Random(seed)
    ws = Workspace.from_commit(repo, agent="typist")
    peer = Workspace.from_commit(repo, agent="peer")
    ws.subscribe(peer.apply_update)
    path, typed = ("lib.rs", TYPED_RUST) if rust else ("m.py", TYPED)
    texts = {path: ws.render(path), "notes.txt": ws.render("notes.txt")}
    for _ in range(12):
        with ws.transaction():
            at = rnd.randint(0, len(texts[path]))
            for _ in range(rnd.randint(1, 15)):
                where = path
                if rnd.random() < 0.1:  # a keystroke in another file, then back
                    where = "notes.txt"
                text = texts[where]
                at = min(at, len(text)) if where == path else rnd.randint(0, len(text))
                roll = rnd.random()
                if roll < 0.2 and at > 0:  # backspace
                    take = min(at, rnd.choice([1, 1, 1, 3]))
                    ws.splice(where, at - take, take, "")
                    text = text[: at - take] + text[at:]
                    at -= take
                elif roll < 0.3:  # the cursor jumps
                    at = rnd.randint(0, len(text))
                    continue
                else:
                    insert = rnd.choice(typed)
                    delete = rnd.randint(0, min(2, len(text) - at)) if roll < 0.4 else 0
                    ws.splice(where, at, delete, insert)
                    text = text[:at] + insert + text[at + delete :]
                    at += len(insert)
                texts[where] = text
                if where != path:
                    at = min(at, len(texts[path]))
                if rnd.random() < 0.1:  # a read inside the transaction sees every keystroke
                    assert ws.document.render(where) == texts[where]
                    assert ws.read(where) == texts[where]
        for name, text in texts.items():
            assert ws.render(name) == text
            assert_index_is_exact(ws, name)
    ws.flush()
    for name, text in texts.items():
        assert peer.render(name) == text
        assert ws.render(name) == text
    history = History(ws.document)
    for nid in ws.document.edited_nodes():
        if not ws.document.has_node(nid):
            continue
        rebuilt = history.after(nid, ws.document.log(nid)[-1].id)
        live = ws.document.texts(nid)
        assert {k: v for k, v in rebuilt.items() if v} == {k: v for k, v in live.items() if v}


def _typing_after_alpha(ws: Workspace) -> tuple[FileIndex, int, list[str]]:
    """m.py's splice index, the offset after alpha's `return x + 1`, and the writes its
    pycrdt Text gets from now on."""
    path = "m.py"
    at = ws.render(path).index("return x + 1") + len("return x + 1")
    index = ws._typing.indexes.get(path) or ws._typing.index(path)
    writes: list[str] = []
    index.pieces[index.locate(at)].text.observe(lambda event: writes.append(str(event.delta)))
    return index, at, writes


def test_a_burst_reaches_the_text_as_one_insert(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    index, at, writes = _typing_after_alpha(ws)
    with ws.transaction():
        for ch in " + 22":
            ws.splice("m.py", at, 0, ch)
            at += 1
        ws.splice("m.py", at - 1, 1, "")  # a backspace inside the run just shortens it
        assert index.holding
    # Nobody hears of this replica's transactions (no log, no listener): the run waits
    # until something reads the document.
    assert index.holding
    assert not writes
    assert "return x + 1 + 2\n" in ws.render("m.py")
    assert not index.holding
    assert len(writes) == 1


def test_a_burst_is_written_when_its_transaction_ends_if_anyone_listens(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    updates: list[bytes] = []
    ws.subscribe(updates.append)
    index, at, writes = _typing_after_alpha(ws)
    with ws.transaction():
        for ch in " + 3":
            ws.splice("m.py", at, 0, ch)
            at += 1
        assert index.holding
    assert not index.holding
    assert len(writes) == 1
    assert len(updates) == 1
    peer = Workspace.from_commit(repo, agent="peer")
    peer.apply_update(updates[0])
    assert "return x + 1 + 3\n" in peer.render("m.py")


def test_typing_that_goes_back_and_forth_re_keys_the_least_recent_unit(tmp_path: Path) -> None:
    """Units typed into wait for their re-key (an editor's multi-cursor edits go back and forth
    between a few of them); once DIRTY_SLOTS wait, typing in another re-keys the one typed
    into least recently, whose new structure then shows."""
    functions = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(12))
    ws = Workspace.from_commit(make_repo(tmp_path / "r", {"m.py": functions}), agent="t")
    path = "m.py"

    def type_at(marker: str, text: str) -> None:
        ws.splice(path, ws.render(path).index(marker), 0, text)

    parses: list[str] = []
    real = splicing.rekey_slots
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            splicing,
            "rekey_slots",
            lambda *a, **k: parses.append(a[4]) or real(*a, **k),
        )
        type_at("    return 0", "def g():\n    return 9\n")  # f0 now holds two functions
        for _ in range(3):  # back and forth: nothing is re-keyed
            for i in range(1, splicing.DIRTY_SLOTS):
                type_at(f"    return {i}\n", "# ")
        assert parses == []
        assert len(ws._typing.dirty[path]) == splicing.DIRTY_SLOTS
        type_at("    return 11\n", "# ")  # one more unit: f0, the least recent, is re-keyed
        assert len(parses) == 1
        assert "def g():" in parses[0]
    index = ws._typing.indexes[path]
    names = [index.identity(ws.document, nid)[1] for nid in index.top]
    assert names[:3] == ["f0", "g", "f1"]  # g appeared without a structure read
    assert len(ws._typing.dirty[path]) == splicing.DIRTY_SLOTS
    assert_index_is_exact(ws, path)
    assert [e.name for e in ws.outline(path) if e.depth == 1][:3] == ["f0", "g", "f1"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), rust=st.booleans())
def test_typing_held_across_transactions_loses_nothing(repo: Path, seed: int, rust: bool) -> None:
    """On a replica nobody listens to, typed runs outlive their transactions (no pycrdt
    transaction per keystroke). Whatever comes between bursts (reads, versions, writes made
    from an older read, updates sent and received, a listener arriving), every read sees every
    keystroke, a write from before the typing does not undo it, and peers converge."""
    rnd = random.Random(seed)
    ws = Workspace.from_commit(repo, agent="typist")
    peer = Workspace.from_commit(repo, agent="peer")
    path, typed = ("lib.rs", TYPED_RUST) if rust else ("m.py", TYPED)
    text = ws.render(path)
    notes = ws.render("notes.txt")
    stale = ws.version()  # another agent's read, before any typing
    at = rnd.randint(0, len(text))
    listening = False
    for _ in range(30):
        with ws.transaction():
            for _ in range(rnd.randint(1, 6)):
                roll = rnd.random()
                if roll < 0.2 and at > 0:
                    ws.splice(path, at - 1, 1, "")
                    text = text[: at - 1] + text[at:]
                    at -= 1
                elif roll < 0.3:
                    at = rnd.randint(0, len(text))
                else:
                    insert = rnd.choice(typed)
                    ws.splice(path, at, 0, insert)
                    text = text[:at] + insert + text[at:]
                    at += len(insert)
        event = rnd.random()
        if event < 0.15:
            assert ws.render(path) == text
        elif event < 0.25:  # a version taken now holds every keystroke
            reading = ws.read(path)
            assert reading == text
            assert ws.fork_at(reading.version).render(path) == text
            assert ws.fork_at(ws.version()).render(path) == text
        elif event < 0.35:  # another agent edits the other file from a read before the typing
            other = "m.py" if rust else "lib.rs"
            before = ws.fork_at(stale).render(other)
            ws.write(other, before + "// stale\n", base=stale, agent="other")
            assert ws.render(path) == text
        elif event < 0.5:
            peer.apply_update(ws.update_since(peer.state()))
            assert peer.render(path) == text
        elif event < 0.6:  # the peer edits notes.txt; the typist receives it
            peer.apply_update(ws.update_since(peer.state()))
            notes = peer.render("notes.txt") + "peer\n"
            peer.write("notes.txt", notes)
            ws.apply_update(peer.update_since(ws.state()))
            assert ws.render("notes.txt") == notes
        elif event < 0.62 and not listening:
            ws.subscribe(peer.apply_update)
            peer.apply_update(ws.update_since(peer.state()))
            listening = True
        at = min(at, len(text))
    assert ws.render(path) == text
    assert ws.render("notes.txt") == notes
    peer.apply_update(ws.update_since(peer.state()))
    ws.apply_update(peer.update_since(ws.state()))
    assert peer.render(path) == ws.render(path) == text
    assert peer.render("notes.txt") == ws.render("notes.txt") == notes
    assert_index_is_exact(ws, path)


def test_typing_is_logged_as_its_typist_when_another_agent_acts_next(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="typist")
    at = ws.render("m.py").index("return x + 1") + len("return x + 1")
    for ch in " + 5":
        with ws.transaction():
            ws.splice("m.py", at, 0, ch)
            at += 1
    with ws.acting_as("git"):
        ws.write("notes.txt", ws.render("notes.txt") + "three\n")
    alpha = next(
        nid
        for nid in ws.document.edited_nodes()
        if "return x + 1 + 5" in ws.document.render_node(nid)
    )
    assert [entry.agent for entry in ws.document.log(alpha)][-1] == "typist"
