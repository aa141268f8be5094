"""The durable state of a workspace: an append-only, crash-safe log of pycrdt updates.

::

    updates.log = b"CSL1" record*
    record      = length:u32le crc32(length + payload):u32le payload

The checksum covers the length too, so a run of zero bytes (what some filesystems leave after
a power loss) never reads as valid empty records.

Every append is fsynced before it returns. A crash can only tear the last record, which the next
`load` drops (with a warning) and truncates away; a bad checksum anywhere else is corruption and
is refused. `compact` replaces the whole log atomically (temp file, fsync, rename, fsync dir).
One process at a time: a `flock` on the sibling file `lock`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from crdtspace.errors import CrdtspaceWarning, StorageError

MAGIC = b"CSL1"
HEADER = struct.Struct("<II")
MAX_RECORD = 1 << 30
"""A length above this (1 GiB) is corruption, never a record."""

LOG_NAME = "updates.log"
LOCK_NAME = "lock"

_RESTORE_HINT = (
    "restore the directory from a backup, or rebuild it from git with `crdtspace init --force`"
)


@dataclass(frozen=True)
class LoadResult:
    """The records of a log, and what was dropped to read them."""

    records: list[bytes]
    dropped_bytes: int
    warnings: list[str]


class UpdateLog:
    """`directory / "updates.log"`: nothing is created until the first write."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._checked = False
        """True once the file on disk is known to end on a record boundary at `_size`."""
        self._size = 0
        self._count = 0

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Every record in order; a torn last record is dropped, truncated away and warned about."""
        if not self.directory.is_dir():
            self._size, self._count = 0, 0
            return LoadResult([], 0, [])
        self._lock()
        self._remove_stale_tmp()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self._checked, self._size, self._count = True, 0, 0
            return LoadResult([], 0, [])
        except OSError as e:
            raise self._error("read", e) from e
        records: list[bytes] = []
        end = 0
        if len(data) < len(MAGIC):
            if not MAGIC.startswith(data):
                raise self._not_a_log()
        else:
            if data[: len(MAGIC)] != MAGIC:
                raise self._not_a_log()
            records, end = self._parse(data)
        messages: list[str] = []
        dropped = len(data) - end
        if dropped:
            message = (
                f"Dropped a torn last record ({dropped} bytes at byte offset {end}) of "
                f"{self.path}; the process writing it was interrupted before it finished."
            )
            self._truncate(end)
            warnings.warn(message, CrdtspaceWarning, stacklevel=2)
            messages.append(message)
        self._checked, self._size, self._count = True, end, len(records)
        return LoadResult(records, dropped, messages)

    def _parse(self, data: bytes) -> tuple[list[bytes], int]:
        """The records of `data` (which starts with MAGIC), and where the last good one ends."""
        records: list[bytes] = []
        pos, size = len(MAGIC), len(data)
        while pos < size:
            if size - pos < HEADER.size:
                break  # a torn length header
            length, crc = HEADER.unpack_from(data, pos)
            start = pos + HEADER.size
            stop = start + length
            if stop > size:
                break  # runs past the end: torn
            if length > MAX_RECORD:
                raise self._corrupt(pos, f"record {len(records)} has an impossible length")
            payload = data[start:stop]
            if zlib.crc32(payload, zlib.crc32(data[pos : pos + 4])) != crc:
                if stop == size or not data[pos:].strip(b"\0"):
                    break  # the last record cut short by a crash, or zeros left by a power loss
                raise self._corrupt(
                    pos, f"record {len(records)} fails its checksum and more records follow it"
                )
            records.append(payload)
            pos = stop
        return records, pos

    def __len__(self) -> int:
        """The number of records in the file (as of the last load, append or compact)."""
        return self._count

    def __bool__(self) -> bool:
        return True  # an empty log is still a log

    # -- writing ---------------------------------------------------------------------------

    def append(self, record: bytes) -> None:
        """Append one record; it is on disk when this returns."""
        self.append_many([record])

    def append_many(self, records: Sequence[bytes]) -> None:
        """Append several records with one write and one fsync."""
        if not records:
            return
        buffer = b"".join(_encode(record) for record in records)
        fd = self._open_for_append()
        if self._size == 0:
            buffer = MAGIC + buffer
        try:
            _write_all(fd, buffer)
            os.fsync(fd)
        except OSError as e:
            self._abandon_write()
            raise self._error("append to", e) from e
        self._size += len(buffer)
        self._count += len(records)

    def compact(self, snapshot: bytes) -> None:
        """Atomically replace the whole log by the single record `snapshot`."""
        data = MAGIC + _encode(snapshot)
        self._make_directory()
        self._lock()
        self._close_fd()
        tmp = self._tmp_path()
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.directory)
        except OSError as e:
            self._checked = False
            tmp.unlink(missing_ok=True)
            raise self._error("compact", e) from e
        self._checked, self._size, self._count = True, len(data), 1

    def close(self) -> None:
        """Release the file handle and the lock (idempotent)."""
        self._close_fd()
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            os.close(fd)  # closing the only descriptor releases the flock
        self._checked = False

    def __del__(self) -> None:
        # A log dropped without close() (say, an open that raised) must not keep the workspace
        # locked for the rest of the process. Silent: a ResourceWarning here is not actionable.
        if getattr(self, "_lock_fd", None) is not None or getattr(self, "_fd", None) is not None:
            self.close()

    def __enter__(self) -> UpdateLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _open_for_append(self) -> int:
        if self._fd is not None:
            return self._fd
        self._make_directory()
        self._lock()
        if not self._checked:
            self.load()  # never append after a torn tail
        existed = self.path.exists()
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC)
            self._size = os.fstat(self._fd).st_size
            if not existed:
                _fsync_dir(self.directory)
        except OSError as e:
            self._close_fd()
            raise self._error("open", e) from e
        return self._fd

    def _abandon_write(self) -> None:
        """After a failed write: cut a partial record off, or make the next append re-check."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, self._size)
                os.fsync(self._fd)
            except OSError:
                self._checked = False
        self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                self._checked = False

    def _make_directory(self) -> None:
        missing: list[Path] = []
        parent = self.directory
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        if not missing:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for created in reversed(missing):
                _fsync_dir(created.parent)
        except OSError as e:
            raise self._error("create the directory for", e) from e

    def _lock(self) -> None:
        if self._lock_fd is not None:
            return
        lock_path = self.directory / LOCK_NAME
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise self._error("create the lock file of", e) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StorageError(
                    f"The workspace at {self.directory} is in use by another process.",
                    hint="close the other crdtspace process, or wait for it to finish",
                ) from e
            raise self._error("lock", e) from e
        self._lock_fd = fd

    def _truncate(self, size: int) -> None:
        try:
            with open(self.path, "r+b") as f:
                f.truncate(size)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise self._error("truncate the torn tail of", e) from e

    def _tmp_path(self) -> Path:
        return self.path.with_name(LOG_NAME + ".tmp")

    def _remove_stale_tmp(self) -> None:
        """A compaction that crashed before its rename leaves a temp file; we hold the lock."""
        with contextlib.suppress(OSError):
            self._tmp_path().unlink(missing_ok=True)

    def _error(self, action: str, e: OSError) -> StorageError:
        reason = e.strerror or str(e)
        return StorageError(
            f"Could not {action} the update log {self.path}: {reason}.",
            hint="check free disk space and permissions of the .git directory",
        )

    def _not_a_log(self) -> StorageError:
        return StorageError(
            f"{self.path} is not a crdtspace update log (it does not start with {MAGIC!r}).",
            hint=_RESTORE_HINT,
        )

    def _corrupt(self, offset: int, what: str) -> StorageError:
        return StorageError(
            f"The update log {self.path} is corrupt at byte offset {offset}: {what}.",
            hint=_RESTORE_HINT,
        )


def _encode(record: bytes) -> bytes:
    if len(record) > MAX_RECORD:
        raise StorageError(
            f"An update of {len(record)} bytes is too large for the update log (limit 1 GiB).",
            hint="split the change into smaller edits",
        )
    length = struct.pack("<I", len(record))
    return length + struct.pack("<I", zlib.crc32(record, zlib.crc32(length))) + record


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
