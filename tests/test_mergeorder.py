"""The order of two sides' additions at one place: a new group after the group's continuation."""

from __future__ import annotations

from crdtspace.git.mergeorder import glued_first
from crdtspace.model.languages import profile_for

PYTHON = profile_for("file.py")
assert PYTHON is not None

BASE = "import os\n\nA = 1\n"


def test_a_new_group_left_added_goes_after_the_line_right_added_to_the_group() -> None:
    left = "import os\n\nA = 1\n\n\ndef f():\n    return A\n"
    right = "import os\n\nA = 1\nB = 2\n"
    merged = "import os\n\nA = 1\n\n\ndef f():\n    return A\nB = 2\n"
    expected = "import os\n\nA = 1\nB = 2\n\n\ndef f():\n    return A\n"
    assert glued_first(merged, (BASE, left, right), PYTHON) == expected


def test_two_additions_laid_out_alike_keep_left_s_first() -> None:
    left, right = "import os\n\nA = 1\nC = 3\n", "import os\n\nA = 1\nB = 2\n"
    merged = "import os\n\nA = 1\nC = 3\nB = 2\n"
    assert glued_first(merged, (BASE, left, right), PYTHON) == merged


def test_a_group_right_added_after_left_s_continuation_stays_there() -> None:
    left = "import os\n\nA = 1\nB = 2\n"
    right = "import os\n\nA = 1\n\n\ndef f():\n    return A\n"
    merged = "import os\n\nA = 1\nB = 2\n\n\ndef f():\n    return A\n"
    assert glued_first(merged, (BASE, left, right), PYTHON) == merged


def test_additions_after_different_units_stay_where_they_are() -> None:
    base = "A = 1\nZ = 26\n"
    left = "A = 1\n\n\ndef f():\n    return A\nZ = 26\n"
    right = "A = 1\nZ = 26\nB = 2\n"
    merged = "A = 1\n\n\ndef f():\n    return A\nZ = 26\nB = 2\n"
    assert glued_first(merged, (base, left, right), PYTHON) == merged
