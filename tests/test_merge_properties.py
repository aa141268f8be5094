"""The merge driver never invents text: every line of a clean merge is a line of one of the
three versions, or the token merge of one base line's two edits (one by each side, separated
by an unchanged token that is not whitespace; each token from one version:
`crdtspace.git.tokenmerge`)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace.git.mergedriver import merge_files, merge_lines
from crdtspace.git.tokenmerge import merge_line_tokens

BASE = [
    "import os",
    "import sys",
    "",
    "VERSION = '0.12.2-dev'",
    "",
    "try:",
    "    import json",
    "except ImportError:",
    "    json = None",
    "",
    "",
    "def first(a, b):",
    "    total = a + b",
    "    return total",
    "",
    "",
    "class Box:",
    "    size = 1",
    "",
    "    def get(self):",
    "        return self.size",
    "",
    "",
    "def last():",
    "    return first(1, 2)",
]
NEW_LINES = [
    "",
    "import re",
    "VERSION = '0.13-dev'",
    "except (ImportError, OSError):",
    "    return 0",
    "    size = 2",
    "def extra():",
    "    pass",
]
# (kind, where, text): delete a line, insert a line, replace a line or one word of it
EDIT = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "word"]),
    st.integers(0, 200),
    st.sampled_from(NEW_LINES),
)


def _apply(lines: list[str], edits: list[tuple[str, int, str]]) -> str:
    lines = list(lines)
    for kind, where, text in edits:
        if kind == "insert":
            lines.insert(where % (len(lines) + 1), text)
            continue
        if not lines:
            continue
        at = where % len(lines)
        if kind == "delete":
            del lines[at]
        elif kind == "replace":
            lines[at] = text
        else:
            words = lines[at].split(" ")
            words[where % len(words)] = text.split()[0] if text.split() else "z"
            lines[at] = " ".join(words)
    return "\n".join(lines) + "\n"


def _foreign(text: str, *versions: str) -> list[str]:
    known = {line for version in versions for line in version.splitlines()}
    return [line for line in text.splitlines() if line not in known]


def _invented(text: str, base: str, left: str, right: str) -> list[str]:
    """The lines of `text` that are neither a line of a version nor the token merge of a base
    line's two edits, a line of left and a line of right."""
    edits = [
        (o, a, b)
        for o in set(base.splitlines())
        for a in set(left.splitlines()) - {o}
        for b in set(right.splitlines()) - {o}
    ]
    return [
        line
        for line in _foreign(text, base, left, right)
        if not any(merge_line_tokens(o, a, b) == line for o, a, b in edits)
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(EDIT, max_size=3), st.lists(EDIT, min_size=1, max_size=3))
def test_a_clean_merge_holds_only_lines_of_the_versions_or_token_merges_of_one_line(
    left_edits: list[tuple[str, int, str]], right_edits: list[tuple[str, int, str]]
) -> None:
    base = "\n".join(BASE) + "\n"
    left, right = _apply(BASE, left_edits), _apply(BASE, right_edits)
    outcome = merge_files(base, left, right, "file.py")
    if outcome.clean:
        assert _invented(outcome.text, base, left, right) == [], outcome.method


@settings(max_examples=200, deadline=None)
@given(st.lists(EDIT, max_size=4), st.lists(EDIT, max_size=4))
def test_the_line_merge_of_a_node_holds_only_lines_of_the_versions_or_token_merges(
    left_edits: list[tuple[str, int, str]], right_edits: list[tuple[str, int, str]]
) -> None:
    base = "\n".join(BASE) + "\n"
    left, right = _apply(BASE, left_edits), _apply(BASE, right_edits)
    merged = merge_lines(base, left, right)
    if merged is not None:
        assert _invented(merged, base, left, right) == []
    if left == base:
        assert merged == right
    if right == base or left == right:
        assert merged == left


def test_two_edits_of_one_line_conflict() -> None:
    base = "x = 1\nversion = '0.12.2-dev'\ny = 2\n"
    left, right = base.replace("0.12.2", "0.13"), base.replace("0.12.2", "0.12.3")
    assert merge_lines(base, left, right) is None
    outcome = merge_files(base, left, right, "file.py")
    assert not outcome.clean
    assert "'0.133-dev'" not in outcome.text


def test_edits_of_adjacent_lines_merge() -> None:
    base = "a = 1\nb = 2\nc = 3\n"
    assert merge_lines(base, "a = 10\nb = 2\nc = 3\n", "a = 1\nb = 20\nc = 3\n") == (
        "a = 10\nb = 20\nc = 3\n"
    )


def test_inserts_at_one_node_boundary_do_not_join_into_one_line() -> None:
    # (found by the property above: the character merge gave "def extra():from typing import
    # Any", each side's insertion in a node of its own)
    base = "\n".join(BASE) + "\n"
    left = _apply(BASE, [("replace", 21, "def extra():"), ("delete", 13, "")])
    right = _apply(BASE, [("replace", 46, "from typing import Any")])
    outcome = merge_files(base, left, right, "file.py")
    assert not outcome.clean or _invented(outcome.text, base, left, right) == []
    assert "def extra():from typing import Any" not in outcome.text
