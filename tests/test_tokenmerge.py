"""Two edits of one line merge by tokens only when an unchanged token separates them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.git.linemerge import merge_lines
from crdtspace.git.tokenmerge import includes_tokens, merge_line_tokens, repeats_replaced, tokens


def test_a_line_is_cut_into_words_strings_whitespace_and_characters() -> None:
    assert tokens("x = f('a b', 12)") == [
        "x",
        " ",
        "=",
        " ",
        "f",
        "(",
        "'a b'",
        ",",
        " ",
        "12",
        ")",
    ]
    assert "".join(tokens('s = "unclosed')) == 's = "unclosed'


def test_edits_an_unchanged_token_separates_merge() -> None:
    assert merge_line_tokens("x = f(a, b)", "x = f(c, b)", "x = f(a, d)") == "x = f(c, d)"
    assert merge_line_tokens("x = f(a, b)", "y = f(a, b)", "x = f(a, d)") == "y = f(a, d)"


def test_edits_that_touch_or_overlap_conflict() -> None:
    # (one string literal is one token: two edits inside it always meet)
    assert merge_line_tokens("v = '0.12.2-dev'", "v = '0.13-dev'", "v = '0.12.3-dev'") is None
    assert merge_line_tokens("import {A, Types, B}", "import {Types, B}", "import {A, B}") is None
    assert merge_line_tokens("a.b", "a.c", "a.d") is None
    assert merge_line_tokens("f(a)", "f(a, b)", "f(a, c)") is None  # (inserts at one point)


def test_only_whitespace_between_two_edits_is_a_conflict() -> None:
    assert merge_line_tokens("int a b", "long a b", "int x b") is None
    assert merge_line_tokens("int a b", "long a b", "int a y") == "long a y"


def test_the_same_edit_on_both_sides_is_kept_once() -> None:
    assert merge_line_tokens("f(a, b)", "g(a, b)", "g(a, c)") == "g(a, c)"


def test_the_same_addition_by_two_different_edits_is_kept_once() -> None:
    # (clap: a name both sides add to one `use` group, one side also trimming the group)
    base = "use syn::{Attribute, Data, Fields, Ident};"
    left = "use syn::{Attribute, Data, Fields, Generics, Ident};"
    right = "use syn::{Attribute, Generics, Ident};"
    assert merge_line_tokens(base, left, right) == right
    assert merge_line_tokens(base, right, left) == right
    # (the same word added in another shape is not the same addition: both stay)
    assert merge_line_tokens("f(a) + g(b)", "f(a, b) + g(b)", "f(a) + g(b, b)") == (
        "f(a, b) + g(b, b)"
    )


def test_a_copy_of_the_base_line_repeating_what_the_edit_replaced() -> None:
    base = "type D = <u32 as T>::D;"
    edited = "type D = <u64 as T>::D;"
    assert repeats_replaced(base, edited, "type B = <u32 as T>::D;")
    assert not repeats_replaced(base, edited, "type B = <u64 as T>::D;")  # (the edit's text)
    assert not repeats_replaced(base, edited, "let n: u32 = 0;")  # (not a copy)
    assert not repeats_replaced(base, "type D = <u32 as T>::D; // x", "type B = <u32 as T>::D;")


def test_no_two_edits_is_not_a_token_merge() -> None:
    assert merge_line_tokens("f(a)", "f(a)", "f(b)") is None
    assert merge_line_tokens("f(a)", "f(b)", "f(b)") is None


def test_the_line_merge_merges_one_line_both_sides_edited_apart() -> None:
    base = "head\nx = f(a, b)\ntail\n"
    assert merge_lines(base, base.replace("(a", "(c"), base.replace("b)", "d)")) == (
        "head\nx = f(c, d)\ntail\n"
    )
    # (lines replaced one for one, each merged; a line only one side changed is that side's)
    base = "a = f(1)\nb = g(2)\n"
    left, right = "a = h(1)\nb = g(3)\n", "a = f(9)\nb = g(2)\n"
    assert merge_lines(base, left, right) == "a = h(9)\nb = g(3)\n"


def test_a_re_laid_out_line_is_not_merged_by_tokens() -> None:
    assert merge_lines("x = f(a,b)\n", "x = f(a, b)\n", "x = g(a,b)\n") == "x = g(a,b)\n"
    # (two layouts of one line: ours whole, never a mixture of their whitespace tokens)
    assert merge_lines("x = f(a,b)\n", "x = f(a, b)\n", "x = f( a, b )\n") == "x = f(a, b)\n"


WORDS = [f"w{i}" for i in range(8)]


@st.composite
def _edits(draw: st.DrawFn) -> tuple[str, list[str], tuple[int, int], tuple[int, int]]:
    """A line of distinct words joined by one separator, and one run of words each side
    replaces by a word of its own."""
    separator = draw(st.sampled_from([".", ", ", " ", "("]))
    n = draw(st.integers(3, 8))
    runs = []
    for _ in range(2):
        start = draw(st.integers(0, n - 1))
        runs.append((start, draw(st.integers(start + 1, n))))
    return separator, WORDS[:n], runs[0], runs[1]


def _replaced(words: list[str], run: tuple[int, int], new: str, separator: str) -> str:
    return separator.join([*words[: run[0]], new, *words[run[1] :]])


@settings(max_examples=300, deadline=None)
@given(_edits())
def test_two_edits_merge_exactly_when_an_unchanged_token_not_whitespace_separates_them(
    case: tuple[str, list[str], tuple[int, int], tuple[int, int]],
) -> None:
    separator, words, mine, theirs = case
    base = separator.join(words)
    left, right = _replaced(words, mine, "L", separator), _replaced(words, theirs, "R", separator)
    merged = merge_line_tokens(base, left, right)
    first, second = sorted([mine, theirs])
    # between the two runs: the separators (and words) no edit touched
    apart = first[1] < second[0] or (first[1] == second[0] and separator.strip() != "")
    if not apart:
        assert merged is None
        return
    out = list(words)
    for (start, end), new in sorted([(mine, "L"), (theirs, "R")], reverse=True):
        out[start:end] = [new]
    assert merged == separator.join(out)
    # each token of the merge is a token of one version, in the versions' order
    known = set(tokens(base)) | set(tokens(left)) | set(tokens(right))
    assert set(tokens(merged)) <= known


def test_a_change_that_holds_the_other_side_s_edits_in_place_includes_it() -> None:
    base = 'cmd: t.Optional["Command"] = None\n'
    assert includes_tokens(
        base, "cmd: Command | None = None\n", "cmd: t.Optional[Command] = None\n"
    )
    assert not includes_tokens(
        base, "cmd: t.Optional[Command] = None\n", "cmd: Command | None = None\n"
    )
    # an insertion inside the other side's larger insertion at the same place
    base = "f(observer?: O): S;\n"
    small, big = "f(next?: O | N): S;\n", "f(next?: O | N | null): S;\n"
    assert includes_tokens(base, big, small)


def test_different_edits_of_one_place_are_not_included() -> None:
    base = '__version__ = "2.2.3.dev"\n'
    assert not includes_tokens(base, '__version__ = "2.3.0.dev"\n', '__version__ = "2.2.3"\n')
    assert not includes_tokens(base, base, '__version__ = "2.2.3"\n')


def test_a_layout_change_is_not_an_included_change() -> None:
    assert not includes_tokens("f(a, b)\n", "f(a, c)\n", "f(a,  b)\n")


def test_indentation_is_a_token_where_the_language_says_so() -> None:
    base = 'def f() -> "C":\n    ...\n'
    joined, both = 'def f() -> "C": ...\n', "def f() -> C: ...\n"
    assert includes_tokens(base, both, joined, indented=True)
    assert not includes_tokens(base, "def f() -> C:\n    ...\n", joined, indented=True)
    wrapped = "if on:\n    x = f(a)\n"
    assert not includes_tokens("x = f(a)\n", "x = f(a, b)\n", wrapped, indented=True)


def test_tokens_found_only_in_a_far_larger_rewrite_are_not_included() -> None:
    base = "    else:\n        stdin.close()\n"
    rewrite = (
        "    except Exception as e:\n        c.terminate()\n        raise e\n"
        "    finally:\n        try:\n            stdin.close()\n"
        "        except BrokenPipeError:\n            pass\n"
    )
    assert not includes_tokens(base, rewrite, "    else:\n        c.stdin.close()\n", indented=True)


def test_a_line_both_sides_edited_takes_the_side_whose_edit_includes_the_other_s() -> None:
    base = 'x = 1\nself.cmd: t.Optional["Command"] = c\ny = 2\n'
    left = "x = 1\nself.cmd: Command | None = c\ny = 2\n"
    right = "x = 1\nself.cmd: t.Optional[Command] = c\ny = 3\n"
    merged = "x = 1\nself.cmd: Command | None = c\ny = 3\n"
    assert merge_lines(base, left, right, indented=True) == merged
    assert merge_lines(base, right, left, indented=True) == merged


def test_a_deletion_inside_the_other_side_s_rewrite_is_included_unless_the_rewrite_keeps_it() -> (
    None
):
    base = "try:\n    from m import x  # type: ignore\nexcept E:\n    x = None\n"
    rewrite = "import m.x as x\n"
    dropped = "try:\n    from m import x\nexcept E:\n    x = None\n"
    assert includes_tokens(base, rewrite, dropped, indented=True)
    base = "a()\nclose(f)\nb()\n"
    again = "with f:\n    close(f)\n"  # (the rewrite still holds the deleted call)
    assert not includes_tokens(base, again, "a()\nb()\n")
    assert not includes_tokens(base, again, "a()\nb()\n", indented=True)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(3, 8),
    st.data(),
)
def test_a_change_made_on_top_of_the_other_side_s_includes_it_and_no_other_does(
    n: int, data: st.DataObject
) -> None:
    words = WORDS[:n]
    start = data.draw(st.integers(0, n - 1))
    end = data.draw(st.integers(start, n))
    small_words = [*words[:start], "s1", "s2", *words[end:]]
    at = data.draw(st.integers(0, len(small_words)))
    big_words = [*small_words[:at], "b", *small_words[at:]]  # (small's change, and one more)
    base, small, big = (" ".join(w) + "\n" for w in (words, small_words, big_words))
    assert includes_tokens(base, big, small)
    assert not includes_tokens(base, small, big)
    # a change at the same place that lacks a token the other side added includes nothing
    other = " ".join([*words[:start], "s1", "x", *words[end:]]) + "\n"
    assert not includes_tokens(base, other, small)
    # every token the included change added is in the including one, in order
    rest = iter(tokens(big))
    assert all(token in rest for token in tokens(small) if token.strip())
