"""The update log: round trips, compaction, torn tails, corruption, the lock, a real crash."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.errors import CrdtspaceWarning, StorageError
from crdtspace.storage import MAGIC, UpdateLog

ROOT = Path(__file__).resolve().parents[1]
RECORD_HEADER = 8


def records(n: int) -> list[bytes]:
    return [f"record {i} ".encode() * (i % 7 + 1) for i in range(n)]


def write_log(directory: Path, items: list[bytes]) -> Path:
    log = UpdateLog(directory)
    log.append_many(items)
    log.close()
    return log.path


def load(directory: Path) -> list[bytes]:
    log = UpdateLog(directory)
    try:
        return log.load().records
    finally:
        log.close()


def test_missing_log_loads_empty_and_creates_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "default"
    log = UpdateLog(directory)
    result = log.load()
    log.close()
    assert result.records == []
    assert result.dropped_bytes == 0
    assert result.warnings == []
    assert not directory.exists()
    assert log.path == directory / "updates.log"


def test_round_trip_append_and_append_many(tmp_path: Path) -> None:
    items = records(50)
    log = UpdateLog(tmp_path / "a" / "b")
    for item in items[:20]:
        log.append(item)
    log.append_many(items[20:45])
    log.append_many([])
    log.append(items[45])
    log.append_many(items[46:])
    assert len(log) == 50
    log.close()
    assert log.path.read_bytes().startswith(MAGIC)
    reopened = UpdateLog(tmp_path / "a" / "b")
    result = reopened.load()
    assert result.records == items
    assert len(reopened) == 50
    reopened.append(b"more")
    reopened.close()
    assert load(tmp_path / "a" / "b") == [*items, b"more"]


def test_empty_records_round_trip(tmp_path: Path) -> None:
    write_log(tmp_path, [b"", b"x", b""])
    assert load(tmp_path) == [b"", b"x", b""]


def test_append_after_load_without_reopening(tmp_path: Path) -> None:
    write_log(tmp_path, [b"one"])
    log = UpdateLog(tmp_path)
    assert log.load().records == [b"one"]
    log.append(b"two")
    assert log.load().records == [b"one", b"two"]
    log.close()


def test_compact_replaces_everything_with_one_record(tmp_path: Path) -> None:
    log = UpdateLog(tmp_path)
    log.append_many(records(10))
    log.compact(b"snapshot")
    assert len(log) == 1
    log.append(b"after")
    log.append_many([b"and", b"more"])
    log.close()
    assert load(tmp_path) == [b"snapshot", b"after", b"and", b"more"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock", "updates.log"]


def test_compact_creates_a_new_log(tmp_path: Path) -> None:
    log = UpdateLog(tmp_path / "new")
    log.compact(b"snapshot")
    log.append(b"next")
    log.close()
    assert load(tmp_path / "new") == [b"snapshot", b"next"]


def test_stale_compaction_temp_file_is_ignored(tmp_path: Path) -> None:
    write_log(tmp_path, [b"kept"])
    (tmp_path / "updates.log.tmp").write_bytes(b"half a snapshot")
    assert load(tmp_path) == [b"kept"]
    assert not (tmp_path / "updates.log.tmp").exists()


def test_torn_tail_at_every_cut_is_dropped_and_later_appends_are_sane(tmp_path: Path) -> None:
    earlier = records(3)
    last = b"the last record, cut short"
    path = write_log(tmp_path, [*earlier, last])
    whole = path.read_bytes()
    boundary = len(whole) - RECORD_HEADER - len(last)
    for cut in range(boundary + 1, len(whole)):
        path.write_bytes(whole[:cut])
        log = UpdateLog(tmp_path)
        with pytest.warns(CrdtspaceWarning, match="torn"):
            result = log.load()
        assert result.records == earlier, cut
        assert result.dropped_bytes == cut - boundary
        assert len(result.warnings) == 1
        assert path.stat().st_size == boundary
        log.append(b"new")
        log.close()
        assert load(tmp_path) == [*earlier, b"new"]


def test_torn_header_of_a_new_log(tmp_path: Path) -> None:
    path = tmp_path / "updates.log"
    for cut in range(1, len(MAGIC)):
        path.write_bytes(MAGIC[:cut])
        log = UpdateLog(tmp_path)
        with pytest.warns(CrdtspaceWarning):
            assert log.load().records == []
        log.append(b"first")
        log.close()
        assert load(tmp_path) == [b"first"]


def test_append_without_load_drops_a_torn_tail_first(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one", b"two"])
    path.write_bytes(path.read_bytes()[:-1])
    log = UpdateLog(tmp_path)
    with pytest.warns(CrdtspaceWarning):
        log.append(b"three")
    log.close()
    assert load(tmp_path) == [b"one", b"three"]


def test_corrupt_last_record_crc_is_dropped_with_a_warning(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one", b"two", b"three"])
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    log = UpdateLog(tmp_path)
    with pytest.warns(CrdtspaceWarning):
        result = log.load()
    log.close()
    assert result.records == [b"one", b"two"]
    assert result.dropped_bytes == RECORD_HEADER + len(b"three")


def test_a_tail_of_zero_bytes_is_not_read_as_empty_records(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one", b"two"])
    path.write_bytes(path.read_bytes() + bytes(64))  # what a power loss can leave behind
    log = UpdateLog(tmp_path)
    with pytest.warns(CrdtspaceWarning):
        result = log.load()
    log.close()
    assert result.records == [b"one", b"two"]


def test_corrupt_middle_record_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one", b"two", b"three"])
    data = bytearray(path.read_bytes())
    offset = len(MAGIC) + RECORD_HEADER + len(b"one")
    data[offset + RECORD_HEADER] ^= 0xFF  # first payload byte of "two"
    path.write_bytes(bytes(data))
    log = UpdateLog(tmp_path)
    with pytest.raises(StorageError, match=f"corrupt at byte offset {offset}") as info:
        log.load()
    log.close()
    assert info.value.hint is not None
    assert "backup" in info.value.hint
    assert path.read_bytes() == bytes(data)


def test_impossible_length_past_the_end_is_a_torn_tail(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one"])
    with path.open("ab") as f:
        f.write(struct.pack("<II", (1 << 30) + 1, 0) + b"junk")
    log = UpdateLog(tmp_path)
    with pytest.warns(CrdtspaceWarning):
        assert log.load().records == [b"one"]
    log.close()


def test_wrong_magic_is_refused(tmp_path: Path) -> None:
    (tmp_path / "updates.log").write_bytes(b"NOPE and more")
    log = UpdateLog(tmp_path)
    with pytest.raises(StorageError, match="not a crdtspace update log"):
        log.load()
    log.close()
    (tmp_path / "updates.log").write_bytes(b"XY")
    with pytest.raises(StorageError, match="not a crdtspace update log"):
        UpdateLog(tmp_path).load()


def test_second_log_on_the_same_directory_is_locked_out(tmp_path: Path) -> None:
    first = UpdateLog(tmp_path)
    first.append(b"one")
    second = UpdateLog(tmp_path)
    with pytest.raises(StorageError, match="in use by another process") as info:
        second.load()
    assert info.value.hint == "close the other crdtspace process, or wait for it to finish"
    with pytest.raises(StorageError, match="in use"):
        second.append(b"two")
    first.close()
    first.close()  # idempotent
    assert second.load().records == [b"one"]
    second.append(b"two")
    with pytest.raises(StorageError, match="in use"):
        UpdateLog(tmp_path).compact(b"x")
    second.close()
    assert load(tmp_path) == [b"one", b"two"]


def test_a_dropped_log_releases_its_lock(tmp_path: Path) -> None:
    UpdateLog(tmp_path).append(b"one")  # never closed
    with UpdateLog(tmp_path) as log:
        assert log.load().records == [b"one"]


def test_write_errors_become_storage_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="Could not") as info:
        UpdateLog(blocker / "state").append(b"x")
    assert str(blocker) in str(info.value)


def test_a_failed_write_leaves_no_partial_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = UpdateLog(tmp_path)
    log.append(b"one")
    real_write = os.write

    def half_then_full(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[:5]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(StorageError, match="No space left on device"):
        log.append(b"two")
    monkeypatch.undo()
    log.append(b"three")
    log.close()
    assert load(tmp_path) == [b"one", b"three"]


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.binary(max_size=2000), max_size=20),
    splits=st.lists(st.integers(min_value=0, max_value=5), max_size=20),
)
def test_any_records_round_trip_with_any_split(items: list[bytes], splits: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = UpdateLog(Path(tmp))
        rest = list(items)
        for size in splits:
            if size == 1 and rest:
                log.append(rest.pop(0))
            else:
                log.append_many(rest[:size])
                del rest[:size]
        log.append_many(rest)
        assert len(log) == len(items)
        log.close()
        assert load(Path(tmp)) == items


WRITER = """
import sys
from pathlib import Path
from crdtspace.storage import UpdateLog

log = UpdateLog(Path(sys.argv[1]))
i = len(log.load().records)
while True:
    log.append(b"%d:" % i + b"x" * (i % 50 * 997))
    print(i, flush=True)
    i += 1
"""


def crash_writer(directory: Path, lines: int) -> int:
    """Run WRITER until it has acknowledged `lines` appends, SIGKILL it; the last index printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    printed: list[int] = []
    try:
        for line in proc.stdout:
            printed.append(int(line))
            if len(printed) > lines:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate()
    assert len(printed) > lines, stderr.decode()
    return max(printed + [int(line) for line in stdout.split()])


def test_sigkill_loses_no_acknowledged_record(tmp_path: Path) -> None:
    acknowledged = -1
    for _ in range(3):  # each writer starts from what its killed predecessor left
        acknowledged = crash_writer(tmp_path, 30)
        log = UpdateLog(tmp_path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = log.load()
        log.close()
        assert all(issubclass(w.category, CrdtspaceWarning) for w in caught)
        assert len(result.records) > acknowledged
        for i, record in enumerate(result.records):
            assert record == b"%d:" % i + b"x" * (i % 50 * 997)
