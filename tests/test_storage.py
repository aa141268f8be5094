"""The update log: round trips, compaction, torn tails, corruption, the lock, a real crash."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crdtspace.errors import CrdtspaceWarning, StorageError
from crdtspace.model import logscan
from crdtspace.model.logscan import MAGIC, scan_log
from crdtspace.model.storage import UpdateLog, _encode, repair_log
from tests.deadlines import output, read_line

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


def copies(directory: Path, kind: str) -> list[Path]:
    return sorted(directory.glob(f"updates.log.{kind}-*"))


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
        assert path.read_bytes() == whole[:cut]  # reading changes nothing
        log.append(b"new")
        log.close()
        assert load(tmp_path) == [*earlier, b"new"]
        [copy] = copies(tmp_path, "torn")
        assert copy.read_bytes() == whole[boundary:cut]
        copy.unlink()


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


def test_a_complete_last_record_failing_its_checksum_is_refused(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one", b"two", b"three"])
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # a flipped bit: the whole record is there, so a crash did not do this
    path.write_bytes(bytes(data))
    offset = len(data) - RECORD_HEADER - len(b"three")
    log = UpdateLog(tmp_path)
    with pytest.raises(StorageError, match=f"damaged at byte offset {offset}"):
        log.load()
    with pytest.raises(StorageError, match=f"damaged at byte offset {offset}"):
        log.append(b"four")
    log.close()
    assert path.read_bytes() == bytes(data)


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
    with pytest.raises(StorageError, match=f"damaged at byte offset {offset}") as info:
        log.load()
    log.close()
    assert info.value.hint is not None
    assert "backup" in info.value.hint
    assert "crdtspace repair" in info.value.hint
    assert path.read_bytes() == bytes(data)


def test_an_impossible_length_past_the_end_is_refused(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one"])
    with path.open("ab") as f:
        f.write(struct.pack("<II", (1 << 30) + 1, 0) + b"junk")
    before = path.read_bytes()
    log = UpdateLog(tmp_path)
    with pytest.raises(StorageError, match="impossible length"):
        log.load()
    log.close()
    assert path.read_bytes() == before


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
from crdtspace.model.storage import UpdateLog

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
    printed: list[int] = []
    try:
        while len(printed) <= lines:
            line = read_line(proc, "the next append acknowledged")
            if not line:
                break  # (it ended: the assertion below says so)
            printed.append(int(line))
    finally:
        proc.send_signal(signal.SIGKILL)
        stdout, stderr = output(proc, "the killed writer's last output", 30)
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


# -- torn or damaged: each shape, what load does, what repair keeps ---------------------------

SHAPE_RECORDS = [b"zero", b"one one", b"two two two", b"three"]


def offsets(items: list[bytes]) -> list[int]:
    """Where each record of a log of `items` starts."""
    starts, pos = [], len(MAGIC)
    for item in items:
        starts.append(pos)
        pos += RECORD_HEADER + len(item)
    return starts


def _torn_header(data: bytes) -> bytes:
    return data + struct.pack("<II", 40, 0)[:5]


def _torn_payload(data: bytes) -> bytes:
    return data + (struct.pack("<I", 40) + b"\x12\x34\x56\x78" + b"partial")


def _zero_tail(data: bytes) -> bytes:
    return data + bytes(300)


def _flip_last(data: bytes) -> bytes:
    return data[:-2] + bytes([data[-2] ^ 0x04]) + data[-1:]


def _flip_middle(data: bytes) -> bytes:
    at = offsets(SHAPE_RECORDS)[1] + RECORD_HEADER + 2
    return data[:at] + bytes([data[at] ^ 0x80]) + data[at + 1 :]


def _length_past_eof(data: bytes) -> bytes:
    at = offsets(SHAPE_RECORDS)[1]
    return data[:at] + struct.pack("<I", 5000) + data[at + 4 :]


def _garbage(data: bytes) -> bytes:
    return data + b"garbage appended by something that is not crdtspace"


# name: (corrupt, torn, offset of the damage, records load returns or repair keeps)
SHAPES = {
    "torn header": (_torn_header, True, None, SHAPE_RECORDS),
    "torn payload": (_torn_payload, True, None, SHAPE_RECORDS),
    "zero-filled tail": (_zero_tail, True, None, SHAPE_RECORDS),
    "flipped bit, last record": (_flip_last, False, 3, SHAPE_RECORDS[:3]),
    "flipped bit, middle record": (_flip_middle, False, 1, [SHAPE_RECORDS[i] for i in (0, 2, 3)]),
    "middle length past the end": (
        _length_past_eof,
        False,
        1,
        [SHAPE_RECORDS[i] for i in (0, 2, 3)],
    ),
    "garbage after the records": (_garbage, False, 4, SHAPE_RECORDS),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_is_dropped_as_torn_or_refused_at_its_offset(tmp_path: Path, shape: str) -> None:
    corrupt, torn, damaged, expected = SHAPES[shape]
    path = write_log(tmp_path, SHAPE_RECORDS)
    sound = path.read_bytes()
    data = corrupt(sound)
    path.write_bytes(data)
    log = UpdateLog(tmp_path)
    if torn:
        with pytest.warns(CrdtspaceWarning, match="torn"):
            result = log.load()
        assert result.records == expected
        assert result.dropped_bytes == len(data) - len(sound)
        assert path.read_bytes() == data  # reading changes nothing
        log.append(b"four")
        log.close()
        assert path.read_bytes().startswith(sound)
        assert load(tmp_path) == [*expected, b"four"]
        [copy] = copies(tmp_path, "torn")
        assert copy.read_bytes() == data[len(sound) :]
        return
    assert damaged is not None
    offset = [*offsets(SHAPE_RECORDS), len(sound)][damaged]
    with pytest.raises(StorageError, match=f"damaged at byte offset {offset}:") as info:
        log.load()
    assert info.value.hint is not None
    assert "crdtspace repair" in info.value.hint
    with pytest.raises(StorageError, match=f"byte offset {offset}:"):
        log.append(b"four")  # never written after damage
    log.close()
    assert path.read_bytes() == data
    assert copies(tmp_path, "*") == []


@pytest.mark.parametrize("shape", SHAPES)
def test_repair_keeps_every_valid_record_and_a_copy(tmp_path: Path, shape: str) -> None:
    corrupt, _, _, expected = SHAPES[shape]
    path = write_log(tmp_path, SHAPE_RECORDS)
    data = corrupt(path.read_bytes())
    path.write_bytes(data)
    dry = repair_log(tmp_path, dry_run=True)
    assert dry.dry_run
    assert dry.needed
    assert dry.copy is None
    assert path.read_bytes() == data
    assert copies(tmp_path, "damaged") == []
    report = repair_log(tmp_path)
    assert report.records == len(expected)
    assert [data[start + RECORD_HEADER : end] for start, end in report.kept] == expected
    assert report.dropped
    assert sum(d.size for d in report.dropped) + sum(e - s for s, e in report.kept) == (
        len(data) - len(MAGIC)
    )
    assert report.copy is not None
    assert report.copy.read_bytes() == data
    assert copies(tmp_path, "damaged") == [report.copy]
    assert load(tmp_path) == expected  # no warning: the log is sound now
    again = repair_log(tmp_path)
    assert not again.needed
    assert again.copy is None
    assert again.records == len(expected)


def test_repair_of_a_sound_or_missing_log(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no update log"):
        repair_log(tmp_path)
    write_log(tmp_path, [b"one", b"two"])
    report = repair_log(tmp_path)
    assert not report.needed
    assert report.records == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock", "updates.log"]


def test_repair_refuses_a_file_that_is_not_a_log_and_a_locked_workspace(tmp_path: Path) -> None:
    (tmp_path / "updates.log").write_bytes(b"NOPE, something else")
    with pytest.raises(StorageError, match="not a crdtspace update log"):
        repair_log(tmp_path)
    (tmp_path / "updates.log").unlink()
    holder = UpdateLog(tmp_path)
    holder.append(b"one")
    with pytest.raises(StorageError, match="in use"):
        repair_log(tmp_path)
    holder.close()


def test_a_torn_header_of_a_new_log_is_repaired_to_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "updates.log").write_bytes(MAGIC[:2])
    report = repair_log(tmp_path)
    assert [(d.start, d.end) for d in report.dropped] == [(0, 2)]
    assert (tmp_path / "updates.log").read_bytes() == b""
    assert report.copy is not None
    assert report.copy.read_bytes() == MAGIC[:2]


def test_compaction_keeps_a_copy_of_a_torn_tail(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"one", b"two"])
    path.write_bytes(path.read_bytes() + b"\x10\x00\x00")
    log = UpdateLog(tmp_path)
    with pytest.warns(CrdtspaceWarning):
        log.load()
    log.compact(b"snapshot")
    log.close()
    [copy] = copies(tmp_path, "torn")
    assert copy.read_bytes() == b"\x10\x00\x00"
    assert load(tmp_path) == [b"snapshot"]


def test_compaction_over_an_unread_damaged_log_keeps_a_copy(tmp_path: Path) -> None:
    path = write_log(tmp_path, SHAPE_RECORDS)
    damaged = _flip_middle(path.read_bytes())
    path.write_bytes(damaged)
    log = UpdateLog(tmp_path)
    log.compact(b"start over")  # what `crdtspace init --force` does
    log.close()
    [copy] = copies(tmp_path, "damaged")
    assert copy.read_bytes() == damaged
    assert load(tmp_path) == [b"start over"]
    log = UpdateLog(tmp_path)
    log.compact(b"and again")  # a sound log is replaced without a copy
    log.close()
    assert copies(tmp_path, "damaged") == [copy]


def test_a_torn_payload_is_searched_for_records_within_a_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = (struct.pack("<II", 16, 0) + b"not a record, no") * 50  # many plausible headers
    path = write_log(tmp_path, [b"one", payload])
    whole = path.read_bytes()
    cut = whole[:-10]
    assert scan_log(cut).status == "torn"
    # A length running past the end with valid records after it: damaged, found by resync.
    bad_length = whole[: len(MAGIC)] + struct.pack("<I", 1 << 20) + whole[len(MAGIC) + 4 :]
    scan = scan_log(bad_length)
    assert scan.status == "damaged"
    assert f"valid record starts at byte offset {len(MAGIC) + RECORD_HEADER + 3}" in scan.reason
    # A tail too long to search within the budget is refused, not guessed to be torn.
    monkeypatch.setattr(logscan, "_SEARCH_BUDGET", 100)
    path.write_bytes(cut)
    log = UpdateLog(tmp_path)
    with pytest.raises(StorageError, match="too many to rule out valid records"):
        log.load()
    log.close()
    assert path.read_bytes() == cut
    monkeypatch.undo()
    assert repair_log(tmp_path).records == 1
    assert load(tmp_path) == [b"one"]


# -- one random corruption of a random valid log --------------------------------------------


@st.composite
def corrupted_logs(draw: st.DrawFn) -> tuple[list[bytes], bytes, str, int]:
    """(records, corrupted bytes, kind, where): kind is "truncate" (at byte `where`), "flip"
    (a bit of byte `where`) or "length" (the length field of the record starting at `where`)."""
    items = draw(st.lists(st.binary(max_size=60), min_size=1, max_size=8))
    data = MAGIC + b"".join(_encode(item) for item in items)
    kind = draw(st.sampled_from(["truncate", "flip", "length"]))
    if kind == "truncate":
        where = draw(st.integers(len(MAGIC), len(data) - 1))
        return items, data[:where], kind, where
    if kind == "flip":
        where = draw(st.integers(0, len(data) - 1))
        bit = draw(st.integers(0, 7))
        return (
            items,
            data[:where] + bytes([data[where] ^ (1 << bit)]) + data[where + 1 :],
            kind,
            where,
        )
    where = draw(st.sampled_from(offsets(items)))
    value = draw(
        st.integers(0, (1 << 32) - 1).filter(lambda v: v != len(items[offsets(items).index(where)]))
    )
    return items, data[:where] + struct.pack("<I", value) + data[where + 4 :], kind, where


@settings(max_examples=300, deadline=None)
@given(case=corrupted_logs())
def test_one_corruption_never_yields_a_wrong_record(
    case: tuple[list[bytes], bytes, str, int],
) -> None:
    items, data, kind, where = case
    starts = offsets(items)
    hit = max(i for i, start in enumerate(starts) if start <= where) if where >= len(MAGIC) else -1
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "updates.log"
        path.write_bytes(data)
        log = UpdateLog(directory)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CrdtspaceWarning)
                result = log.load().records
        except StorageError:
            result = None
        finally:
            log.close()
        assert path.read_bytes() == data  # loading never changes the file
        if kind == "truncate":
            complete = sum(
                1 for i, s in enumerate(starts) if s + RECORD_HEADER + len(items[i]) <= where
            )
            assert result == items[:complete]
        elif result is not None:
            # Only a damaged length of the last record that runs past the end reads as torn:
            # those bytes are exactly what a crash during its write could have left.
            assert hit == len(items) - 1
            assert where < starts[hit] + 4
            assert result == items[:-1]
        if hit < 0:
            with pytest.raises(StorageError, match="not a crdtspace update log"):
                repair_log(directory)
            return
        repair_log(directory)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            repaired = load(directory)
        if kind == "truncate":
            assert repaired == items[:complete]
        else:
            assert repaired == items[:hit] + items[hit + 1 :]


def test_a_log_queues_for_the_lock_while_another_holds_it(tmp_path: Path) -> None:
    first = UpdateLog(tmp_path)
    first.append(b"one")
    threading.Timer(0.3, first.close).start()
    second = UpdateLog(tmp_path, wait=10)
    started = time.monotonic()
    assert second.load().records == [b"one"]  # got the lock once the first let it go
    assert 0.2 < time.monotonic() - started < 5
    second.append(b"two")
    second.close()
    assert load(tmp_path) == [b"one", b"two"]


def test_a_queued_log_gives_up_naming_the_holder(tmp_path: Path) -> None:
    first = UpdateLog(tmp_path)
    first.append(b"one")
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"in use by another process \(pid \d+: ") as info:
        UpdateLog(tmp_path, wait=0.3).load()
    assert time.monotonic() - started >= 0.25
    assert "waited 0.3 s" in info.value.message
    assert "CRDTSPACE_LOCK_WAIT" in (info.value.hint or "")
    first.close()
    assert load(tmp_path) == [b"one"]


def test_held_by_names_the_holder_without_taking_the_lock(tmp_path: Path) -> None:
    from crdtspace.model.storage import held_by

    assert held_by(tmp_path) is None  # no log at all
    log = UpdateLog(tmp_path)
    log.load()  # (the lock is taken on first use)
    try:
        holder = held_by(tmp_path)
        assert holder is not None
        assert f"(pid {os.getpid()}:" in holder
    finally:
        log.close()
    assert held_by(tmp_path) is None
    UpdateLog(tmp_path).close()  # (held_by took nothing: the log opens again)
