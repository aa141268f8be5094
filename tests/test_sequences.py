"""The compiled SequenceMatcher (cydifflib) gives difflib's results exactly."""

from __future__ import annotations

import difflib
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.model import sequences
from crdtspace.model.sequences import SequenceMatcher

CODE = st.text(alphabet="ab \n\t(){}x=:;é😀", max_size=200)


def test_the_compiled_matcher_is_used_where_it_is_a_dependency() -> None:
    wheel = sys.version_info < (3, 14)  # (cydifflib has wheels up to Python 3.13)
    assert sequences.COMPILED is wheel


def _edited(text: str, edits: list[tuple[int, int, str]]) -> str:
    chars = list(text)
    for at, length, insert in edits:
        at %= len(chars) + 1
        chars[at : at + length] = insert
    return "".join(chars)


@settings(max_examples=400, deadline=None)
@given(
    a=CODE,
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 5), CODE.map(lambda s: s[:6]))),
    junk=st.booleans(),
)
def test_the_same_blocks_opcodes_and_ratio_as_difflib(
    a: str, edits: list[tuple[int, int, str]], junk: bool
) -> None:
    b = _edited(a, edits)
    for x, y in ((a, b), (a.splitlines(keepends=True), b.splitlines(keepends=True))):
        ours = SequenceMatcher(None, x, y, autojunk=junk)
        theirs = difflib.SequenceMatcher(None, x, y, autojunk=junk)
        assert [tuple(m) for m in ours.get_matching_blocks()] == [
            tuple(m) for m in theirs.get_matching_blocks()
        ]
        assert [tuple(o) for o in ours.get_opcodes()] == theirs.get_opcodes()
        assert ours.ratio() == theirs.ratio()
