"""The node API of one workspace and two replicas, on real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from crdtspace import DocumentError, NodeNotFound, PathError, SyncError, Workspace, sync
from crdtspace.git.gitio import open_repo, read_tree, resolve_commit
from crdtspace.model.importing import import_commit
from crdtspace.model.links import connect
from crdtspace.testing import make_repo

MODULE = '''"""A module."""

import os

LIMIT = 10


def alpha(x):
    return x + 1


# beta doubles
def beta(x):
    return x * 2


class Box:
    """Holds things."""

    def __init__(self):
        self.items = []

    def put(self, item):
        self.items.append(item)

    def size(self):
        return len(self.items)


def gamma():
    return alpha(beta(1))
'''


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "pkg/mod.py": MODULE,
            "notes.txt": "first line\nsecond line\n",
            "web/app.js": "function hello() {\n  return 1;\n}\n",
            "blob.bin": b"\x00\x01\x02binary",
            "broken.py": "def (:\n  pass\n",
        },
    )


def names(ws: Workspace, path: str) -> list[str]:
    return [e.qualname for e in ws.outline(path)]


def test_import_renders_every_file_exactly(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    assert ws.render("pkg/mod.py") == MODULE
    assert ws.render("notes.txt") == "first line\nsecond line\n"
    assert ws.render("broken.py") == "def (:\n  pass\n"
    assert [g.path for g in ws.git_only()] == ["blob.bin"]
    status = ws.status()
    assert status.unparsed == ["broken.py"]
    assert status.plain_text == ["notes.txt"]
    assert status.structured == 2


def test_outline_names_lines_and_comments_belong_to_the_next_unit(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    outline = {e.qualname: e for e in ws.outline("pkg/mod.py")}
    assert [
        q
        for q in outline
        if q in {"alpha", "beta", "Box", "Box.__init__", "Box.put", "Box.size", "gamma"}
    ] == ["alpha", "beta", "Box", "Box.__init__", "Box.put", "Box.size", "gamma"]
    assert ws.read("pkg/mod.py::beta").startswith("\n\n# beta doubles\ndef beta")
    assert outline["alpha"].start_line == 8
    assert outline["alpha"].end_line == 9
    assert outline["Box.put"].depth == 2
    assert outline["alpha"].last_editor == "(base)"


def test_import_is_deterministic(repo: Path) -> None:
    commit = resolve_commit(open_repo(repo))
    files = read_tree(commit)
    assert import_commit(commit.hexsha, files) == import_commit(commit.hexsha, files)
    a = Workspace.from_commit(repo, agent="a")
    b = Workspace.from_commit(repo, agent="b")
    assert a.update_since() == b.update_since()
    before = len(a.update_since())
    sync(a, b)
    assert len(a.update_since()) == before  # nothing duplicated by the merge


def test_replace_keeps_the_key_and_logs_the_agent(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="alice")
    key = ws.resolve("pkg/mod.py::alpha")[1]
    assert key is not None
    new = "\n\ndef alpha(x):\n    return x + 2\n"
    assert ws.replace("pkg/mod.py::alpha", new) == key
    assert ws.read(key) == new
    assert ws.render("pkg/mod.py") == MODULE.replace("return x + 1", "return x + 2")
    [(nid, entry)] = ws.log("pkg/mod.py::alpha")
    assert nid == key
    assert entry.agent == "alice"
    assert entry.op == "edit"
    assert ws.heads(key) == (entry.id,)
    assert ws.outline("pkg/mod.py")[names(ws, "pkg/mod.py").index("alpha")].last_editor == "alice"


def test_log_entries_chain_through_parents(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="alice")
    ws.replace("pkg/mod.py::alpha", "\n\ndef alpha(x):\n    return 2\n")
    ws.replace("pkg/mod.py::alpha", "\n\ndef alpha(x):\n    return 3\n")
    first, second = (entry for _, entry in ws.log("pkg/mod.py::alpha"))
    assert first.parents == ()
    assert second.parents == (first.id,)


def test_concurrent_edits_have_two_heads_until_one_sees_both(repo: Path) -> None:
    a = Workspace.from_commit(repo, agent="alice")
    b = Workspace.from_commit(repo, agent="bob")
    a.replace("pkg/mod.py::alpha", "\n\ndef alpha(x):\n    return x + 10\n")
    b.replace("pkg/mod.py::beta", "\n\n# beta doubles\ndef beta(x):\n    return x * 20\n")
    b.replace("pkg/mod.py::alpha", "\n\ndef alpha(y):\n    return y + 1\n")
    sync(a, b)
    key = a.resolve("pkg/mod.py::alpha")[1]
    assert key is not None
    assert len(a.heads(key)) == 2
    # the CRDT merged both edits character by character...
    assert a.document.render_node(key) == "\n\ndef alpha(y):\n    return y + 10\n"
    # ...but they changed the same lines: reads show both sides and the base, not the mix
    assert a.read(key) == (
        "\n\n<<<<<<< alice\ndef alpha(x):\n    return x + 10\n||||||| base\n"
        "def alpha(x):\n    return x + 1\n=======\ndef alpha(y):\n    return y + 1\n>>>>>>> bob\n"
    )
    a.replace(key, "\n\ndef alpha(y):\n    return y + 100\n")
    [head] = a.heads(key)
    last = a.log(key)[-1][1]
    assert head == last.id
    assert len(last.parents) == 2


def test_insert_delete_move(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    created = ws.insert(
        "pkg/mod.py::Box", "Box.put", "\n    def clear(self):\n        self.items = []\n"
    )
    assert len(created) == 1
    methods = [n for n in names(ws, "pkg/mod.py") if n.startswith("Box.")]
    assert methods == ["Box.__init__", "Box.put", "Box.clear", "Box.size"]
    ws.delete("pkg/mod.py::beta")
    assert "beta" not in names(ws, "pkg/mod.py")
    assert "def beta" not in ws.render("pkg/mod.py")
    ws.move("pkg/mod.py::gamma", "pkg/mod.py", after="alpha")
    order = [n for n in names(ws, "pkg/mod.py") if n in {"alpha", "gamma", "Box"}]
    assert order == ["alpha", "gamma", "Box"]
    with pytest.raises(DocumentError, match="into itself"):
        ws.move("pkg/mod.py::Box", "pkg/mod.py::Box")
    with pytest.raises(DocumentError, match="not a container"):
        ws.move("pkg/mod.py::alpha", "pkg/mod.py::gamma")


def test_write_rekeys_rename_and_edit_keeping_ids(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    before = {e.qualname: e.key for e in ws.outline("pkg/mod.py")}
    new = MODULE.replace("def alpha(x):\n    return x + 1", "def first(x):\n    return x + 100")
    new = new.replace("return alpha(beta(1))", "return first(beta(1))")
    result = ws.write("pkg/mod.py", new)
    after = {e.qualname: e.key for e in ws.outline("pkg/mod.py")}
    assert ws.render("pkg/mod.py") == new
    assert after["first"] == before["alpha"]
    assert after["gamma"] == before["gamma"]
    assert not result.created
    assert not result.deleted
    assert set(result.edited) == {before["alpha"], before["gamma"]}


def test_write_detects_a_move_between_containers(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    key = ws.resolve("pkg/mod.py::Box.size")[1]
    method = "\n    def size(self):\n        return len(self.items)\n"
    new = MODULE.replace(method, "") + "\n\ndef size(box):\n    return len(box.items)\n"
    result = ws.write("pkg/mod.py", new)
    assert ws.render("pkg/mod.py") == new
    assert ws.resolve("pkg/mod.py::size")[1] == key
    assert key in result.moved


def test_write_creates_and_removes_files(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    ws.write("pkg/new.py", "def fresh():\n    pass\n")
    assert names(ws, "pkg/new.py") == ["fresh"]
    ws.remove("pkg/new.py")
    assert "pkg/new.py" not in ws.paths()


def test_paths_outside_the_repository_are_refused(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    for bad in ("../escape.py", "/etc/passwd", ".git/config", "a/../../x.py"):
        with pytest.raises(PathError):
            ws.write(bad, "x = 1\n")
    assert "../escape.py" not in ws.paths()
    with pytest.raises(DocumentError, match="git only"):
        ws.read("blob.bin")
    with pytest.raises(NodeNotFound):
        ws.read("pkg/mod.py::nothing")
    with pytest.raises(NodeNotFound):
        ws.read("missing.py")


def test_splice_types_a_new_function_into_existence(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    text = ws.render("pkg/mod.py")
    at = len(text)
    for ch in "\n\ndef delta():\n    return 4\n":
        ws.splice("pkg/mod.py", at, 0, ch)
        at += 1
    assert ws.render("pkg/mod.py") == text + "\n\ndef delta():\n    return 4\n"
    assert names(ws, "pkg/mod.py")[-1] == "delta"
    # delete it again character by character from the end
    for _ in range(len("\n\ndef delta():\n    return 4\n")):
        at -= 1
        ws.splice("pkg/mod.py", at, 1)
    assert ws.render("pkg/mod.py") == text
    assert "delta" not in names(ws, "pkg/mod.py")


def test_splice_edits_non_ascii_and_crlf_by_character(tmp_path: Path) -> None:
    source = "def é():\r\n    return 'ünï'\r\n\r\n\r\ndef z():\r\n    pass\r\n"
    repo = make_repo(tmp_path / "r", {"m.py": source})
    ws = Workspace.from_commit(repo, agent="a")
    at = source.index("ünï") + 1
    ws.splice("m.py", at, 1, "ñ")
    expected = source.replace("ünï", "üñï")
    assert ws.render("m.py") == expected
    b = Workspace.from_commit(repo, agent="b")
    sync(ws, b)
    assert b.render("m.py") == expected


def test_splice_out_of_range_is_refused(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    length = len(ws.render("notes.txt"))
    with pytest.raises(DocumentError):
        ws.splice("notes.txt", length + 1, 0, "x")
    with pytest.raises(DocumentError):
        ws.splice("notes.txt", -1, 0, "x")
    with pytest.raises(DocumentError):
        ws.splice("notes.txt", length - 1, 5)
    assert ws.render("notes.txt") == "first line\nsecond line\n"


def test_plain_text_and_unparsed_files_are_one_leaf(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    ws.splice("notes.txt", 0, 0, "zeroth line\n")
    assert ws.render("notes.txt") == "zeroth line\nfirst line\nsecond line\n"
    ws.write("broken.py", "def fixed():\n    pass\n")
    assert names(ws, "broken.py") == ["fixed"]


def test_a_transaction_is_one_update_and_one_log_entry_per_node(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    updates: list[bytes] = []
    ws.subscribe(updates.append)
    with ws.transaction("two functions"):
        ws.replace("pkg/mod.py::alpha", "\n\ndef alpha(x):\n    return 1\n")
        ws.replace("pkg/mod.py::alpha", "\n\ndef alpha(x):\n    return 2\n")
        ws.replace("pkg/mod.py::gamma", "\n\ndef gamma():\n    return 3\n")
    assert len(updates) == 1
    assert len(ws.log("pkg/mod.py::alpha")) == 1
    assert ws.log("pkg/mod.py::gamma")[0][1].description == "two functions"


def test_hostile_updates_are_refused_and_change_nothing(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="a")
    before = ws.render_all()
    for junk in (b"", b"\x00", b"\xff" * 64):
        with pytest.raises(SyncError):
            ws.apply_update(junk)
    # This one happens to decode (an empty update with a delete set for an unknown client);
    # accepting it is fine as long as it changes nothing.
    ws.apply_update(bytes(range(256)))
    assert ws.render_all() == before


def test_live_link_delivers_and_pauses(repo: Path) -> None:
    a = Workspace.from_commit(repo, agent="a")
    b = Workspace.from_commit(repo, agent="b")
    link = connect(a, b)
    a.replace("pkg/mod.py::alpha", "\n\ndef alpha(x):\n    return 7\n")
    assert "return 7" in b.render("pkg/mod.py")
    link.pause()
    b.replace("pkg/mod.py::beta", "\n\n# beta doubles\ndef beta(x):\n    return 8\n")
    assert "return 8" not in a.render("pkg/mod.py")
    link.resume()
    assert a.render_all() == b.render_all()
    link.close()


def test_a_qualified_name_resolves_as_the_outline_names_it(tmp_path: Path) -> None:
    """Names are found by walking the nodes' names (no rendering); the first in file order,
    as in the outline, wins; a node under an unnamed container goes by its own name."""
    source = (
        "def f():\n    pass\n\n\n"
        "class A:\n    def f(self):\n        pass\n\n    class B:\n        def g(self):\n"
        "            pass\n\n\n"
        "def f():\n    return 2\n"
    )
    ws = Workspace.from_commit(make_repo(tmp_path / "repo", {"m.py": source}), agent="t")
    for entry in ws.outline("m.py"):
        if entry.qualname:
            first = next(e for e in ws.outline("m.py") if e.qualname == entry.qualname)
            assert ws.resolve(f"m.py::{entry.qualname}") == ("m.py", first.key)
    assert ws.read("m.py::A.B.g").endswith("def g(self):\n            pass\n")
    assert ws.read("m.py::f") == "def f():\n    pass\n"
