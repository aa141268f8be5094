"""Re-keying whole-file writes: which existing node each new unit becomes."""

from __future__ import annotations

from pathlib import Path

from crdtspace import Workspace
from crdtspace.testing import make_repo

JAVA = """class A {
    int m(int x) {
        return x;
    }

    String m(String s) {
        return s;
    }

    void other() {}
}
"""


def keys_by_text(ws: Workspace, path: str) -> dict[str, str]:
    return {ws.read(e.key).strip(): e.key for e in ws.outline(path) if e.depth == 2}


def test_swapped_overloads_keep_their_keys(tmp_path: Path) -> None:
    ws = Workspace.from_commit(make_repo(tmp_path / "repo", {"A.java": JAVA}), agent="a")
    before = keys_by_text(ws, "A.java")
    first = "    int m(int x) {\n        return x;\n    }\n"
    second = "\n    String m(String s) {\n        return s;\n    }\n"
    swapped = JAVA.replace(first + second, second.lstrip("\n") + "\n" + first)
    assert swapped != JAVA
    ws.write("A.java", swapped)
    assert ws.render("A.java") == swapped
    assert keys_by_text(ws, "A.java") == before  # moved, not swapped texts


def test_an_edited_overload_keeps_its_key_when_the_other_is_removed(tmp_path: Path) -> None:
    ws = Workspace.from_commit(make_repo(tmp_path / "repo", {"A.java": JAVA}), agent="a")
    before = keys_by_text(ws, "A.java")
    string_key = before["String m(String s) {\n        return s;\n    }"]
    text = JAVA.replace("    int m(int x) {\n        return x;\n    }\n\n", "")
    text = text.replace("return s;", "return s.trim();")
    ws.write("A.java", text)
    assert ws.render("A.java") == text
    after = keys_by_text(ws, "A.java")
    assert after["String m(String s) {\n        return s.trim();\n    }"] == string_key
