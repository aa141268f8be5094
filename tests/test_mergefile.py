"""git's line merge of three texts: in memory or on disk, the same output."""

from __future__ import annotations

import subprocess

import pytest

from crdtspace.git import mergefile
from crdtspace.git.mergefile import git_merge_file

BASE = "a\nb\nc\nd\n"
CASES = [
    (BASE, BASE.replace("a", "a1"), BASE.replace("d", "d1")),  # clean
    (BASE, BASE.replace("b", "b1"), BASE.replace("b", "b2")),  # one conflict
    ("", "x\n", "y\n"),  # both added
    ("é\n\udcff\n", "é2\n\udcff\n", "é\n\udcff\nz"),  # not UTF-8, no final newline
]


@pytest.mark.parametrize(("base", "left", "right"), CASES)
def test_in_memory_and_on_disk_give_the_same_merge(
    base: str, left: str, right: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = git_merge_file(base, left, right, marker_size=9)
    monkeypatch.setattr(mergefile, "_in_memory", [False])
    assert git_merge_file(base, left, right, marker_size=9) == in_memory


def test_in_memory_files_git_cannot_open_are_given_up_for_files_on_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unopenable(command: list[str], versions: list[bytes]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(command, 255, b"", b"error: could not open /dev/fd/3")

    expected = git_merge_file(*CASES[1])
    monkeypatch.setattr(mergefile, "_in_memory", [True])
    monkeypatch.setattr(mergefile, "_from_memory", unopenable)
    assert git_merge_file(*CASES[1]) == expected
    assert mergefile._in_memory == [False]
