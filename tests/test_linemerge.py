"""The whole-line merge of a node's texts: layout-only changes on one side do not conflict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.git.linemerge import _QUOTES, _scan, layout_only, merge_lines
from tests.test_merge_properties import BASE, EDIT, _apply, _foreign

CODE = "\n".join(BASE) + "\n"


def test_whitespace_between_tokens_is_layout() -> None:
    assert layout_only("total = a+b\n", "total = a + b\n")
    assert layout_only("f(a, b)\n", "f(\n    a,\n    b\n)\n")


def test_whitespace_inside_a_string_is_not_layout() -> None:
    assert not layout_only('msg = "a b"\n', 'msg = "a  b"\n')
    assert not layout_only("msg = 'a b'\n", "msg = 'ab'\n")


def test_joining_two_words_is_not_layout() -> None:
    assert not layout_only("return value\n", "returnvalue\n")


def test_a_trailing_comma_is_layout_only_before_a_closing_bracket() -> None:
    assert layout_only("    b\n", "    b,\n", ")\n")
    assert layout_only("f(a, b)\n", "f(a, b,)\n")
    assert not layout_only("    return a\n", "    return a,\n", "\ndef g():\n")


def test_an_unchanged_text_is_not_a_layout_change() -> None:
    assert not layout_only("x = 1\n", "x = 1\n")


def test_indentation_is_code_where_the_language_says_so() -> None:
    base, dedented = "if a:\n    b()\n    c()\n", "if a:\n    b()\nc()\n"
    assert layout_only(base, dedented)
    assert not layout_only(base, dedented, indented=True)
    wrapped = "if a:\n    b(\n        1,\n    )\n    c()\n"
    assert layout_only("if a:\n    b(1)\n    c()\n", wrapped, indented=True)


def test_an_edit_of_re_laid_out_lines_takes_the_edit() -> None:
    base = "f(a, b, c)\nx = 1\n"
    left = "f(\n    a,\n    b,\n    c,\n)\nx = 1\n"
    right = "f(a, d, c)\nx = 1\n"
    assert merge_lines(base, left, right) == right
    assert merge_lines(base, right, left) == right


def test_re_laid_out_neighbours_keep_their_layout() -> None:
    base = "\tID    int\n\tName  string\n\tTotal float64\n"
    left = "\tID          int\n\tName        string\n\tTotal       float64\n\tAt          int\n"
    right = "\tID    int\n\tName  string\n\tTotal int64\n"
    assert merge_lines(base, left, right) == (
        "\tID          int\n\tName        string\n\tTotal int64\n\tAt          int\n"
    )


def test_two_edits_of_re_laid_out_lines_still_conflict() -> None:
    base = "x = f(a, b)\n"
    assert merge_lines(base, "x = f(a, c)\n", "x  =  f(a, d)\n") is None


def test_both_sides_re_laying_out_the_same_lines_take_ours() -> None:
    # (git's rule with -Xignore-space-change: no code is lost either way)
    assert merge_lines("x = f(a,b)\n", "x = f(a, b)\n", "x = f( a, b )\n") == "x = f(a, b)\n"
    assert merge_lines("x = f(a,b)\n", "x = f( a, b )\n", "x = f(a, b)\n") == "x = f( a, b )\n"
    # (re-wrapped on one side, re-indented on the other: the region whole, ours)
    base = "call(a, b)\n"
    left, right = "call(\n    a,\n    b,\n)\n", "  call(a, b)\n"
    assert merge_lines(base, left, right) == left
    # (a string's inner spaces are code, not layout: left's edit, right's re-layout given up)
    assert merge_lines('x = f("a b")\n', 'x = f("a  b")\n', 'x = f( "a b" )\n') == (
        'x = f("a  b")\n'
    )


def test_both_sides_re_indenting_a_python_statement_conflict() -> None:
    base = "if a:\n    b()\n"
    assert merge_lines(base, "if a:\n  b()\n", "if a:\n        b()\n", indented=True) is None


def test_a_dedented_statement_is_not_layout_in_python() -> None:
    base = "if a:\n    b()\n    c()\n"
    left, right = "if a:\n    b()\nc()\n", "if a:\n    b()\n    c(1)\n"
    assert merge_lines(base, left, right, indented=True) is None
    assert merge_lines(base, left, right) == right


def test_a_line_one_side_moved_and_the_other_only_re_laid_out_is_kept() -> None:
    """(found by the property below: the moved line counted as deleted by the other side,
    whose copy of it only had a space more, and the merge lost it)"""
    base = "a = 1\n\ndef first(a, b):\n    return a\n"
    left = base.replace("first(a, b)", "first(a,  b)")
    right = "a = 1\ndef first(a, b):\n\n    return a\n"
    for indented in (False, True):
        merged = merge_lines(base, left, right, indented=indented)
        assert merged is not None
        assert "def first(a" in merged
        assert merged == right or layout_only(right, merged)


def _relaid(lines: list[str], spots: list[int]) -> str:
    """The lines with spaces added after some commas and around some `=`: layout only."""
    out = list(lines)
    for spot in spots:
        at = spot % len(out)
        out[at] = out[at].replace(", ", ",  ").replace(" = ", "  =  ")
    return "\n".join(out) + "\n"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 100), max_size=6), st.lists(EDIT, min_size=1, max_size=3))
def test_a_layout_only_side_never_conflicts_and_never_invents(
    spots: list[int], edits: list[tuple[str, int, str]]
) -> None:
    left, right = _relaid(BASE, spots), _apply(BASE, edits)
    for indented in (False, True):
        merged = merge_lines(CODE, left, right, indented=indented)
        assert merged is not None
        assert _foreign(merged, CODE, left, right) == []
        assert merged == right or layout_only(right, merged)


def test_items_both_sides_add_to_a_list_at_one_point_are_both_kept_left_first() -> None:
    base = "NAMES = [\n    'alpha',\n    'beta',\n]\n"
    left, right = (
        base.replace("'beta',\n", "'beta',\n    'gamma',\n"),
        base.replace("'beta',\n", "'beta',\n    'delta',\n"),
    )
    assert merge_lines(base, left, right) == (
        "NAMES = [\n    'alpha',\n    'beta',\n    'gamma',\n    'delta',\n]\n"
    )


def test_imports_both_sides_add_to_a_sorted_block_land_sorted() -> None:
    base = 'import (\n\t"fmt"\n\t"strings"\n)\n'
    left = base.replace('\t"strings"', '\t"sort"\n\t"strings"')
    right = base.replace('\t"strings"', '\t"os"\n\t"strings"')
    merged = 'import (\n\t"fmt"\n\t"os"\n\t"sort"\n\t"strings"\n)\n'
    assert merge_lines(base, left, right, items=True) == merged
    assert merge_lines(base, left, right) is None  # (not an import block: lines, not items)


def test_imports_added_to_an_unsorted_block_keep_the_first_sides_first() -> None:
    base = 'import (\n\t"strings"\n\t"fmt"\n)\n'
    left = base.replace('\t"fmt"', '\t"sort"\n\t"fmt"')
    right = base.replace('\t"fmt"', '\t"os"\n\t"fmt"')
    assert merge_lines(base, left, right, items=True) == (
        'import (\n\t"strings"\n\t"sort"\n\t"os"\n\t"fmt"\n)\n'
    )


def test_a_line_wrapped_into_a_new_block_is_not_re_laid_out() -> None:
    base = "for (x of xs) {\n  push(x);\n}\n"
    left = "for (x of xs) {\n  let y = f(x);\n  push(y);\n}\n"
    right = "for (x of xs) {\n  if (ok(x)) {\n    push(x);\n  }\n}\n"
    assert merge_lines(base, left, right) is None
    assert merge_lines(base, right, left) is None


def test_two_adjacent_changes_adding_the_same_line_conflict() -> None:
    base = "intro\nold paragraph\nend\n"
    left = "intro\nnew paragraph, first wording\nsame second line\nend\n"
    right = "intro\nnew paragraph, second wording\nsame second line\nold paragraph\nend\n"
    assert merge_lines(base, left, right) is None
    assert merge_lines(base, right, left) is None


def test_new_lines_using_a_name_the_adjacent_change_replaced_conflict() -> None:
    # (express: a branch added where the other side renamed the variable `host` to `val`)
    base = "if (!host) {\n  host = get();\n}\n"
    left = "if (!val) {\n  val = get();\n}\n"
    right = "if (!host) {\n  host = get();\n} else {\n  host = trim(host);\n}\n"
    assert merge_lines(base, left, right) is None
    assert merge_lines(base, right, left) is None
    # (a word only a deleted line held is not replaced: the insertion merges)
    left = "if (!host) {\n}\n"
    assert merge_lines(base, left, right) == "if (!host) {\n} else {\n  host = trim(host);\n}\n"


def test_an_insertion_just_above_the_others_edit_still_merges() -> None:
    base = "intro\nold line\nend\n"
    left = "intro\nold line, edited\nend\n"
    right = "intro\nan inserted line\nold line\nend\n"
    assert merge_lines(base, left, right) == "intro\nan inserted line\nold line, edited\nend\n"


def test_a_change_that_includes_the_other_side_s_change_is_taken() -> None:
    base = "a()\nb(1)\n\nc()\nd()\n"
    both = "a()\nb(2)\n\nc()\nd()\n"
    more = "a()\nb(2)\nd()\n"  # (the same change, and the lines below deleted too)
    assert merge_lines(base, more, both) == more
    assert merge_lines(base, both, more) == more
    # a deletion that includes the other side's deletion
    base = "x\nprint(x)\n\ny\n"
    assert merge_lines(base, "x\ny\n", "x\n\ny\n") == "x\ny\n"


def test_changes_neither_of_which_includes_the_other_still_conflict() -> None:
    base = "a()\nb(1)\nc()\n"
    assert merge_lines(base, "a()\nb(2)\nx()\nc()\n", "a()\nb(3)\nc()\n") is None
    assert merge_lines(base, "a()\nn()\nc()\n", "a()\nb(4)\nc()\n") is None


def test_a_line_added_where_the_other_side_replaced_a_line_by_it_is_included() -> None:
    # (right only added n(); left added it and deleted b(1): left's change includes right's)
    base = "a()\nb(1)\nc()\n"
    assert merge_lines(base, "a()\nn()\nc()\n", "a()\nn()\nb(1)\nc()\n") == "a()\nn()\nc()\n"


def test_a_line_one_side_moved_and_the_other_deleted_is_gone() -> None:
    base = "if T:\n    from w import R\n    from t import E\n"
    left = "if T:  # c\n    from t import E\n    from w import R\n"
    right = "if T:\n    from w import R\n"
    assert merge_lines(base, left, right) == "if T:  # c\n    from w import R\n"
    assert merge_lines(base, right, left) == "if T:  # c\n    from w import R\n"


def test_a_moved_line_the_other_side_kept_stays_moved() -> None:
    base = "a\nb\nc\nd\n"
    assert merge_lines(base, "b\na\nc\nd\n", "a\nb\nc\nD\n") == "b\na\nc\nD\n"


def test_lines_both_sides_add_after_a_line_one_side_moved_are_kept_once() -> None:
    # (clap: an enum variant both sides add after one variant, which one side moved up)
    base = "enum S {\n    A,\n    B,\n    W,\n    N,\n}\n"
    left = "enum S {\n    A,\n    B,\n    W,\n    D,\n    N,\n}\n"
    right = "enum S {\n    W,\n    D,\n    A,\n    B,\n    N,\n}\n"
    assert merge_lines(base, left, right) == right
    assert merge_lines(base, right, left) == right


def test_an_import_insertion_that_holds_the_other_side_s_is_taken_whole() -> None:
    base = 'import (\n\t"io"\n\t"os"\n)\n'
    left = 'import (\n\t"io"\n\t"os"\n\n\t"example.com/term"\n)\n'
    right = 'import (\n\t"io"\n\t"os"\n\t"runtime"\n\n\t"example.com/term"\n)\n'
    assert merge_lines(base, left, right, items=True) == right
    assert merge_lines(base, right, left, items=True) == right


def _scan_by_characters(text: str, *, keep_strings: bool) -> str:
    """`_scan` as it was first written, one character at a time: the reference."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if keep_strings:
                out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                if keep_strings:
                    out.append(text[i + 1])
                i += 1
            elif ch == quote or (ch == "\n" and quote != "`"):
                quote = ""
        elif ch in _QUOTES:
            quote = ch
            out.append(ch)
        elif ch.isspace():
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            word = out and (out[-1][-1].isalnum() or out[-1][-1] == "_")
            if word and j < len(text) and (text[j].isalnum() or text[j] == "_"):
                out.append(" ")
            i = j
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@settings(max_examples=2000, deadline=None)
@given(
    text=st.text(alphabet="ab_1 \t\n\r\u00a0\u2028\"'`\\,.()é", max_size=40),
    keep_strings=st.booleans(),
)
def test_the_scan_by_pieces_is_the_scan_by_characters(text: str, keep_strings: bool) -> None:
    assert _scan(text, keep_strings=keep_strings) == _scan_by_characters(
        text, keep_strings=keep_strings
    )
