"""A replacing unit's text fitted into its place (`crdtspace.model.unitfit`), and `replace`
keeping a file's layout whatever shape an agent gives the unit in."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from crdtspace import Workspace
from crdtspace.model.unitfit import fit_unit
from crdtspace.testing import make_repo

SOURCE = (
    "import os\n\n\ndef f1():\n    return 1\n\n\ndef f2():\n    return 2\n\n\n"
    "class C:\n    def m(self):\n        return 1\n\n    def n(self):\n        return 2\n"
)


def test_a_function_without_its_blank_lines_keeps_its_place() -> None:
    old = "\n\ndef f2():\n    return 2\n"
    assert fit_unit(old, "def f2():\n    return 3\n") == "\n\ndef f2():\n    return 3\n"


def test_a_method_written_at_the_top_level_is_indented_into_its_class() -> None:
    old = "\n    def n(self):\n        return 2\n"
    new = "def n(self):\n    x = 1\n\n    return x"
    assert fit_unit(old, new) == "\n    def n(self):\n        x = 1\n\n        return x\n"


def test_blank_lines_at_the_end_do_not_pile_up() -> None:
    assert fit_unit("\n\ndef f():\n    pass\n", "def f():\n    pass\n\n\n\n") == (
        "\n\ndef f():\n    pass\n"
    )


def test_what_the_writer_chose_is_kept() -> None:
    old = "\n\ndef f():\n    pass\n"
    assert fit_unit(old, "\ndef f():\n    pass\n") == "\ndef f():\n    pass\n"  # one blank line
    assert fit_unit(old, "") == ""  # the unit's text deleted
    method = "\n    def n(self):\n        return 2\n"
    assert fit_unit(method, "  def n(self):\n    return 2\n") == "\n  def n(self):\n    return 2\n"


texts = st.text(alphabet=" \n\tdefx():=", max_size=40)


@given(old=texts, new=texts)
def test_fitting_is_stable(old: str, new: str) -> None:
    """A unit replaced by its own text is unchanged, and fitting a fitted text changes
    nothing more."""
    assert fit_unit(old, old) == old
    once = fit_unit(old, new)
    assert fit_unit(old, once) == once


def test_replace_keeps_the_files_layout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE, "notes.txt": "a\n\nb\n"})
    ws = Workspace.from_commit(repo, agent="alice")
    for n in range(3):  # (again and again: nothing piles up)
        ws.replace("m.py::f2", f"def f2():\n    return {n}\n\n\n")
        ws.replace("m.py::C.n", f"def n(self):\n    return {n}")
    assert ws.render("m.py") == SOURCE  # (the last round wrote back the original texts)
    assert [e.qualname for e in ws.outline("m.py")] == [
        e.qualname for e in Workspace.from_commit(repo, agent="x").outline("m.py")
    ]
    nid = ws.document.roots("notes.txt")[0]
    ws.replace(nid, "a")  # a plain-text file's node takes the text as given
    assert ws.render("notes.txt") == "a"


def test_insert_takes_its_siblings_layout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    ws = Workspace.from_commit(repo, agent="alice")
    ws.insert("m.py", "f1", "def g():\n    return 0\n")
    ws.insert("m.py::C", "C.m", "def k(self):\n    return 0\n\n\n")
    text = ws.render("m.py")
    assert "    return 1\n\n\ndef g():\n    return 0\n\n\ndef f2():" in text
    assert "        return 1\n\n    def k(self):\n        return 0\n\n    def n(self):" in text
    assert [e.qualname for e in ws.outline("m.py")] == [
        "", "f1", "g", "f2", "C", "C.m", "C.k", "C.n"
    ]
