"""The re-key's and the merge's fast paths give exactly what the plain computations give.

- `_Similar`: the similarity in steps of bounds; each step's bounds hold the value, and the
  last step is the value of the plain computation (difflib by lines, then by characters);
- `_most_similar`: the unit a new one is paired with by similarity, scoring lazily, is the
  one scoring every candidate finds;
- `_ranked`: the greedy pairing order of namesakes, scoring pairs lazily, is the order of
  sorting every pair by its exact score;
- the memos of texts (`crdtspace.model.memo`): a cut, a parse check and a diff answered from
  memory are those computed afresh, and a cut handed out is the caller's own.
"""

from __future__ import annotations

import difflib
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.model import memo
from crdtspace.model.languages import profile_for
from crdtspace.model.rekey import (
    LINE_SIMILARITY,
    SIMILARITY,
    _most_similar,
    _ranked,
    _Similar,
    _similarity,
)
from crdtspace.model.segment import _segment_module, copy_seg, segment_module
from crdtspace.model.textedit import _diff, diff, line_opcodes


def plain_similarity(a: str, b: str) -> float:
    """The similarity as computed before the steps (the reference)."""
    total = len(a) + len(b)
    if not total:
        return 1.0
    if 2 * min(len(a), len(b)) < SIMILARITY * total:
        return 0.0
    if 2 * (Counter(a) & Counter(b)).total() < SIMILARITY * total:
        return 0.0
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    same = 0
    for tag, i1, i2, j1, j2 in line_opcodes(la, lb):
        if tag == "equal":
            same += sum(len(line) for line in la[i1:i2])
        elif tag == "replace":
            block_a, block_b = "".join(la[i1:i2]), "".join(lb[j1:j2])
            if len(block_a) + len(block_b) <= LINE_SIMILARITY:
                chars = difflib.SequenceMatcher(None, block_a, block_b, autojunk=False)
                same += sum(m.size for m in chars.get_matching_blocks())
    return 2 * same / total


LINES = st.sampled_from(
    [
        "def f(x):\n",
        "    return x\n",
        "    return x + 1\n",
        "    y = g(x)\n",
        "\n",
        "}\n",
        "    if (a) {\n",
        "        b();\n",
        "class A:\n",
        "    pass\n",
        "x = 1\n",
        "x = 2",
    ]
)
TEXTS = st.one_of(
    st.lists(LINES, max_size=12).map("".join),
    st.text(alphabet="ab\n (){}", max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS)
def test_the_steps_bound_the_similarity_and_end_at_it(a: str, b: str) -> None:
    expected = plain_similarity(a, b)
    similar = _Similar(a, b)
    while not similar.exact:
        assert similar.lower <= expected <= similar.value
        similar.refine()
    assert similar.lower == similar.value == expected
    assert _similarity(a, b) == expected
    counted = _Similar(a, b, Counter(a), Counter(b))
    assert counted.value == _Similar(a, b).value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(TEXTS, min_size=1, max_size=5),
    st.lists(TEXTS, min_size=1, max_size=5),
)
def test_lazy_ranking_takes_the_pairs_sorting_takes(olds: list[str], news: list[str]) -> None:
    """The greedy pairing of `_pair_namesakes`, with every pair scored and sorted first (as
    before) and with `_ranked`, takes the same pairs in the same order."""
    keys = [(abs(i - j), i) for i in range(len(olds)) for j in range(len(news))]
    scores = [plain_similarity(a, b) for a in olds for b in news]
    order = sorted(range(len(scores)), key=lambda k: (-scores[k], *keys[k]))
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    expected = []
    for k in order:
        if scores[k] < SIMILARITY:
            break
        i, j = divmod(k, len(news))
        if i not in taken_old and j not in taken_new:
            expected.append(k)
            taken_old.add(i)
            taken_new.add(j)

    steps = [_Similar(a, b) for a in olds for b in news]
    used_old: set[int] = set()
    used_new: set[int] = set()

    def taken(k: int) -> bool:
        i, j = divmod(k, len(news))
        return i in used_old or j in used_new

    got = []
    for k in _ranked(steps, keys, taken):
        i, j = divmod(k, len(news))
        got.append(k)
        used_old.add(i)
        used_new.add(j)
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.lists(st.tuples(TEXTS, st.sampled_from([0.0, 0.05])), max_size=6))
def test_the_most_similar_is_the_first_best_of_all_scores(
    text: str, candidates: list[tuple[str, float]]
) -> None:
    """`_pair_similar`'s choice, scoring lazily, is the first candidate of the highest score
    (similarity plus bonus) above SIMILARITY, as when every candidate is scored in turn."""
    best, best_score = None, SIMILARITY
    for index, (old, bonus) in enumerate(candidates):
        score = plain_similarity(old, text)
        if bonus:
            score += bonus
        if score > best_score:
            best, best_score = index, score
    got = _most_similar(text, Counter(text), [(o, Counter(o), b) for o, b in candidates])
    assert got == best


SOURCES = st.lists(
    st.sampled_from(
        [
            "def f(x):\n    return x\n",
            "\n\nclass A:\n    def m(self):\n        pass\n",
            "# a comment\n",
            "x = 1\n",
            "def g(:\n",
            "import os\n",
        ]
    ),
    max_size=6,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(SOURCES)
def test_a_cut_from_memory_is_the_fresh_cut_and_the_caller_s_own(text: str) -> None:
    profile = profile_for("a.py")
    assert profile is not None
    memo.forget_all()
    fresh = _segment_module(text, profile, None)
    first = segment_module(text, profile)
    second = segment_module(text, profile)  # (from memory)
    assert first == fresh
    assert second == fresh
    assert profile.parses(text) == profile.parses(text) == (fresh is not None)
    if first is not None and second is not None:
        first.children.append(copy_seg(first))  # a caller's change stays its own
        first.head = "changed"
        assert segment_module(text, profile) == fresh


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS)
def test_a_diff_from_memory_is_the_fresh_diff(old: str, new: str) -> None:
    expected = _diff(old, new) if old != new else []
    first = diff(old, new)
    first.clear()  # (the caller's own list)
    assert diff(old, new) == expected


def test_a_memo_forgets_the_least_recently_used_past_its_bounds() -> None:
    held: memo.TextMemo[int] = memo.TextMemo(entries=2, chars=100, largest=6)
    held.put(("abc",), 1)
    held.put(("def",), 2)
    assert held.get(("abc",)) == 1  # now the most recently used
    held.put(("ghi",), 3)  # over 2 entries: "def" goes
    assert held.get(("def",)) is None
    assert held.get(("abc",)) == 1
    assert held.get(("ghi",)) == 3
    held.put(("toolong",), 5)  # over `largest`: never held
    assert held.get(("toolong",)) is None
    by_size: memo.TextMemo[int] = memo.TextMemo(entries=10, chars=10, largest=10)
    by_size.put(("abcd",), 1)
    by_size.put(("ef", "gh"), 2)
    by_size.put(("ijkl",), 3)  # 12 characters: "abcd" goes
    assert by_size.get(("abcd",)) is None
    assert by_size.get(("ef", "gh")) == 2
    assert by_size.get(("ijkl",)) == 3
    memo.forget_all()
    assert held.get(("abc",)) is None
    assert by_size.get(("ijkl",)) is None
