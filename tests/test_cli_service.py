"""The command line through a running workspace service: while `crdtspace serve` holds the
workspace, commands run in it (found through its announcement) instead of failing on the lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crdtspace import Workspace
from crdtspace.live.service import find_service
from crdtspace.testing import git, make_repo
from tests.deadlines import output

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = 4
SOURCE = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(FUNCTIONS))


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CRDTSPACE_AGENT": "", **extra}


def command(
    repo: Path, *args: str, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env(**extra),
        timeout=120,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    repo = make_repo(tmp_path / "repo", {"app.py": SOURCE})
    assert command(repo, "init").returncode == 0
    server = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    deadline = time.monotonic() + 30
    while find_service(repo) is None:
        assert server.poll() is None, output(server, "its output", 10)
        assert time.monotonic() < deadline, "the service did not announce itself"
        time.sleep(0.05)
    yield repo
    server.send_signal(signal.SIGTERM)
    output(server, "serve to stop on SIGTERM", 30)


def test_reads_and_writes_go_through_the_service(served: Path) -> None:
    repo = served
    status = command(repo, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["files"] == 1
    shown = command(repo, "show", "app.py::f1")
    assert shown.stdout == "\n\ndef f1(x):\n    return x + 1\n"
    new = SOURCE.replace("x + 2", "x + 20")
    written = command(repo, "write", "app.py", stdin=new, CRDTSPACE_AGENT="zed")
    assert written.returncode == 0, written.stderr
    assert "1 edited" in written.stdout
    assert "for zed" in written.stdout
    node = command(repo, "write", "app.py::f3", stdin="\n\ndef f3(x):\n    return x + 30\n")
    assert node.returncode == 0, node.stderr
    outline = command(repo, "outline", "app.py", "--json")
    assert [n["name"] for n in json.loads(outline.stdout)["nodes"]] == ["f0", "f1", "f2", "f3"]
    log = json.loads(command(repo, "log", "app.py", "--json").stdout)
    assert {(e["name"], e["agent"]) for e in log} >= {("f2", "zed")}
    assert command(repo, "conflicts").returncode == 0
    missing = command(repo, "show", "nope.py")
    assert missing.returncode == 4
    assert missing.stderr.startswith("error:")
    # the service's peers see the edits: they were made on its replica
    service = find_service(repo)
    assert service is not None
    with Workspace.connect(service.url, service.token, agent="peer") as peer:
        assert peer.render("app.py") == new.replace("x + 3", "x + 30")
    committed = command(repo, "commit", "-m", "through the service", "--no-check")
    assert committed.returncode == 0, committed.stderr + committed.stdout
    assert git(repo, "show", "HEAD:app.py") == new.replace("x + 3", "x + 30")


def test_many_commands_at_once_none_fails_on_the_lock(served: Path) -> None:
    repo = served
    runs = []
    for i in range(FUNCTIONS):
        process = subprocess.Popen(
            [sys.executable, "-m", "crdtspace", "-C", str(repo), "write", "app.py"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(CRDTSPACE_AGENT=f"agent{i}"),
        )
        runs.append((process, SOURCE.replace(f"x + {i}\n", f"x + {(i + 1) * 100}\n")))
    readers = [
        subprocess.Popen(
            [sys.executable, "-m", "crdtspace", "-C", str(repo), command_name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        for command_name in ("status", "conflicts")
    ]
    for process, text in runs:
        _, err = process.communicate(text, timeout=120)
        assert process.returncode == 0, err
    for process in readers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    shown = command(repo, "show", "app.py")
    assert shown.stdout == "".join(
        f"def f{i}(x):\n    return x + {(i + 1) * 100}\n\n\n" for i in range(FUNCTIONS)
    )


def test_without_the_service_the_command_queues_for_the_lock(served: Path) -> None:
    done = command(repo := served, "status", CRDTSPACE_SERVICE="0", CRDTSPACE_LOCK_WAIT="0.3")
    assert done.returncode == 5
    assert "in use by another process" in done.stderr
    assert "serve" in done.stderr  # the holder, named
    assert command(repo, "status").returncode == 0


def test_status_names_who_is_here_their_claims_changes_and_conflicts(served: Path) -> None:
    repo = served
    service = find_service(repo)
    assert service is not None
    with Workspace.connect(service.url, service.token, agent="peer") as peer:
        peer.claim("app.py::f1", ttl=60, note="renaming it")  # type: ignore[attr-defined]
        peer.replace("app.py::f2", "\n\ndef f2(x):\n    return x + 22\n")
        assert peer.wait_sent()  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30  # (a loaded machine: each command starts python)
        while True:
            info = json.loads(command(repo, "status", "--json").stdout)
            if info["claims"] and info["changed"]:
                break
            assert time.monotonic() < deadline, info
            time.sleep(0.1)
        assert info["present"] == ["peer"]
        assert info["claims"][0]["agent"] == "peer"
        assert info["claims"][0]["note"] == "renaming it"
        assert info["changed"] == {"app.py": ["peer"]}
        assert info["conflicts"] == []
        text = command(repo, "status").stdout
        assert "here now      peer" in text
        assert "peer claims app.py::" in text
        assert "(renaming it)" in text
        assert "  app.py by peer" in text


def test_status_live_refreshes_until_interrupted(served: Path) -> None:
    live = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(served), "status", "--live"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    time.sleep(3)
    live.send_signal(signal.SIGINT)
    out, err = live.communicate(timeout=30)
    assert live.returncode == 0, err
    assert "changed       0 file(s) since the base commit" in out
    assert command(served, "status").returncode == 0  # the service was never held by it


def test_commands_while_serve_and_watch_run(served: Path) -> None:
    """watch joins the service: the terminal's commands, many at once, and the editor's saves
    all land, none waits for a lock."""
    repo = served
    watcher = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), "watch", "--agent", "editor:ed"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        deadline = time.monotonic() + 30
        while "here now      editor:ed" not in command(repo, "status").stdout:
            assert watcher.poll() is None, output(watcher, "its output", 10)
            assert time.monotonic() < deadline, "watch did not join the service"
            time.sleep(0.2)
        writers = [
            subprocess.Popen(
                [sys.executable, "-m", "crdtspace", "-C", str(repo), "write", "app.py"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env(CRDTSPACE_AGENT=f"agent{i}"),
            )
            for i in range(2)
        ]
        for i, process in enumerate(writers):
            text = SOURCE.replace(f"x + {i}\n", f"x + {(i + 1) * 100}\n")
            _, err = output(process, "a write through the service", 120, text)
            assert process.returncode == 0, err
        # the terminal's edits reach the working tree through watch
        deadline = time.monotonic() + 30
        while "x + 200" not in (repo / "app.py").read_text():
            assert time.monotonic() < deadline, (repo / "app.py").read_text()
            time.sleep(0.1)
        # an editor's save becomes an edit the terminal sees
        saved = (repo / "app.py").read_text().replace("x + 3\n", "x + 33\n")
        (repo / "app.py").write_text(saved)
        deadline = time.monotonic() + 30
        while "x + 33" not in command(repo, "show", "app.py").stdout:
            assert time.monotonic() < deadline, "the save did not reach the workspace"
            time.sleep(0.1)
        shown = command(repo, "show", "app.py").stdout
        assert "x + 100" in shown
        assert "x + 200" in shown
        assert "x + 33" in shown
    finally:
        watcher.send_signal(signal.SIGTERM)
        output(watcher, "watch to stop on SIGTERM", 30)
    assert watcher.returncode == 0


def test_resolve_edit_reads_and_resolves_through_the_service(served: Path, tmp_path: Path) -> None:
    repo = served
    show = json.loads(command(repo, "show", "app.py::f1", "--json").stdout)
    one = show["text"].replace("x + 1", "x + 10")
    two = show["text"].replace("x + 1", "x + 11")
    base = show["version"]
    for agent, text in (("ann", one), ("bo", two)):
        done = command(
            repo, "write", "app.py::f1", "--base", base, stdin=text, CRDTSPACE_AGENT=agent
        )
        assert done.returncode == 0, done.stderr
    conflicts = json.loads(command(repo, "conflicts", "--json").stdout)["conflicts"]
    assert [c["kind"] for c in conflicts] == ["overlap"]
    editor = tmp_path / "editor.sh"  # keeps bo's side: drops the markers and ann's lines
    editor.write_text(
        "#!/bin/sh\n"
        "python3 - \"$1\" <<'PY'\n"
        "import sys\n"
        "text = open(sys.argv[1]).read()\n"
        "open(sys.argv[1], 'w').write(text.split('=======\\n')[1].split('>>>>>>>')[0])\n"
        "PY\n"
    )
    editor.chmod(0o755)
    resolved = command(repo, "resolve", conflicts[0]["id"], "--edit", EDITOR=str(editor))
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.startswith("resolved ")
    assert command(repo, "conflicts").returncode == 0
    assert "x + 11" in command(repo, "show", "app.py::f1").stdout
