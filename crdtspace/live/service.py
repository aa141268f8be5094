"""The workspace service: a running `crdtspace serve`, announced, found, and started on demand.

While ``crdtspace serve`` runs it announces itself in ``.git/crdtspace/<workspace>/service.json``
(mode 0600, written atomically once it listens, removed when it stops)::

    {"version": 1, "url": "ws://127.0.0.1:PORT", "http": "http://127.0.0.1:PORT", "pid": N,
     "workspace": NAME, "started": unix time, "token_file": "token", "host": ..., "port": ...}

`find_service` reads it (a stale one, whose process is gone or whose port is closed, is
removed); `ensure_service` returns the running service, else starts one, detached, and waits for
its announcement. Finding is cheap (a file read, a ``kill(pid, 0)``, a loopback connect): no
websocket, server or CRDT library is imported here.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crdtspace.errors import AuthError, StorageError, SyncError
from crdtspace.model.storage import LOG_NAME, held_by

__all__ = [
    "ANNOUNCEMENT_NAME",
    "SERVICE_LOG_NAME",
    "Service",
    "announce",
    "ensure_service",
    "find_service",
    "service_state_dir",
    "withdraw",
]

ANNOUNCEMENT_NAME = "service.json"
SERVICE_LOG_NAME = "service.log"
START_LOCK_NAME = "service.lock"
"""Held (flock) by whoever is starting a service, so that concurrent starters start one."""
VERSION = 1
DEFAULT_PORT = 8765
"""The sync server's TCP port unless told (here, not in `server`: `serve --help` imports no
server)."""
DEFAULT_MAX_UPDATE = 8 * 1024 * 1024
"""The largest update (bytes) a server takes from a peer unless told."""
TOKEN_FILE = "token"  # (= access.TOKEN_NAME; not imported: access pulls in urllib's HTTP side)
TOKEN_ENV = "CRDTSPACE_TOKEN"
LOG_KEEP = 1024 * 1024
"""A service.log over this many bytes is moved to service.log.old before the next start."""
PROBE_TIMEOUT = 0.5
"""Seconds to wait for an announced port to accept a connection."""
_LOG_TAIL_LINES = 15
_POLL = 0.05


@dataclass(frozen=True)
class Service:
    """A running workspace service: where it listens, who it is, the token it takes."""

    url: str
    """The websocket address, ``ws://127.0.0.1:PORT`` (for `Workspace.connect`)."""
    http: str
    """The HTTP address, ``http://127.0.0.1:PORT`` (``GET /status``)."""
    pid: int
    workspace: str
    token: str
    state_dir: Path
    """``.git/crdtspace/<workspace>``: the announcement, the token, the service's log."""


def service_state_dir(repo_path: Path | str, workspace: str = "default") -> Path:
    """The workspace's state folder, ``.git/crdtspace/<workspace>`` (not created here)."""
    from crdtspace.git import gitio  # (here: a command that finds a service imports no git)

    repo = gitio.open_repo(Path(repo_path))
    try:
        return gitio.state_dir(repo, workspace)
    finally:
        repo.close()


# -- the announcement, by the service itself -------------------------------------------


def _connectable(host: str) -> str:
    """The address a client on this machine reaches a server listening on `host` at."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "::1"
    return host


def announce(
    state_dir: Path,
    *,
    host: str,
    port: int,
    workspace: str,
    token: str,
    pid: int | None = None,
    started: float | None = None,
) -> Path:
    """Write the announcement of the service listening at `host`:`port` (atomically, mode
    0600). ``token_file`` names the workspace's token file when `token` is the one it holds,
    else it is null: the server took a token of its own (``--token``, $CRDTSPACE_TOKEN), which
    is never written to disk here."""
    host = _connectable(host)
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        on_file: str | None = (state_dir / TOKEN_FILE).read_text().strip()
    except OSError:
        on_file = None
    body = {
        "version": VERSION,
        "url": f"ws://{netloc}",
        "http": f"http://{netloc}",
        "host": host,
        "port": port,
        "pid": os.getpid() if pid is None else pid,
        "workspace": workspace,
        "started": time.time() if started is None else started,
        "token_file": TOKEN_FILE if on_file and on_file == token else None,
    }
    path = state_dir / ANNOUNCEMENT_NAME
    temporary = state_dir / f"{ANNOUNCEMENT_NAME}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as stream:
            json.dump(body, stream, indent=2)
            stream.write("\n")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise StorageError(f"Cannot announce the service in {path}: {exc}") from None
    return path


def withdraw(state_dir: Path, pid: int | None = None) -> bool:
    """Remove the announcement if it is still the one of process `pid` (default: this one);
    whether it was removed."""
    pid = os.getpid() if pid is None else pid
    path = state_dir / ANNOUNCEMENT_NAME
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    body = _parse(raw)
    if body is None or body.get("pid") != pid:
        return False
    return _remove_if_unchanged(path, raw)


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _remove_if_unchanged(path: Path, raw: bytes) -> bool:
    """Unlink `path` if it still holds `raw` (not a newer service's announcement)."""
    try:
        if path.read_bytes() != raw:
            return False
        path.unlink()
    except OSError:
        return False
    return True


# -- finding -------------------------------------------------------------------------------


def find_service(repo_path: Path | str = ".", workspace: str = "default") -> Service | None:
    """The service announced for the workspace, if it is running; a stale announcement (its
    process gone, or nothing listening on its port) is removed and None returned.

    AuthError when the running service took a token of its own (not the workspace's token
    file) and $CRDTSPACE_TOKEN does not give it."""
    return _find(service_state_dir(repo_path, workspace), workspace)


def find_in(state_dir: Path, workspace: str) -> Service | None:
    """`find_service` for a state folder already known (``.git/crdtspace/<workspace>``)."""
    return _find(state_dir, workspace)


def _find(state_dir: Path, workspace: str) -> Service | None:
    path = state_dir / ANNOUNCEMENT_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"Cannot read the service announcement {path}: {exc}") from None
    body = _parse(raw)
    if body is not None and isinstance(body.get("version"), int) and body["version"] > VERSION:
        return None  # a newer crdtspace's: left alone
    fields = _fields(body)
    if fields is None or not _alive(fields[2]) or not _listening(fields[0], fields[1]):
        _remove_if_unchanged(path, raw)
        return None
    assert body is not None
    host, port, pid = fields
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return Service(
        url=str(body.get("url") or f"ws://{netloc}"),
        http=str(body.get("http") or f"http://{netloc}"),
        pid=pid,
        workspace=str(body.get("workspace") or workspace),
        token=_token(state_dir, body, pid),
        state_dir=state_dir,
    )


def _fields(body: dict[str, Any] | None) -> tuple[str, int, int] | None:
    """(host, port, pid) of a well-formed announcement."""
    if body is None:
        return None
    pid, port, host = body.get("pid"), body.get("port"), body.get("host")
    if not isinstance(pid, int) or pid <= 0:
        return None
    if not isinstance(port, int) or not isinstance(host, str):  # (only url given: parse it)
        url = body.get("url")
        if not isinstance(url, str) or "://" not in url:
            return None
        netloc = url.split("://", 1)[1].split("/", 1)[0]
        host, _, text = netloc.rpartition(":")
        host = host.strip("[]")
        if not text.isdigit():
            return None
        port = int(text)
    if not 0 < port < 65536 or not host:
        return None
    return host, port, pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def _token(state_dir: Path, body: dict[str, Any], pid: int) -> str:
    name = body.get("token_file")
    if isinstance(name, str) and name and "/" not in name and name not in (".", ".."):
        try:
            token = (state_dir / name).read_text().strip()
        except OSError as exc:
            raise StorageError(
                f"Cannot read the service's token file {state_dir / name}: {exc}"
            ) from None
        if token:
            return token
    token = os.environ.get(TOKEN_ENV, "")
    if token:
        return token
    raise AuthError(
        f"The crdtspace service of this workspace (pid {pid}) takes a token of its own, "
        "not the one in the workspace's token file.",
        hint=f"set {TOKEN_ENV} to it, or stop that server and serve without --token",
    )


# -- starting on demand ----------------------------------------------------------------------


def ensure_service(
    repo_path: Path | str = ".",
    workspace: str = "default",
    *,
    idle_timeout: float = 600.0,
    timeout: float = 20.0,
) -> Service:
    """The workspace's running service, else one started now: ``python -m crdtspace serve``
    detached (its own session, output appended to ``service.log``), stopping by itself after
    `idle_timeout` seconds without a client (0: never). Waits up to `timeout` seconds for it
    to announce itself.

    Concurrent callers (threads or processes) end with one service: starting is serialized by
    a lock file, and a start that finds the workspace held by another process waits for that
    one's announcement. StorageError when the workspace does not exist; SyncError, with the
    end of ``service.log``, when the service fails to start."""
    state_dir = service_state_dir(repo_path, workspace)
    found = _find(state_dir, workspace)
    if found is not None:
        return found
    log = state_dir / LOG_NAME
    try:
        exists = log.stat().st_size > 0
    except OSError:
        exists = False
    if not exists:
        raise StorageError(
            f"This repository has no crdtspace workspace {workspace!r} to serve.",
            hint="run `crdtspace init` first",
        )
    deadline = time.monotonic() + timeout
    with _start_lock(state_dir, deadline):
        found = _find(state_dir, workspace)
        if found is not None:
            return found
        return _start(Path(repo_path), state_dir, workspace, idle_timeout, deadline)


@contextlib.contextmanager
def _start_lock(state_dir: Path, deadline: float) -> Iterator[None]:
    path = state_dir / START_LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageError(f"Cannot create {path}: {exc}") from None
    try:
        pause = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StorageError(f"Cannot lock {path}: {exc}") from None
                if time.monotonic() >= deadline:
                    raise SyncError(
                        "Another process has been starting the workspace service for too long.",
                        hint=f"see {state_dir / SERVICE_LOG_NAME}",
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
        yield
    finally:
        os.close(fd)  # (releases the lock)


def _start(
    repo_path: Path, state_dir: Path, workspace: str, idle_timeout: float, deadline: float
) -> Service:
    log_path = state_dir / SERVICE_LOG_NAME
    _keep_log_small(log_path)
    pause = 0.1
    while True:
        offset = _size(log_path)
        process = _spawn(repo_path, workspace, idle_timeout, log_path)
        while process.poll() is None:
            found = _find(state_dir, workspace)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                with contextlib.suppress(OSError):  # it cleans up as on any SIGTERM
                    os.killpg(process.pid, signal.SIGTERM)
                holder = held_by(state_dir)
                if holder is not None and f"(pid {process.pid}:" not in holder:
                    raise SyncError(  # (the reason it could not start, even before it said so)
                        f"The workspace service cannot start: the workspace is in use by "
                        f"another process{holder}.",
                        hint="close that process, or wait for it to finish",
                    )
                raise SyncError(
                    f"The workspace service (pid {process.pid}) did not announce itself in "
                    f"time; it was asked to stop.{_tail(log_path, offset)}",
                    hint=f"see {log_path}",
                )
            time.sleep(_POLL)
        # It ended before announcing itself. When another process holds the workspace (a
        # service starting, or a command), wait for that one's announcement, or start again.
        tail = _tail(log_path, offset)
        if "in use by another process" in tail:
            until = min(deadline, time.monotonic() + pause)
            while time.monotonic() < until:
                found = _find(state_dir, workspace)
                if found is not None:
                    return found
                time.sleep(_POLL)
            pause = min(pause * 2, 1.0)
        found = _find(state_dir, workspace)
        if found is not None:
            return found
        if "in use by another process" in tail and time.monotonic() < deadline:
            continue
        raise SyncError(
            f"The workspace service exited before announcing itself (status "
            f"{process.returncode}).{tail}",
            hint=f"see {log_path}",
        )


def _spawn(
    repo_path: Path, workspace: str, idle_timeout: float, log_path: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "crdtspace",
        "-C",
        str(repo_path.absolute()),  # (a folder in the repository, or a file: as git -C does)
        "--workspace",
        workspace,
        "serve",
        "--port",
        "0",
        "--idle-timeout",
        repr(float(max(0.0, idle_timeout))),
    ]
    folder = repo_path.absolute()
    folder = folder if folder.is_dir() else folder.parent
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    package_root = str(Path(__file__).resolve().parents[2])  # this crdtspace, not another one
    paths = [package_root, *environment.get("PYTHONPATH", "").split(os.pathsep)]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if p))
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise StorageError(f"Cannot open the service log {log_path}: {exc}") from None
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,
            env=environment,
            cwd=str(folder),
        )
    except OSError as exc:
        raise SyncError(f"Cannot start the workspace service: {exc}") from None
    finally:
        os.close(fd)
    # Reaped whenever it ends, so that it never lingers as a zombie of this process.
    threading.Thread(target=process.wait, name="crdtspace-service-reaper", daemon=True).start()
    return process


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _keep_log_small(path: Path) -> None:
    if _size(path) > LOG_KEEP:
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(path.name + ".old"))


def _tail(path: Path, offset: int) -> str:
    """The last lines the service wrote to its log after `offset`, as a message's end."""
    try:
        with path.open("rb") as stream:
            stream.seek(offset if offset <= _size(path) else 0)
            text = stream.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line for line in text.splitlines() if line.strip()][-_LOG_TAIL_LINES:]
    return (" Its log ends:\n" + "\n".join(lines)) if lines else ""
