"""Durable state under .git/crdtspace: nothing returned is lost, a torn tail only warns."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crdtspace import CrdtspaceWarning, StorageError, Workspace
from crdtspace.model.storage import repair_log
from crdtspace.testing import make_repo
from tests.deadlines import end, read_line

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "repo",
        {"app.py": "def main():\n    return 0\n", "log.txt": "start\n"},
    )
    Workspace.init(root, agent="setup").close()
    return root


def test_edits_survive_close_and_reopen(repo: Path) -> None:
    with Workspace.open(repo, agent="alice") as ws:
        ws.replace("app.py::main", "def main():\n    return 1\n")
        ws.write("new.py", "def helper():\n    pass\n")
        expected = ws.render_all()
        key = ws.resolve("app.py::main")[1]
    with Workspace.open(repo, agent="bob") as again:
        assert again.render_all() == expected
        assert [e.agent for _, e in again.log("app.py::main")] == ["alice"]
        assert again.resolve("app.py::main")[1] == key


def test_init_refuses_to_overwrite_and_open_needs_init(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(StorageError, match="already exists"):
        Workspace.init(repo, agent="x")
    other = make_repo(tmp_path / "other", {"a.txt": "a\n"})
    with pytest.raises(StorageError, match="no crdtspace workspace"):
        Workspace.open(other, agent="x")


def test_a_second_process_on_the_same_workspace_is_refused(repo: Path) -> None:
    with Workspace.open(repo, agent="a"), pytest.raises(StorageError, match="in use"):
        Workspace.open(repo, agent="b")
    Workspace.open(repo, agent="b").close()


def test_a_torn_last_record_is_dropped_with_a_warning(repo: Path) -> None:
    with Workspace.open(repo, agent="a") as ws:
        ws.splice("log.txt", len("start\n"), 0, "kept\n")
        ws.splice("log.txt", len("start\nkept\n"), 0, "torn\n")
    log = next((repo / ".git" / "crdtspace").rglob("updates.log"))
    size = log.stat().st_size
    with open(log, "r+b") as handle:
        handle.truncate(size - 3)
    torn = log.read_bytes()
    with pytest.warns(CrdtspaceWarning, match="torn|incomplete|dropped"):
        ws = Workspace.open(repo, agent="a")
    with ws:
        assert ws.render("log.txt") == "start\nkept\n"
        assert log.read_bytes() == torn  # reading leaves the file alone
        ws.splice("log.txt", len("start\nkept\n"), 0, "after\n")
    with Workspace.open(repo, agent="a") as ws:
        assert ws.render("log.txt") == "start\nkept\nafter\n"
    [copy] = log.parent.glob("updates.log.torn-*")
    assert torn.endswith(copy.read_bytes())


def test_a_damaged_log_is_refused_unchanged_until_repaired(repo: Path) -> None:
    with Workspace.open(repo, agent="a") as ws:
        ws.splice("log.txt", len("start\n"), 0, "one\n")
        ws.splice("log.txt", len("start\none\n"), 0, "two\n")
    log = next((repo / ".git" / "crdtspace").rglob("updates.log"))
    data = bytearray(log.read_bytes())
    data[-3] ^= 0x01  # a flipped bit in the last record, complete on disk
    log.write_bytes(bytes(data))
    for _ in range(2):
        with pytest.raises(StorageError, match="damaged at byte offset") as info:
            Workspace.open(repo, agent="a")
        assert "crdtspace repair" in str(info.value)
        assert log.read_bytes() == bytes(data)
    report = repair_log(log.parent)
    assert report.copy is not None
    assert report.copy.read_bytes() == bytes(data)
    with Workspace.open(repo, agent="a") as ws:
        assert ws.render("log.txt") == "start\none\n"


CRASHER = textwrap.dedent(
    """
    import sys
    from crdtspace import Workspace

    ws = Workspace.open(sys.argv[1], agent="crasher")
    i = 0
    while True:
        text = ws.render("log.txt")
        if i % 3 == 0:
            with ws.transaction("two files"):
                ws.splice("log.txt", len(text), 0, f"line {i}\\n")
                ws.write("app.py", f"def main():\\n    return {i}\\n")
        else:
            ws.splice("log.txt", len(text), 0, f"line {i}\\n")
        print(i, flush=True)
        i += 1
    """
)


def test_kill_minus_nine_loses_no_returned_edit(repo: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(repo)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    acknowledged = -1
    try:
        while acknowledged < 40:
            line = read_line(process, "the next edit acknowledged")
            if not line:
                break  # (it ended: the assertion below says so)
            acknowledged = int(line)
    finally:
        process.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        # Every line it printed before the kill is an acknowledged edit too (on a busy machine
        # it runs ahead of this reader): the last one counts.
        if process.stdout is not None and process.returncode is not None:
            later = [int(line) for line in process.stdout.read().split()]
            acknowledged = max([acknowledged, *later])
        end(process)
    assert acknowledged >= 40
    with Workspace.open(repo, agent="after") as ws:
        lines = ws.render("log.txt").splitlines()
        assert lines[0] == "start"
        written = [int(line.split()[1]) for line in lines[1:]]
        assert written[: acknowledged + 1] == list(range(acknowledged + 1))
        assert len(written) <= acknowledged + 2
        last_app = max(i for i in written if i % 3 == 0)
        assert ws.render("app.py") == f"def main():\n    return {last_app}\n"
