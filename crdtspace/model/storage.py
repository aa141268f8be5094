"""The durable state of a workspace: an append-only, crash-safe log of pycrdt updates.

::

    updates.log = b"CSL1" record*
    record      = length:u32le crc32(length + payload):u32le payload

The checksum covers the length too, so a run of zero bytes (what some filesystems leave after
a power loss) never reads as valid empty records.

Every append is fsynced before it returns. `compact` replaces the whole log atomically (temp
file, fsync, rename, fsync dir). One process at a time: a `flock` on the sibling file `lock`.

What a crash can leave, and what is refused
-------------------------------------------

`append_many` encodes its records into one buffer and hands it to one `write` on a file opened
with O_APPEND, then fsyncs; it returns only after the fsync. Only that last write can be
unfinished when the process dies or the power goes, so a crash leaves one of:

* a prefix of the buffer: whole records (valid, each with its own checksum), then one record
  cut short by the end of the file, in its header (fewer than 8 bytes) or in its payload (the
  length is a real length, at most MAX_RECORD, and the file ends before `start + 8 + length`);
* after a power loss on a filesystem that grew the file before writing its data: a run of zero
  bytes where the unwritten blocks are.

Nothing else. So the *torn tail* that `load` may drop is exactly: after the last valid record,
either only zero bytes, or a header cut short, or a plausible length running past the end of
the file with no valid record anywhere in the bytes after its start (we resynchronise: scan
forward for a header whose checksum holds and whose record fits; finding one means records
follow, so the middle is damaged, not torn; `load` checksums at most 256 MiB in that search and
refuses a tail too long to search rather than guess). Every other shape is damage a crash
cannot make (a flipped bit, an overwritten length, garbage appended) and is refused with its
byte offset (`StorageError`): a complete last record (its whole length present) whose checksum
fails, any failing record with more data after it, an impossible length, a length running past
the end of the file while a valid record follows. A complete record may have been acknowledged
(its fsync returned), so it is never dropped silently; that includes a last record a power loss
left complete in length with zero-filled pages, which is refused too: it cannot be told apart
from a flipped bit. `repair_log` (`crdtspace repair`) deals with damage: it keeps every valid
record before and, by resynchronising, after it, and keeps a copy of the original file first.

Reading never changes the log. A torn tail is ignored with a warning (`CrdtspaceWarning`) and
cut off by the next write to the log, which first keeps the dropped bytes beside it in
`updates.log.torn-<timestamp>`. A compaction over a log this process has not read keeps a copy
of it (`updates.log.damaged-<timestamp>`) if it is not a sound log.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import sys
import time
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from crdtspace.errors import CrdtspaceWarning, StorageError
from crdtspace.model.logscan import MAGIC, MAX_RECORD, DroppedRange, salvage, scan_log

LOG_NAME = "updates.log"
LOCK_NAME = "lock"
LOCK_POLL_MIN = 0.005
LOCK_POLL_MAX = 0.1
"""Seconds between tries for a lock another process holds: doubled from the first to the second."""

_RESTORE_HINT = (
    "restore the directory from a backup, or rebuild it from git with `crdtspace init --force`"
)
_REPAIR_HINT = (
    "run `crdtspace repair` to keep every valid record (it keeps a copy of the file first), "
    "or restore the directory from a backup"
)


@dataclass(frozen=True)
class LoadResult:
    """The records of a log, and what was dropped to read them."""

    records: list[bytes]
    dropped_bytes: int
    """The bytes of a torn tail after the records (left in the file until the next write)."""
    warnings: list[str]


@dataclass(frozen=True)
class RepairReport:
    """What `repair_log` kept and dropped (or would, with `dry_run`)."""

    path: Path
    original_size: int
    kept: list[tuple[int, int]]
    """The byte range of every record kept, in order."""
    dropped: list[DroppedRange] = field(default_factory=list)
    copy: Path | None = None
    """The copy of the original file (None when nothing was rewritten)."""
    dry_run: bool = False

    @property
    def needed(self) -> bool:
        """Whether the log had anything to drop."""
        return bool(self.dropped)

    @property
    def records(self) -> int:
        return len(self.kept)


def repair_log(directory: Path, *, dry_run: bool = False) -> RepairReport:
    """Rewrite a damaged or torn log of `directory` to its valid records (see
    `UpdateLog.repair`)."""
    with UpdateLog(directory) as log:
        return log.repair(dry_run=dry_run)


class UpdateLog:
    """`directory / "updates.log"`: nothing is created until the first write."""

    def __init__(self, directory: Path, *, wait: float = 0.0) -> None:
        self.directory = Path(directory)
        self.wait = wait
        """Seconds to queue for the lock while another process holds it (0: fail at once)."""
        self.path = self.directory / LOG_NAME
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._checked = False
        """True once the file on disk is known to hold `_count` records up to `_size`, then
        `_torn` bytes of a torn tail (cut off, with a copy kept, by the next write)."""
        self._size = 0
        self._count = 0
        self._torn = 0

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Every record in order. A torn last record is ignored with a warning (the file is
        left as is until the next write); any other damage is a `StorageError` with its byte
        offset, and the file is left alone."""
        if not self.directory.is_dir():
            self._size, self._count, self._torn = 0, 0, 0
            return LoadResult([], 0, [])
        self._lock()
        self._remove_stale_tmp()
        data = self._read()
        if data is None:
            self._checked, self._size, self._count, self._torn = True, 0, 0, 0
            return LoadResult([], 0, [])
        scan = scan_log(data)
        if scan.status == "foreign":
            raise self._not_a_log()
        if scan.status == "damaged":
            raise self._corrupt(scan.end, scan.reason)
        messages: list[str] = []
        dropped = len(data) - scan.end
        if dropped:
            message = (
                f"Ignored a torn last record of {self.path} ({dropped} bytes at byte offset "
                f"{scan.end}: {scan.reason}); the process writing it was interrupted before it "
                f"finished. The next write cuts it off, keeping a copy in {LOG_NAME}.torn-*."
            )
            warnings.warn(message, CrdtspaceWarning, stacklevel=2)
            messages.append(message)
        self._checked, self._size, self._count = True, scan.end, len(scan.records)
        self._torn = dropped
        return LoadResult(scan.records, dropped, messages)

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
        """Atomically replace the whole log by the single record `snapshot`. A torn tail is
        kept in a copy first; so is a whole log this process has not read, unless sound."""
        data = MAGIC + _encode(snapshot)
        self._make_directory()
        self._lock()
        self._close_fd()
        if self._checked:
            self._keep_torn_tail()
        else:
            self._keep_unsound_log()
        self._replace(data, "compact")
        self._checked, self._size, self._count, self._torn = True, len(data), 1, 0

    def repair(self, *, dry_run: bool = False) -> RepairReport:
        """Rewrite the log to its valid records: every one before the first damage and, by
        resynchronising (the next offset where a record's checksum holds), every one after
        it; a torn tail is dropped too. A copy of the whole original file is written first
        (`updates.log.damaged-<timestamp>`), then the log is replaced atomically. A sound log
        is left alone. With `dry_run`, only says what it would do."""
        missing = StorageError(
            f"There is no update log at {self.path}.", hint="run `crdtspace init` first"
        )
        if not self.directory.is_dir():
            raise missing
        self._lock()
        self._remove_stale_tmp()
        self._close_fd()
        self._checked = False
        data = self._read()
        if data is None:
            raise missing
        scan = scan_log(data)
        if scan.status == "foreign":
            raise self._not_a_log()
        if len(data) < len(MAGIC):
            kept: list[tuple[int, int]] = []
            dropped = [DroppedRange(0, len(data), scan.reason)] if data else []
        else:
            kept, dropped = salvage(data)
        report = RepairReport(self.path, len(data), kept, dropped, dry_run=dry_run)
        if not dropped or dry_run:
            return report
        copy = self._keep_copy(data, "damaged")
        if len(data) < len(MAGIC):
            repaired = b""
        else:
            repaired = MAGIC + b"".join(data[start:end] for start, end in kept)
        self._replace(repaired, "repair")
        self._checked, self._size, self._count, self._torn = True, len(repaired), len(kept), 0
        return RepairReport(self.path, len(data), kept, dropped, copy=copy)

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

    def _read(self) -> bytes | None:
        """The whole file, or None when there is none."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise self._error("read", e) from e

    def _open_for_append(self) -> int:
        if self._fd is not None:
            return self._fd
        self._make_directory()
        self._lock()
        if not self._checked:
            self.load()  # never append after damage or a torn tail
        if self._torn:
            self._cut_torn_tail()
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

    def _keep_torn_tail(self) -> None:
        """Copy the torn tail found by `load` beside the log (before it is cut or replaced)."""
        if not self._torn:
            return
        try:
            with open(self.path, "rb") as f:
                f.seek(self._size)
                tail = f.read()
        except OSError as e:
            raise self._error("read the torn tail of", e) from e
        if tail:
            self._keep_copy(tail, "torn")

    def _cut_torn_tail(self) -> None:
        """Cut the torn tail found by `load` off the log, keeping a copy of it first."""
        self._keep_torn_tail()
        try:
            with open(self.path, "r+b") as f:
                f.truncate(self._size)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            self._checked = False
            raise self._error("truncate the torn tail of", e) from e
        self._torn = 0

    def _keep_unsound_log(self) -> None:
        """Before replacing a log this process has not read: keep a copy unless it is sound."""
        data = self._read()
        if data and scan_log(data).status != "sound":
            self._keep_copy(data, "damaged")

    def _keep_copy(self, data: bytes, kind: str) -> Path:
        """Write `data` durably to a new file `updates.log.<kind>-<UTC timestamp>[-n]`."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for attempt in range(1, 1000):
            suffix = "" if attempt == 1 else f"-{attempt}"
            copy = self.path.with_name(f"{LOG_NAME}.{kind}-{stamp}{suffix}")
            try:
                fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                continue
            except OSError as e:
                raise self._error("keep a copy of", e) from e
            try:
                try:
                    _write_all(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                _fsync_dir(self.directory)
            except OSError as e:
                copy.unlink(missing_ok=True)
                raise self._error("keep a copy of", e) from e
            return copy
        raise StorageError(f"Could not find a free name for a copy of {self.path}.")

    def _replace(self, data: bytes, action: str) -> None:
        """Atomically make `data` the whole log (temp file, fsync, rename, fsync dir)."""
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
            raise self._error(action, e) from e

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
        deadline = time.monotonic() + max(0.0, self.wait)
        pause = LOCK_POLL_MIN
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise self._error("lock", e) from e
                if time.monotonic() + pause > deadline:
                    holder = _holder(fd)
                    os.close(fd)
                    waited = f" (waited {self.wait:g} s)" if self.wait > 0 else ""
                    raise StorageError(
                        f"The workspace at {self.directory} is in use by another process"
                        f"{holder}{waited}.",
                        hint="close the other crdtspace process, or wait for it to finish"
                        if not waited
                        else "wait longer (CRDTSPACE_LOCK_WAIT=SECONDS), or stop that process",
                    ) from e
                time.sleep(pause)
                pause = min(pause * 2, LOCK_POLL_MAX)
        self._lock_fd = fd
        _note_holder(fd)

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
            f"The update log {self.path} is damaged at byte offset {offset}: {what}. "
            "Nothing was changed.",
            hint=_REPAIR_HINT,
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


def _note_holder(fd: int) -> None:
    """Write who holds the lock into the lock file (for the message of those who wait)."""
    program = os.path.basename(sys.argv[0]) if sys.argv else "python"
    if program in ("__main__.py", "-m"):  # (`python -m crdtspace ...`)
        program = "crdtspace"
    command = " ".join([program, *sys.argv[1:]])[:160]
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {command}\n".encode(errors="replace"), 0)


def held_by(directory: Path) -> str | None:
    """Who holds the workspace log in `directory` (`` (pid N: COMMAND)``, or "" when the lock
    file does not say), or None when nobody does. Takes nothing: a lock it gets is let go."""
    try:
        fd = os.open(Path(directory) / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """The holder named in the lock file (` (pid N: COMMAND)`), or "" when it says nothing."""
    with contextlib.suppress(OSError, ValueError):
        pid, _, command = os.pread(fd, 512, 0).decode(errors="replace").strip().partition(" ")
        if pid.isdigit():
            return f" (pid {int(pid)}: {command.strip() or 'unknown'})"
    return ""
