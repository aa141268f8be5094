"""The common start and end of two texts, against a character-by-character count."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.model.affixes import common_prefix, common_suffix


def _counted(a: str | bytes, b: str | bytes, step: int) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n if step > 0 else -1 - n] == b[n if step > 0 else -1 - n]:
        n += 1
    return n


@settings(max_examples=500, deadline=None)
@given(
    stem=st.text(alphabet="ab\né", max_size=300),
    left=st.text(alphabet="abc", max_size=5),
    right=st.text(alphabet="abc", max_size=5),
    cut=st.integers(0, 300),
    as_bytes=st.booleans(),
)
def test_the_common_start_and_end_are_counted_right(
    stem: str, left: str, right: str, cut: int, as_bytes: bool
) -> None:
    at = min(cut, len(stem))
    a, b = stem[:at] + left + stem[at:], stem[:at] + right + stem[at:]
    pair = (a.encode(), b.encode()) if as_bytes else (a, b)
    assert common_prefix(*pair) == _counted(*pair, 1)
    assert common_suffix(*pair) == _counted(*pair, -1)
