"""Commands at once on one workspace: they queue for it, none fails on the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crdtspace.testing import make_repo

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = 4
SOURCE = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(FUNCTIONS))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"src/m.py": SOURCE})
    assert command(repo, "init").returncode == 0
    return repo


def command(
    repo: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
        check=False,
    )


def start(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_writes_and_reads_at_once_all_succeed_and_all_edits_stay(repo: Path) -> None:
    writers = []
    for i in range(FUNCTIONS):
        text = SOURCE.replace(f"return {i}\n", f"return {(i + 1) * 100}\n")
        process = start(repo, "write", "src/m.py", "--agent", f"agent{i}")
        writers.append((process, text))
    readers = [start(repo, "show", "src/m.py") for _ in range(2)]
    for process, text in writers:
        out, err = process.communicate(text, timeout=120)
        assert process.returncode == 0, err
    for process in readers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out.startswith("def f0():")
    shown = command(repo, "show", "src/m.py")
    assert shown.returncode == 0, shown.stderr
    # every writer based its write on the commit (its own change only): all four stay
    assert shown.stdout == "".join(
        f"def f{i}():\n    return {(i + 1) * 100}\n\n\n" for i in range(FUNCTIONS)
    )
    log = command(repo, "log", "src/m.py", "--json")
    edited = {(entry["name"], entry["agent"]) for entry in json.loads(log.stdout)}
    assert edited == {(f"f{i}", f"agent{i}") for i in range(FUNCTIONS)}


def test_a_command_that_waits_too_long_says_who_holds_the_workspace(repo: Path) -> None:
    from crdtspace import Workspace

    with Workspace.open(repo, agent="holder"):
        done = command(repo, "status", env={"CRDTSPACE_LOCK_WAIT": "0.5"})
    assert done.returncode != 0
    assert "in use by another process (pid " in done.stderr
    assert "waited 0.5 s" in done.stderr
    assert "Traceback" not in done.stderr
    bad = command(repo, "status", env={"CRDTSPACE_LOCK_WAIT": "soon"})
    assert bad.returncode != 0
    assert "CRDTSPACE_LOCK_WAIT" in bad.stderr
