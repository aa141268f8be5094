"""The merge server: one long-lived process per git dir that merges files for the driver's client.

Started by `crdtspace.git.mergeclient` (``python -P -m crdtspace.git.mergeserver FOLDER
READY_FD IDLE``, detached, in ``/``), it listens on ``FOLDER/socket`` (mode 0600 in a 0700
folder), says so on READY_FD, imports the merge, and then answers one connection at a time,
in its main thread (the merge's timer signal and its forked child for large files work as in
the driver's own process). Each merge runs with the client's environment and working
directory (git's merge-file, which the merge runs, reads both), through the same
`crdtspace.git.mergejob.merge_versions` as the in-process driver: the same bytes, code and
report. The server never writes the repository's files: the client writes the result.

It exits after IDLE seconds without a request; when its socket is no longer at its path (the
repository was deleted, or a client replaced the server); after answering a client of another
crdtspace (``other``), or when its own source files changed on disk (``stale``: it was
upgraded); on SIGTERM; or when asked (``stop``). Leaving, it removes its socket if it is still
its own, then answers the connections already waiting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator

from crdtspace.git import mergeclient
from crdtspace.git.mergeclient import MAGIC, SOCKET, frame, unframe

__all__ = ["MergeServer", "main"]

TICK = 1.0
"""Seconds between checks that the socket is still this server's, while idle."""
REQUEST_TIMEOUT = 10.0
"""Seconds a client may take to send its request."""
LARGEST = 64 << 20
"""Bytes of the largest request read (three versions of a file the merge takes whole)."""


class MergeServer:
    """A listening socket in `folder` and the loop that answers merges on it."""

    def __init__(self, folder: str, idle: float) -> None:
        self.folder = folder
        self.idle = idle
        self.path = os.path.join(folder, SOCKET)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.inode: tuple[int, int] | None = None
        self.sources: dict[str, tuple[int, int]] = {}
        self.leaving = False
        self.closed = False

    def listen(self) -> None:
        """Bind the socket (0600, by its name inside the folder) and listen."""
        mask = os.umask(0o077)
        try:
            os.chdir(self.folder)
            self.sock.bind(SOCKET)
        finally:
            os.umask(mask)
            os.chdir("/")
        self.sock.listen(64)
        info = os.lstat(self.path)
        self.inode = (info.st_dev, info.st_ino)

    def warm(self) -> None:
        """Import what a merge needs, then note the source files' times (see `stale`)."""
        from crdtspace.conflicts import analysis, findings, semantics  # noqa: F401
        from crdtspace.git import mergecheck, mergedriver, mergejob  # noqa: F401
        from crdtspace.model import document, importing, links, replica, versions  # noqa: F401

        self.sources = _sources()

    def serve(self) -> None:
        """Answer requests until idle, replaced or told to stop; then leave."""
        last = time.monotonic()
        self.sock.settimeout(min(TICK, self.idle))
        try:
            while not self.leaving:
                try:
                    conn, _ = self.sock.accept()
                except TimeoutError:
                    if time.monotonic() - last >= self.idle or not self.mine():
                        break
                    continue
                with conn:
                    self.answer(conn)
                last = time.monotonic()
        finally:
            self.leave()

    def mine(self) -> bool:
        """Whether the socket at the path is still this server's."""
        try:
            info = os.lstat(self.path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == self.inode

    def leave(self) -> None:
        """Remove the socket if it is ours, answer the clients already waiting, close."""
        if self.closed:
            return
        self.closed = True
        if self.mine():
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.leaving = True
        self.sock.setblocking(False)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                break
            with conn:
                self.answer(conn)
        self.sock.close()

    def answer(self, conn: socket.socket) -> None:
        """Read one request from `conn` and answer it (a malformed one is dropped)."""
        try:
            conn.setblocking(True)
            conn.settimeout(REQUEST_TIMEOUT)
            if not _same_user(conn):
                return
            fields = unframe(_receive(conn))
            if fields is None or len(fields) < 3 or fields[0] != MAGIC:
                return
            reply = self.reply(fields[1], fields[2], fields[3:])
            conn.sendall(frame([MAGIC, *reply]))
        except OSError:
            return

    def reply(self, kind: bytes, key: bytes, fields: list[bytes]) -> list[bytes]:
        """The answer's fields after `MAGIC`: status, key, pid, code, data, report."""

        def say(status: bytes, code: int = 0, data: bytes = b"", text: bytes = b"") -> list[bytes]:
            return [status, mergeclient.KEY, b"%d" % os.getpid(), b"%d" % code, data, text]

        if key != mergeclient.KEY:
            self.leaving = True
            return say(b"other")
        if self.stale():
            self.leaving = True
            return say(b"stale")
        if kind == b"ping":
            return say(b"pong")
        if kind == b"stop":
            self.leaving = True
            return say(b"stopping")
        if kind != b"merge" or len(fields) != 8:
            return say(b"fallback")
        merged = _merge(*fields)
        if merged is None:
            return say(b"fallback")
        data, code, report = merged
        return say(b"merged", code, data, report)

    def stale(self) -> bool:
        """Whether a source file this server runs changed on disk since it started."""
        return _sources(self.sources) != self.sources


def _merge(
    cwd: bytes,
    env: bytes,
    path: bytes,
    marker_size: bytes,
    timeout: bytes,
    base: bytes,
    current: bytes,
    other: bytes,
) -> tuple[bytes, int, bytes] | None:
    """The merge of one request (data, exit code, report), or None: the client's own process
    must merge (the in-process driver's fallbacks: a version not text, an internal error)."""
    from crdtspace.git.mergejob import merge_versions

    try:
        size, seconds = int(marker_size), float(timeout)
    except ValueError:
        return None
    with _environment(env), _directory(os.fsdecode(cwd)):
        merged = merge_versions(
            base, current, other, os.fsdecode(path), marker_size=size, timeout=seconds
        )
    if isinstance(merged, str):
        return None
    report = "".join(line + "\n" for line in merged.report).encode("utf-8", "replace")
    return merged.data, merged.code, report


@contextlib.contextmanager
def _environment(raw: bytes) -> Iterator[None]:
    """The client's environment in place of this process's, for the time of one merge."""
    saved = dict(os.environb)
    given = dict(entry.partition(b"=")[::2] for entry in raw.split(b"\0") if b"=" in entry[1:])
    _replace_environment(given)
    try:
        yield
    finally:
        _replace_environment(saved)


def _replace_environment(values: dict[bytes, bytes]) -> None:
    for name in [n for n in os.environb if n not in values]:
        del os.environb[name]
    for name, value in values.items():
        if os.environb.get(name) != value:
            os.environb[name] = value


@contextlib.contextmanager
def _directory(cwd: str) -> Iterator[None]:
    """The client's working directory (git runs the driver at the repository's top), if it
    is still there; ``/`` again afterwards (a server holds no repository's folder)."""
    try:
        os.chdir(cwd)
    except OSError:
        os.chdir("/")
    try:
        yield
    finally:
        os.chdir("/")


def _receive(conn: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > LARGEST:
            return b""
        chunks.append(chunk)


def _same_user(conn: socket.socket) -> bool:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True  # (the folder's mode is the guard)
    raw = conn.getsockopt(socket.SOL_SOCKET, option, 12)
    return int.from_bytes(raw[4:8], sys.byteorder) == os.geteuid()


def _sources(known: dict[str, tuple[int, int]] | None = None) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every crdtspace module loaded and every grammar file, by path."""
    from crdtspace.model.languages import grammars_dir

    files = set(known or ())
    if known is None:
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if (name == "crdtspace" or name.startswith("crdtspace.")) and file:
                files.add(file)
        files.add(__file__)
        files.update(str(p) for p in grammars_dir().rglob("*") if p.is_file())
    out: dict[str, tuple[int, int]] = {}
    for file in files:
        try:
            info = os.stat(file)
        except OSError:
            continue
        out[file] = (info.st_mtime_ns, info.st_size)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m crdtspace.git.mergeserver FOLDER READY_FD IDLE``: run a server."""
    folder, ready, idle = argv if argv is not None else sys.argv[1:4]
    server = MergeServer(folder, float(idle))
    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        server.listen()
    except OSError as exc:
        print(f"crdtspace merge server: cannot listen in {folder}: {exc}", file=sys.stderr)
        return 1
    with contextlib.suppress(OSError):
        os.write(int(ready), b"1")
        os.close(int(ready))
    print(f"crdtspace merge server {os.getpid()}: listening in {folder}", file=sys.stderr)
    try:
        server.warm()
        server.serve()
    except SystemExit:
        pass
    finally:
        server.leave()
    print(f"crdtspace merge server {os.getpid()}: gone", file=sys.stderr)
    return 0


def _leave(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
