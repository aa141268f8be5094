"""The workspace service: announced by `crdtspace serve`, found, started on demand, stopped when
idle. Real repositories, real server processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crdtspace import Workspace
from crdtspace.errors import AuthError, StorageError, SyncError
from crdtspace.live.access import token_for
from crdtspace.live.server import running_server
from crdtspace.live.service import (
    ANNOUNCEMENT_NAME,
    SERVICE_LOG_NAME,
    Service,
    announce,
    ensure_service,
    find_service,
    service_state_dir,
    withdraw,
)
from crdtspace.testing import make_repo
from tests.deadlines import exit_code, output, read_line

ROOT = Path(__file__).resolve().parent.parent
FILES = {"app.py": "def main():\n    return 0\n", "notes.txt": "start\n"}


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CRDTSPACE_TOKEN"}
    return {**env, "PYTHONPATH": str(ROOT)}


def crdtspace(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=ROOT,
        check=False,
        timeout=60,
    )


def announced_pid(repo: Path) -> int | None:
    try:
        body = json.loads((service_state_dir(repo) / ANNOUNCEMENT_NAME).read_text())
    except (OSError, ValueError):
        return None
    pid = body.get("pid")
    return pid if isinstance(pid, int) and pid != os.getpid() else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Server processes a test starts itself; killed (their groups) at teardown."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A repository with a durable workspace; any service still announced for it at teardown
    is killed (with its process group)."""
    root = make_repo(tmp_path / "repo", FILES)
    done = crdtspace(root, "init")
    assert done.returncode == 0, done.stderr
    yield root
    pid = announced_pid(root)
    if pid is not None and alive(pid):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        eventually(lambda: not alive(pid), 5)


def serve(repo: Path, started: list[subprocess.Popen[str]], *args: str) -> tuple[int, str]:
    """`crdtspace serve --port 0` in its own process group: (its pid, the room's url)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "crdtspace", "-C", str(repo), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        cwd=ROOT,
        start_new_session=True,
    )
    started.append(process)
    line = read_line(process, "serve to say it is serving")
    assert line.startswith("serving "), output(process, "its error", 10)[1]
    return process.pid, line.split()[1]


# -- the announcement ---------------------------------------------------------------------


def test_serve_announces_itself_and_withdraws_on_sigterm(
    repo: Path, started: list[subprocess.Popen[str]]
) -> None:
    before = time.time()
    pid, room = serve(repo, started)
    state_dir = service_state_dir(repo)
    path = state_dir / ANNOUNCEMENT_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    body = json.loads(path.read_text())
    port = int(room.rsplit(":", 1)[1].split("/")[0])
    assert body["version"] == 1
    assert body["url"] == f"ws://127.0.0.1:{port}"
    assert body["http"] == f"http://127.0.0.1:{port}"
    assert body["pid"] == pid
    assert body["workspace"] == "default"
    assert body["token_file"] == "token"
    assert before - 1 <= body["started"] <= time.time()
    found = find_service(repo)
    assert found == Service(
        url=f"ws://127.0.0.1:{port}",
        http=f"http://127.0.0.1:{port}",
        pid=pid,
        workspace="default",
        token=(state_dir / "token").read_text().strip(),
        state_dir=state_dir,
    )
    assert not withdraw(state_dir)  # not this process's: left alone
    assert path.exists()

    process = started[0]
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "stopped" in stdout
    assert not path.exists()
    assert find_service(repo) is None


def test_a_stale_announcement_is_removed(repo: Path) -> None:
    state_dir = service_state_dir(repo)
    path = state_dir / ANNOUNCEMENT_NAME
    token = token_for(repo)
    with socket.socket() as sock:  # a port nothing listens on any more
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]

    gone = subprocess.Popen(["true"])  # a finished (and reaped) process: its pid is free
    exit_code(gone, "true to end")
    announce(state_dir, host="127.0.0.1", port=free, workspace="default", token=token, pid=gone.pid)
    assert path.exists()
    assert find_service(repo) is None
    assert not path.exists()

    # A live process, but nothing listening on the port: stale too.
    announce(state_dir, host="127.0.0.1", port=free, workspace="default", token=token)
    assert find_service(repo) is None
    assert not path.exists()

    # Garbage: removed.
    path.write_text("{not json")
    assert find_service(repo) is None
    assert not path.exists()


def test_a_service_with_a_token_of_its_own_needs_it_from_the_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = service_state_dir(repo)
    monkeypatch.delenv("CRDTSPACE_TOKEN", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        announce(state_dir, host="127.0.0.1", port=port, workspace="default", token="own")
        body = json.loads((state_dir / ANNOUNCEMENT_NAME).read_text())
        assert body["token_file"] is None
        assert "own" not in (state_dir / ANNOUNCEMENT_NAME).read_text()  # never on disk
        with pytest.raises(AuthError, match="token of its own"):
            find_service(repo)
        monkeypatch.setenv("CRDTSPACE_TOKEN", "own")
        found = find_service(repo)
        assert found is not None
        assert found.token == "own"
        assert found.pid == os.getpid()
    assert withdraw(state_dir)
    assert not (state_dir / ANNOUNCEMENT_NAME).exists()


# -- starting on demand ---------------------------------------------------------------------


def test_ensure_service_starts_a_detached_service_a_replica_joins(repo: Path) -> None:
    assert find_service(repo) is None
    service = ensure_service(repo, idle_timeout=60)
    assert service.pid != os.getpid()
    assert os.getpgid(service.pid) == service.pid  # its own session: our signals miss it
    assert find_service(repo) == service
    assert ensure_service(repo) == service  # the running one, not a second
    log = service.state_dir / SERVICE_LOG_NAME
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert eventually(lambda: "serving ws://127.0.0.1:" in log.read_text())

    replica = Workspace.connect(service.url, service.token, agent="a")
    try:
        assert replica.read("app.py") == FILES["app.py"]
        replica.write("notes.txt", "from a\n")
        assert replica.wait_sent()
    finally:
        replica.close()

    os.kill(service.pid, signal.SIGTERM)
    assert eventually(lambda: not alive(service.pid))
    assert not (service.state_dir / ANNOUNCEMENT_NAME).exists()
    assert "stopped; the workspace is closed" in log.read_text()
    with Workspace.open(repo, agent="check") as ws:  # durable, and the lock released
        assert ws.read("notes.txt") == "from a\n"


def test_the_idle_timeout_stops_the_service_once_no_client_is_left(repo: Path) -> None:
    service = ensure_service(repo, idle_timeout=1.5)
    replica = Workspace.connect(service.url, service.token, agent="a")
    try:
        time.sleep(2.5)  # connected all along: not idle
        assert alive(service.pid)
        assert find_service(repo) == service
    finally:
        replica.close()
    assert eventually(lambda: not alive(service.pid), 10)
    assert not (service.state_dir / ANNOUNCEMENT_NAME).exists()
    log = (service.state_dir / SERVICE_LOG_NAME).read_text()
    assert "no client for 1.5 s" in log
    assert "stopped; the workspace is closed" in log


def test_the_idle_timeout_of_an_in_process_server(repo: Path) -> None:
    with running_server(repo, idle_timeout=0.3) as server:
        assert eventually(lambda: server.stopped_idle, 10)
    with Workspace.open(repo, agent="check"):  # closed: the lock is free
        pass


def test_two_ensure_service_calls_at_once_end_with_one_service(repo: Path) -> None:
    barrier = threading.Barrier(2, timeout=60)
    results: list[Service | BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(ensure_service(repo, idle_timeout=60))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 2
    first, second = results
    assert isinstance(first, Service), first
    assert isinstance(second, Service), second
    assert first.pid == second.pid
    assert find_service(repo) == first
    log = first.state_dir / SERVICE_LOG_NAME
    assert eventually(lambda: "serving" in log.read_text())
    assert log.read_text().count("serving") == 1  # one service was started, not two


def test_a_second_serve_fails_on_the_lock_and_keeps_the_first_announcement(
    repo: Path, started: list[subprocess.Popen[str]]
) -> None:
    pid, _ = serve(repo, started)
    done = crdtspace(repo, "serve", "--port", "0")
    assert done.returncode == StorageError.exit_code
    assert "in use by another process" in done.stderr
    found = find_service(repo)
    assert found is not None
    assert found.pid == pid
    assert ensure_service(repo).pid == pid


def test_finding_imports_no_server_library() -> None:
    """A command may look for the service every time: no websocket, ASGI or HTTP client."""
    heavy = ("websockets", "hypercorn", "urllib.request", "crdtspace.live.server")
    code = f"import sys, crdtspace.live.service; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment(), check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_missing_workspace_is_a_clear_error(tmp_path: Path) -> None:
    bare = make_repo(tmp_path / "plain", FILES)
    assert find_service(bare) is None
    with pytest.raises(StorageError, match="no crdtspace workspace") as caught:
        ensure_service(bare)
    assert "crdtspace init" in str(caught.value)
    assert not (service_state_dir(bare) / SERVICE_LOG_NAME).exists()  # nothing was started


def test_a_service_that_cannot_start_is_a_sync_error_with_its_log(repo: Path) -> None:
    """The workspace is held by this process all along: each start fails on the lock, until
    the timeout; the error quotes the service's log."""
    with Workspace.open(repo, agent="holder"):
        began = time.monotonic()
        with pytest.raises(SyncError, match="in use by another process"):
            ensure_service(repo, timeout=2)
        assert time.monotonic() - began < 10
    assert find_service(repo) is None
