"""The file-wide rules of a clean merge: line endings, the final line break, blank lines."""

from __future__ import annotations

from crdtspace.git.mergetidy import blank_gaps, line_endings


def test_one_side_converting_the_line_endings_converts_the_merge() -> None:
    base, left = "a\r\nb\r\n", "a\r\nB\r\n"
    right = "a\nb\n"
    assert line_endings("a\r\nB\r\n", base, left, right) == "a\nB\n"
    assert line_endings("a\nB\r\n", base, right, left) == "a\nB\n"
    assert line_endings("a\nB\n", "a\nb\n", "a\nB\n", "a\r\nb\r\n") == "a\r\nB\r\n"


def test_mixed_or_unchanged_line_endings_are_left_alone() -> None:
    assert line_endings("a\r\nB\n", "a\r\nb\n", "a\r\nB\n", "a\nb\n") == "a\r\nB\n"
    assert line_endings("x\r\ny\n", "a\nb\n", "a\nB\n", "a\nc\n") == "x\r\ny\n"


def test_the_final_line_break_one_side_added_or_removed_is_merged() -> None:
    assert line_endings("a\nB", "a\nb", "a\nB", "a\nb\n") == "a\nB\n"
    assert line_endings("a\nB\n", "a\nb\n", "a\nB\n", "a\nb") == "a\nB"
    assert line_endings("a\nB", "a\nb", "a\nB", "a\nc") == "a\nB"  # (neither side changed it)


def test_a_blank_line_beside_a_line_the_other_side_deleted_goes() -> None:
    base = "if x:\n    a\n    b\n    c\n"
    left = "if x:\n    b\n    c\n"
    right = "if x:\n    a\n\n    b\n    c\n"
    assert blank_gaps("if x:\n\n    b\n    c\n", base, left, right) == left


def test_blank_lines_both_sides_changed_alike_or_one_side_changed_are_merged() -> None:
    base, left, right = "a\n\n\nb\nc\n", "A\n\n\nb\nc\n", "a\n\nb\nc\n"
    # (the edited line `A` is still the line `a` was: its blank lines are right's)
    assert blank_gaps("A\n\n\nb\nc\n", base, left, right) == "A\n\nb\nc\n"


def test_two_lines_no_version_holds_as_neighbours_keep_the_merge_s_blank_lines() -> None:
    base, left, right = "a\n\nz\n", "a\n\nl\n\nz\n", "a\n\nr\n\nz\n"
    merged = "a\n\nl\n\nr\n\nz\n"
    assert blank_gaps(merged, base, left, right) == merged


def test_blank_lines_keep_the_merge_s_line_breaks() -> None:
    base, left, right = "a\r\nb\r\nc\r\n", "a\r\nc\r\n", "a\r\nb\r\n\r\nc\r\n"
    assert blank_gaps("a\r\n\r\nc\r\n", base, left, right) == "a\r\nc\r\n"


def test_a_line_added_after_a_line_the_other_side_deleted_keeps_its_separation() -> None:
    base, left = "a\n\nd\nz\n", "a\n\nz\n"
    right = "a\n\nd\nx\nz\n"  # (x added right below d, which left deleted with its blank line)
    assert blank_gaps("a\nx\nz\n", base, left, right) == "a\n\nx\nz\n"


def test_the_wider_separation_around_dropped_lines_is_kept() -> None:
    base, left, right = "a\nd\n\nz\n", "a\nd\n\nx\nz\n", "a\nz\n"
    assert blank_gaps("a\nx\nz\n", base, left, right) == "a\n\nx\nz\n"


def test_a_file_the_other_side_emptied_starts_with_no_blank_line() -> None:
    base, left, right = "i\n\nv\n", "\n", "i\n\nc\n\nv\n"
    assert blank_gaps("\n\nc\n", base, left, right) == "c\n"


def test_a_base_line_after_dropped_lines_keeps_the_merge_s_blank_lines() -> None:
    base = "class {\n  a\n\n  b\n\n  c\n}\n"
    left, right = "class {\n  a\n\n  b\n}\n", "class {\n  a\n\n  c\n}\n"
    # (the closing brace after the last members, each deleted by one side: their separation
    # went with them)
    assert blank_gaps("class {\n  a\n}\n", base, left, right) == "class {\n  a\n}\n"
