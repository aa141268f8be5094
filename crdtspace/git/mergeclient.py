"""The merge driver git runs: a small client of the merge server, with the in-process driver behind.

git starts the driver in a process of its own for every file both branches changed, and a
Python process that imports the merge (tree-sitter, pycrdt, the node model) pays 80-150 ms
before it merges anything. So `crdtspace.git.mergedriver.driver_command` registers this file,
run as ``python -I -S .../mergeclient.py %O %A %B %P %L``: it imports ``os``, ``sys`` and
``_socket`` only (the interpreter's start, about 7 ms), reads the three versions, and sends
them to the repository's merge server (`crdtspace.git.mergeserver`: one long-lived process per
git dir, started here on first use, gone after a minute without a merge) over a Unix socket.
The server merges them exactly as the in-process driver does and answers with the result,
the exit code and the report; the result goes into %A atomically (a temporary file beside it,
renamed over it). Nothing is written to %A before a complete answer.

Anything else runs today's in-process driver instead (``python -m crdtspace merge-driver``,
replacing this process, so its output and exit code are git's): no git dir, the kill switch
(``CRDTSPACE_MERGE_DRIVER=off``), ``CRDTSPACE_MERGE_SERVER=0``, a version that cannot be read,
something at the socket's path that is not our socket, a server that cannot start, does not
answer in time (it is killed: the next call starts a new one) or dies mid-merge.

Where: ``<git dir>/crdtspace/.merge/`` (mode 0700; a name no workspace can take) holds
``socket``, ``lock`` (held while a server starts, so that concurrent first calls start one)
and ``server.log``. The socket is reached from inside that folder (a chdir, then ``socket``),
so a repository however deep never meets AF_UNIX's path limit (108 bytes).

A server serves one crdtspace: the request names this file's package root and the python
(`KEY`); a server of another one answers ``other`` and exits, and one whose source files
changed on disk since it started answers ``stale`` and exits; either way a new one is started.

The protocol (`frame`, `unframe`): one request and one answer per connection, each a list of
byte strings, every one sent as its length in decimal, a newline, then the bytes; the request
ends where the client shuts its side down. A request is `MAGIC`, the kind (``merge``,
``ping``, ``stop``), the key, then for a merge: the working directory, the environment
(``NAME=value`` joined by NUL), the path, the marker size, the timeout, base, current, other.
An answer is `MAGIC`, a status (``merged``, ``fallback``, ``other``, ``stale``, ``pong``,
``stopping``), the server's key, its pid, the exit code, the merged bytes, the report.

Where a C compiler is, `crdtspace.git.nativeclient` builds ``mergeclient.c`` beside this file:
the same fast path without starting Python (the same request, the same checks, the same
atomic write), registered in front of this client, which it becomes for everything else. A
change here to the protocol, the key, `server_dir`, `_connect` or `write_atomic` is a change
there too (tests/test_nativeclient.py runs both on the same merges).

The module is also imported (by the server, `crdtspace.cli.gitdriver`, the tests and the
benchmark), for `frame`, `write_atomic`, `server_dir`, `ping` and `stop`.
"""

import _socket
import os
import sys

MAGIC = b"crdtspace-merge/1"
KILL_SWITCH = "CRDTSPACE_MERGE_DRIVER"
"""``off`` (or ``0``): the in-process driver, which then behaves exactly like git merge-file."""
SERVER_SWITCH = "CRDTSPACE_MERGE_SERVER"
"""``0`` (or ``off``): every merge in a process of its own, as before the server."""
IDLE_ENV = "CRDTSPACE_MERGE_SERVER_IDLE"
"""Seconds a server waits for its next merge before it exits (default `IDLE`)."""
IDLE = 60.0
TIMEOUT = 10.0
"""The merge's own timeout (= `crdtspace.cli.gitdriver.TIMEOUT`)."""
MARGIN = 10.0
"""Seconds past the merge's timeout the client waits for an answer: a cold server imports the
merge first, and one merge may be queued behind another of the same repository."""
START_TIMEOUT = 10.0
"""Seconds to wait for the server start lock, and for a new server to listen."""
CONNECT_TIMEOUT = 2.0
FOLDER = ".merge"
"""The server's folder, in ``<git dir>/crdtspace/`` (workspace names never start with a dot)."""
SOCKET, LOCK, LOG = "socket", "lock", "server.log"
LOG_KEEP = 1 << 20
"""A server.log over this many bytes is moved to server.log.old before the next start."""
OFF = ("off", "0", "false", "no")

HERE = os.path.realpath(__file__)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
"""The folder holding the package this file belongs to: the server and the fallback run it."""
SCRIPT = os.path.join(os.path.dirname(HERE), "drivercommand.py")
"""The file git runs (it imports this module from beside it: see its docstring)."""
KEY = b"\0".join([MAGIC, os.fsencode(ROOT), os.fsencode(sys.executable or "python3")])


class Refused(Exception):
    """Something at the socket's path or at its other end that is not our server."""


# -- the driver ------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """Merge as git's driver (`argv`: %O %A %B %P %L), through the server; the exit code.
    Whatever the server cannot do, the in-process driver does: this process becomes it."""
    try:
        return _drive(argv)
    except Exception:  # (never a traceback to git: the in-process driver instead)
        return fallback(argv)


def _drive(argv: list[str]) -> int:
    parsed = _arguments(argv)
    if parsed is None or _switched_off():
        return fallback(argv)
    base, current, other, path, marker_size = parsed
    try:
        versions = [_read(name) for name in (base, current, other)]
    except OSError:
        return fallback(argv)  # (it says which version, as it always did)
    cwd = os.getcwd()
    folder = server_dir(cwd)
    if folder is None:
        return fallback(argv)
    fields = [os.fsencode(cwd), _environment(), os.fsencode(path)]
    fields += [b"%d" % marker_size, repr(TIMEOUT).encode(), *versions]
    try:
        answer = ask(folder, b"merge", fields, TIMEOUT + MARGIN)
    except Refused as exc:
        _say(f"crdtspace: {exc}; merging in this process")
        return fallback(argv)
    if answer is None or answer[0] != b"merged" or answer[3] not in (b"0", b"1"):
        return fallback(argv)
    code = int(answer[3])
    try:
        write_atomic(current, answer[4])
    except OSError:
        return fallback(argv)  # (it says why the result cannot be written)
    # From here on, never the fallback: %A holds the result now, not our version.
    try:  # noqa: SIM105 (contextlib costs this process a millisecond)
        _write_all(2, answer[5])
    except OSError:
        pass
    return code


def _arguments(argv: list[str]) -> tuple[str, str, str, str, int] | None:
    if len(argv) != 5 or not argv[4].isdigit() or any(a.startswith("-") for a in argv[:3]):
        return None
    return argv[0], argv[1], argv[2], argv[3], int(argv[4])


def _switched_off() -> bool:
    switches = (KILL_SWITCH, SERVER_SWITCH)
    return any(os.environ.get(name, "").strip().lower() in OFF for name in switches)


def _read(name: str) -> bytes:
    fd = os.open(name, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _environment() -> bytes:
    return b"\0".join(k + b"=" + v for k, v in os.environb.items() if b"\0" not in k + v)


def _say(line: str) -> None:
    _write_all(2, (line + "\n").encode("utf-8", "replace"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fallback(argv: list[str]) -> int:
    """Become the in-process driver (``python -m crdtspace merge-driver``) on `argv`."""
    args = list(argv)
    if len(args) == 5 and args[4].isdigit():
        args[4:] = ["--marker-size", args[4]]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH", "")) if p)
    python = sys.executable or "python3"
    try:
        os.execve(python, [python, "-m", "crdtspace", "merge-driver", *args], env)
    except OSError as exc:
        _say(f"crdtspace: cannot run the merge driver: {exc}")
    return 2


# -- writing the result ----------------------------------------------------------------------


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the file at `path` (through a symbolic link) with `data`, atomically: a
    temporary file beside it, with its mode, renamed over it; nothing else is left behind."""
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.crdtspace-{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        try:  # noqa: SIM105 (contextlib costs this process a millisecond)
            os.unlink(temporary)
        except OSError:
            pass
        raise


# -- where the server is ---------------------------------------------------------------------


def git_dir(cwd: str) -> str | None:
    """The git dir of the repository git runs the driver in (its top, `cwd`): $GIT_DIR, else
    ``.git`` (a folder, or a worktree's file naming one), else `cwd` when it is a git dir."""
    named = os.environ.get("GIT_DIR")
    if named:
        return os.path.join(cwd, named)
    dotgit = os.path.join(cwd, ".git")
    if os.path.isdir(dotgit):
        return dotgit
    if os.path.isfile(dotgit):
        try:
            with open(dotgit, "rb") as stream:
                line = stream.read(4096).decode("utf-8", "surrogateescape").strip()
        except OSError:
            return None
        if line.startswith("gitdir:"):
            found = os.path.join(cwd, line[len("gitdir:") :].strip())
            return found if os.path.isdir(found) else None
        return None
    if os.path.isfile(os.path.join(cwd, "HEAD")) and os.path.isdir(os.path.join(cwd, "objects")):
        return cwd
    return None


def server_dir(cwd: str, *, create: bool = True) -> str | None:
    """The merge server's folder of the repository at `cwd` (created, mode 0700), or None:
    no git dir, or the folder is not a folder only this user can enter."""
    found = git_dir(cwd)
    if found is None:
        return None
    folder = os.path.join(os.path.abspath(found), "crdtspace", FOLDER)
    if create:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            return None
    try:
        info = os.lstat(folder)
        if info.st_mode & 0o170000 != 0o040000 or info.st_uid != os.geteuid():
            return None  # (a link, a file, someone else's: not followed, not used)
        if info.st_mode & 0o077:
            os.chmod(folder, 0o700)  # (ours: only we could have put anything in it)
    except OSError:
        return None
    return folder


# -- talking to it ---------------------------------------------------------------------------


def frame(fields: list[bytes]) -> bytes:
    """The fields as one message: each one's length in decimal, a newline, the bytes."""
    return b"".join(b"%d\n%s" % (len(field), field) for field in fields)


def unframe(data: bytes) -> list[bytes] | None:
    """The fields of a whole message, or None when it is not one (cut short, malformed)."""
    fields: list[bytes] = []
    at = 0
    while at < len(data):
        newline = data.find(b"\n", at, at + 21)
        digits = data[at:newline]
        if newline < 0 or not digits.isdigit():
            return None
        end = newline + 1 + int(digits)
        if end > len(data):
            return None
        fields.append(data[newline + 1 : end])
        at = end
    return fields


def ask(
    folder: str, kind: bytes, fields: list[bytes], timeout: float, *, start: bool = True
) -> list[bytes] | None:
    """The server's answer to a request (its fields after `MAGIC`: status, key, pid, code,
    data, report), starting a server when none runs (unless not `start`); None when there is
    no answer. A server of another crdtspace, or a stale one, is replaced once."""
    request = frame([MAGIC, kind, KEY, *fields])
    retire: int | None = None
    for _ in range(2):
        found = _connect(folder) if retire is None else None
        if found is None:
            if not start:
                return None
            found = _start(folder, retire)
            if found is None:
                return None
        sock, inode, pid = found
        answer = _exchange(sock, request, timeout, pid)
        if answer is None or answer[0] not in (b"other", b"stale"):
            return answer
        retire = inode
    return None


def _exchange(sock: _socket.socket, request: bytes, timeout: float, pid: int) -> list[bytes] | None:
    """Send `request`, read the answer: its fields after `MAGIC`; None when the server did
    not answer in time (it is killed) or died before answering; ``other`` when something
    still running answered what is not an answer of this protocol."""
    chunks: list[bytes] = []
    try:
        sock.settimeout(timeout)
        sock.sendall(request)
        sock.shutdown(_socket.SHUT_WR)
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        _kill(pid)  # (stuck: the next call starts a new one)
        return None
    except OSError:
        return None
    finally:
        sock.close()
    fields = unframe(b"".join(chunks))
    if fields is not None and len(fields) == 7 and fields[0] == MAGIC:
        return fields[1:]
    return [b"other", b"", b"%d" % pid, b"0", b"", b""] if _alive(pid) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # (not known here: taken as alive)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _kill(pid: int) -> None:
    if pid > 0:
        try:  # noqa: SIM105 (as above)
            os.kill(pid, 9)  # SIGKILL
        except OSError:
            pass


def _connect(folder: str) -> tuple[_socket.socket, int, int] | None:
    """A connection to the server listening in `folder` (with the socket's inode and the
    server's pid), or None when none listens. Refused when something else is there."""
    try:
        info = os.lstat(os.path.join(folder, SOCKET))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refused(f"cannot look at the merge server's socket: {exc}") from None
    if info.st_mode & 0o170000 != 0o140000 or info.st_uid != os.geteuid():
        raise Refused(f"{os.path.join(folder, SOCKET)} is not a socket of this user")
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        _connect_in(sock, folder)
    except OSError:
        sock.close()
        return None
    pid, uid = _peer(sock)
    if uid != os.geteuid():
        sock.close()
        raise Refused("the merge server's socket is held by another user")
    return sock, info.st_ino, pid


def _connect_in(sock: _socket.socket, folder: str) -> None:
    """Connect to the socket inside `folder` by its name there (no path length limit)."""
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(folder)
        sock.connect(SOCKET)
    finally:
        os.fchdir(here)
        os.close(here)


def _peer(sock: _socket.socket) -> tuple[int, int]:
    """(pid, uid) of the other end (Linux); elsewhere (0, this user), the folder's mode being
    the guard."""
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:
        return 0, os.geteuid()
    raw = sock.getsockopt(_socket.SOL_SOCKET, option, 12)
    return int.from_bytes(raw[0:4], sys.byteorder), int.from_bytes(raw[4:8], sys.byteorder)


# -- starting it -----------------------------------------------------------------------------


def _start(folder: str, retire: int | None) -> tuple[_socket.socket, int, int] | None:
    """Under the start lock: a server someone else just started, else a new one (what is at
    the socket's path removed first: a dead server's socket, or the one of `retire`)."""
    import fcntl  # (here: only a call that starts a server needs it)
    import time

    deadline = time.monotonic() + START_TIMEOUT
    try:
        lock = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return None
    try:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.005)
        path = os.path.join(folder, SOCKET)
        if retire is not None and _inode(path) == retire:
            _unlink(path)
        found = _connect(folder)
        if found is not None:
            return found
        _unlink(path)  # (a socket nobody listens on: `_connect` refuses anything else)
        if not _spawn(folder, deadline):
            return None
        return _connect(folder)
    finally:
        os.close(lock)


def _inode(path: str) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 (as above)
        os.unlink(path)
    except FileNotFoundError:
        pass


def idle_timeout() -> float:
    try:
        value = float(os.environ.get(IDLE_ENV, "") or IDLE)
    except ValueError:
        return IDLE
    return value if value > 0 else IDLE


def _spawn(folder: str, deadline: float) -> bool:
    """Start a server for `folder`, detached (its own session, no terminal, its output in
    server.log); whether it listens before `deadline`."""
    import time

    log = os.path.join(folder, LOG)
    try:
        if os.stat(log).st_size > LOG_KEEP:
            os.replace(log, log + ".old")
    except OSError:
        pass
    reader, writer = os.pipe()
    command = _server_command(folder, writer)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH", "")) if p)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child, then the server
        try:
            os.setsid()
            if os.fork() == 0:
                _become_server(command, env, log, writer)
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    os.set_blocking(reader, False)
    try:
        while time.monotonic() < deadline:
            try:
                said = os.read(reader, 1)
            except BlockingIOError:
                time.sleep(0.002)
                continue
            return said == b"1"  # (nothing: it ended before listening)
        return False
    finally:
        os.close(reader)


def _server_command(folder: str, ready: int) -> list[str]:
    python = sys.executable or "python3"
    idle = repr(idle_timeout())
    return [python, "-P", "-m", "crdtspace.git.mergeserver", folder, str(ready), idle]


def _become_server(command: list[str], env: dict[str, str], log: str, ready: int) -> None:
    """In the detached grandchild: standard streams to /dev/null and the log, no other file
    git gave the driver, then the server."""
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, ready)
        os.closerange(ready + 1, 1 << 16)
        os.set_inheritable(ready, True)
        os.chdir("/")
        os.execve(command[0], command, env)
    finally:
        os._exit(127)


# -- for the server's owner: tests, the benchmark -----------------------------------------------


def ping(cwd: str, *, start: bool = False) -> int | None:
    """The pid of the repository's merge server at `cwd` (started now when `start`), or None."""
    folder = server_dir(cwd, create=start)
    if folder is None:
        return None
    try:
        answer = ask(folder, b"ping", [], CONNECT_TIMEOUT + START_TIMEOUT, start=start)
    except Refused:
        return None
    return int(answer[2]) if answer is not None and answer[2].isdigit() else None


def stop(cwd: str) -> int | None:
    """Ask the repository's merge server at `cwd` to exit; its pid, or None if none runs."""
    folder = server_dir(cwd, create=False)
    if folder is None:
        return None
    try:
        answer = ask(folder, b"stop", [], CONNECT_TIMEOUT, start=False)
    except Refused:
        return None
    return int(answer[2]) if answer is not None and answer[2].isdigit() else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
