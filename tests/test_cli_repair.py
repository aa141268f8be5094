"""`crdtspace repair`, and read-only commands on a damaged or torn update log."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace import CrdtspaceWarning, Workspace
from crdtspace.cli import app
from crdtspace.testing import make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"log.txt": "start\n"})
    Workspace.init(root, agent="setup").close()
    with Workspace.open(root, agent="a") as ws:
        for line in ("one", "two", "three"):
            ws.splice("log.txt", len(ws.render("log.txt")), 0, f"{line}\n")
    return root


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["-C", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def log_path(repo: Path) -> Path:
    return repo / ".git" / "crdtspace" / "default" / "updates.log"


def record_starts(data: bytes) -> list[int]:
    starts, pos = [], 4
    while pos < len(data):
        starts.append(pos)
        pos += 8 + int.from_bytes(data[pos : pos + 4], "little")
    return starts


def test_a_damaged_log_is_refused_by_readers_and_repaired(repo: Path) -> None:
    path = log_path(repo)
    sound = path.read_bytes()
    starts = record_starts(sound)
    assert len(starts) == 4  # the import, then one record per line
    middle = starts[2]
    data = bytearray(sound)
    data[middle + 10] ^= 0x20  # a flipped bit in the payload of the record adding "two"
    path.write_bytes(bytes(data))

    for command in (["render", "log.txt"], ["status"], ["show", "log.txt"]):
        code, out, err = run(repo, *command)
        assert code == 5, (command, out, err)
        assert f"damaged at byte offset {middle}" in err
        assert "crdtspace repair" in err
        assert path.read_bytes() == bytes(data)

    code, out, err = run(repo, "repair", "--dry-run")
    assert code == 0, err
    assert f"dropped bytes {middle}..{starts[3]}" in out
    assert "kept records 0-1" in out
    assert "kept record 2 " in out
    assert "Dry run" in out
    assert path.read_bytes() == bytes(data)
    assert list(path.parent.glob("updates.log.damaged-*")) == []

    code, out, err = run(repo, "repair")
    assert code == 0, err
    [copy] = path.parent.glob("updates.log.damaged-*")
    assert copy.read_bytes() == bytes(data)
    assert str(copy) in out
    assert "with 3 records" in out
    assert path.read_bytes() == sound[:middle] + sound[starts[3] :]

    code, out, err = run(repo, "repair", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dropped"] == []
    assert report["records"] == 3
    assert report["copy"] is None
    code, out, err = run(repo, "repair")
    assert "nothing to repair" in out

    code, out, err = run(repo, "render", "log.txt")
    assert code == 0, err
    assert out == "start\none\n"  # "three" was inserted after "two": it waits for it


def test_a_torn_tail_is_left_alone_by_readers(repo: Path) -> None:
    path = log_path(repo)
    torn = path.read_bytes()[:-5]
    path.write_bytes(torn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run(repo, "render", "log.txt")
    assert code == 0, err
    # The warning is the library's, or printed on stderr by the command line.
    said = [str(w.message) for w in caught if issubclass(w.category, CrdtspaceWarning)]
    assert any("torn" in text for text in [*said, err])
    assert out == "start\none\ntwo\n"
    assert path.read_bytes() == torn
    assert list(path.parent.glob("updates.log.*-*")) == []


def test_repair_without_a_workspace(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "bare", {"a.txt": "a\n"})
    code, _, err = run(root, "repair")
    assert code == 5
    assert "crdtspace init" in err
