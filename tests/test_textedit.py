"""Small edits between two texts (`crdtspace.model.textedit`): line opcodes and character
edits that always turn the old text into the new one."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.model.textedit import ANCHOR_ABOVE, diff, line_opcodes

# few distinct lines, as code has (blank lines, closing braces), and some of their own
LINES = st.sampled_from(["\n", "}\n", "    return x\n", "a = 1\n", "b = 2\n", "def f():\n"])
UNIQUE = st.integers(0, 10**6).map(lambda n: f"line {n}\n")
SIDES = st.lists(st.one_of(LINES, LINES, UNIQUE), max_size=2 * ANCHOR_ABOVE + 50)


def _apply(a: list[str], b: list[str], opcodes: list[tuple[str, int, int, int, int]]) -> None:
    """The opcodes cover both sides in order, and each says truly what it does."""
    i = j = 0
    for tag, i1, i2, j1, j2 in opcodes:
        assert (i1, j1) == (i, j)
        assert tag in ("equal", "replace", "delete", "insert")
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
            assert i2 > i1
        else:
            assert (i2 > i1) == (tag != "insert")
            assert (j2 > j1) == (tag != "delete")
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))


@settings(max_examples=150, deadline=None)
@given(a=SIDES, edits=st.lists(st.tuples(st.integers(0, 10**4), st.integers(0, 3), SIDES)))
def test_line_opcodes_turn_one_side_into_the_other(
    a: list[str], edits: list[tuple[int, int, list[str]]]
) -> None:
    b = list(a)
    for at, take, lines in edits:
        at = at % (len(b) + 1)
        b[at : at + take] = lines[:5]
    opcodes = line_opcodes(a, b)
    _apply(a, b, opcodes)
    if max(len(a), len(b)) <= ANCHOR_ABOVE:  # exactly difflib's
        assert opcodes == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    else:  # at least every common line kept at the ends
        same = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
        head = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
        assert same >= head


@settings(max_examples=150, deadline=None)
@given(old=st.lists(st.one_of(LINES, UNIQUE), max_size=60), data=st.data())
def test_diff_edits_turn_the_old_text_into_the_new(old: list[str], data: st.DataObject) -> None:
    text = "".join(old)
    new = list(text)
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, len(new)))
        take = data.draw(st.integers(0, 5))
        new[at : at + take] = data.draw(st.text("ab \n(}é", max_size=6))
    target = "".join(new)
    result, pos = [], 0
    for edit in diff(text, target):
        assert edit.pos >= pos
        result.append(text[pos : edit.pos])
        result.append(edit.insert)
        pos = edit.pos + edit.delete
    result.append(text[pos:])
    assert "".join(result) == target
