"""Restoring a version (`crdtspace.model.restore`): the document as it was at a snapshot, where
yrs's ``Doc.from_snapshot`` restores it and where it panics."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Snapshot, Text

from crdtspace.model import versions
from crdtspace.model.collect import (
    collect,
    collectable,
    read_delete_set,
    read_snapshot,
    read_state,
    var_uint,
)
from crdtspace.model.restore import restore, restore_doc
from crdtspace.model.versions import VersionError, fork, new_doc, snapshot

CLIENTS = (11, 22, 33)
TEXTS = ("a", "b")
ALPHABET = st.sampled_from(["a", "b", "c", " ", "\n", "é", "汉", "😀", "𝄞"])
WORDS = st.text(ALPHABET, min_size=1, max_size=5)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(-1e9, 1e9) | WORDS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=6,
)
REPLICA = st.integers(0, len(CLIENTS) - 1)

# One step of three replicas typing into two texts and setting a map, and merging each other's
# updates; positions are taken modulo what exists, so every drawn program is valid.
INSERT = st.tuples(st.just("insert"), REPLICA, st.sampled_from(TEXTS), st.integers(0, 999), WORDS)
TYPE = st.tuples(st.just("type"), REPLICA, st.sampled_from(TEXTS), st.just(0), WORDS)
"""Typing on where the replica last typed in that text (one item, cut by a later snapshot)."""
SNAPSHOT = st.tuples(st.just("snapshot"), REPLICA, st.just(""), st.just(0), st.just(0))
OPS = st.one_of(
    INSERT,
    INSERT,
    TYPE,
    TYPE,
    st.tuples(
        st.just("delete"), REPLICA, st.sampled_from(TEXTS), st.integers(0, 999), st.integers(1, 4)
    ),
    st.tuples(st.just("set"), REPLICA, st.sampled_from(["k", "l"]), st.just(0), VALUES),
    st.tuples(st.just("unset"), REPLICA, st.sampled_from(["k", "l"]), st.just(0), st.just(0)),
    st.tuples(st.just("sync"), REPLICA, st.just(""), REPLICA, st.just(0)),
    SNAPSHOT,
    SNAPSHOT,
)


Version = tuple[int, bytes, dict[str, Any]]
"""A replica, a snapshot of it and the roots it showed when it was taken (the shadow record)."""


def roots(doc: Doc[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: str(doc.get(name, type=Text)) for name in TEXTS}
    out["m"] = doc.get("m", type=Map).to_py()
    return out


def utf8(chars: str, index: int) -> int:
    return len(chars[:index].encode("utf-8"))


def load(update: bytes, client: int = 99) -> Doc[Any]:
    doc = new_doc(client)
    doc.apply_update(update)
    return doc


def run(ops: list[tuple[str, int, str, int, Any]]) -> tuple[list[Doc[Any]], list[Version]]:
    """The replicas' edits; returns the replicas, then a document holding all their edits, and
    every version taken."""
    docs = [new_doc(c) for c in CLIENTS]
    kept: list[Version] = []
    cursors: dict[tuple[int, str], int] = {}
    for op, who, name, where, what in ops:
        doc = docs[who]
        if op == "snapshot":
            kept.append((who, snapshot(doc), roots(doc)))
        elif op == "sync":
            docs[where].apply_update(doc.get_update(docs[where].get_state()))
        elif op in ("insert", "delete", "type"):
            text = doc.get(name, type=Text)
            if op == "type":
                op, where = "insert", cursors.get((who, name), 0) % (len(str(text)) + 1)
            cursors[(who, name)] = edit(text, op, where, what)
        elif op == "set":
            doc.get("m", type=Map)[name] = what
        elif name in doc.get("m", type=Map):
            del doc.get("m", type=Map)[name]
    whole = new_doc(1)
    for doc in docs:
        whole.apply_update(doc.get_update())
    return [*docs, whole], kept


def edit(text: Text, op: str, where: int, what: Any) -> int:
    """Insert `what` or delete `what` characters at character `where` (modulo the length);
    returns where the cursor is after it."""
    chars = str(text)
    if op == "insert":
        where %= len(chars) + 1
        text.insert(utf8(chars, where), what)
        return where + len(what)
    if not chars:
        return 0
    start = where % len(chars)
    del text[utf8(chars, start) : utf8(chars, min(len(chars), start + what))]
    return start


def by_yrs(doc: Doc[Any], snap: bytes) -> Doc[Any] | None:
    """yrs's restore of `snap` (moved to a doc of client 99), or None where it panics."""
    try:
        restored = Doc.from_snapshot(Snapshot.decode(snap), doc)
    except BaseException as exc:  # a pyo3 panic
        if not type(exc).__name__ == "PanicException":
            raise
        return None
    return load(restored.get_update())


def state_of(snap: bytes) -> dict[int, int]:
    return {c: k for c, k in read_snapshot(snap)[1].items() if k}


PROGRAMS = st.one_of(
    st.lists(OPS, min_size=8, max_size=60),
    # one typist alone: its typing runs on in one item, which yrs restores worst
    st.lists(OPS.map(lambda op: (op[0], 0, *op[2:])), min_size=8, max_size=60),
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(PROGRAMS)
def test_every_version_is_restored_as_it_was_and_as_yrs_restores_it(
    ops: list[tuple[str, int, str, int, Any]],
) -> None:
    docs, kept = run(ops)
    for who, snap, shown in kept:
        for doc in (docs[who], docs[-1]):  # the replica it was taken on; one with everything
            update = bytes(doc.get_update())
            ours = load(restore(update, snap))
            assert roots(ours) == shown  # the shadow record: what the replica showed then
            assert read_state(bytes(ours.get_state())) == state_of(snap)
            assert read_snapshot(snapshot(ours)) == read_snapshot(snap)
            assert roots(load(restore_doc(doc, snap))) == shown
            assert roots(fork(doc, snap)) == shown
            yrs = by_yrs(doc, snap)
            if yrs is not None and roots(yrs) == shown:
                event("yrs restores it")
                assert read_state(bytes(yrs.get_state())) == read_state(bytes(ours.get_state()))
            else:  # see test_yrs_shows_text_typed_after_some_snapshots
                event("yrs panics" if yrs is None else "yrs shows what was typed after it")


@SETTINGS
@given(PROGRAMS, st.integers(0, 999), WORDS, st.integers(0, 999))
def test_an_edit_made_on_a_restored_version_merges_back_as_on_yrss(
    ops: list[tuple[str, int, str, int, Any]], where: int, word: str, cut: int
) -> None:
    docs, kept = run(ops)
    for who, snap, shown in kept:
        doc = docs[who]
        update = bytes(doc.get_update())
        merged = []
        candidates = [bytes(restore(update, snap))]
        yrs = by_yrs(doc, snap)
        if yrs is not None and roots(yrs) == shown:
            candidates.append(bytes(yrs.get_update()))
        for restored in candidates:
            side = load(restored, client=500)  # the same client: concurrent inserts order alike
            before = side.get_state()
            marker = f"<{word}>"
            edit(side.get("a", type=Text), "insert", where, marker)
            edit(side.get("b", type=Text), "delete", cut, 2)
            side.get("m", type=Map)["fork"] = word
            now = load(update)
            now.apply_update(side.get_update(before))
            merged.append(roots(now))
            # what the fork did lands; what it had not seen stays
            assert merged[-1]["a"].replace(marker, "", 1) == str(doc.get("a", type=Text))
            assert merged[-1]["m"]["fork"] == word
        assert all(m == merged[0] for m in merged)


def test_a_version_cut_inside_an_item_keeps_its_first_part() -> None:
    doc = new_doc(7)
    text = doc.get("a", type=Text)
    text.insert(0, "a😀")
    typed = snapshot(doc)
    text.insert(len("a😀".encode()), "b😀c")  # typed on: yrs makes one item of both
    doc.get("m", type=Map)["x"] = 1
    items = doc.get("list", type=Array)
    items.append({"x": [1, "y"]})
    items.append("z")
    appended = snapshot(doc)
    items.append("more")
    items.append(2)
    update = bytes(doc.get_update())
    assert update.count(b"b\xf0\x9f\x98\x80c") == 1  # merged: the cuts are inside items
    assert str(load(restore(update, typed)).get("a", type=Text)) == "a😀"
    ours = load(restore(update, appended))
    assert ours.get("list", type=Array).to_py() == [{"x": [1.0, "y"]}, "z"]
    assert str(ours.get("a", type=Text)) == "a😀b😀c"


def test_a_collected_document_restores_its_kept_versions() -> None:
    doc = new_doc(7)
    text = doc.get("a", type=Text)
    text.insert(0, "hello")
    del text[0:2]
    snap = snapshot(doc)
    text.insert(3, " world")
    update = bytes(doc.get_update())
    collected = collect(update, read_delete_set(update))  # "he": a deleted item's content
    assert roots(load(restore(collected, snap)))["a"] == "llo"


def gap_updates() -> list[bytes]:
    """Client 1's four updates: "abc" typed, "d" at the end, "Z" after "a", the "Z" deleted."""
    writer = new_doc(1)
    text = writer.get("t", type=Text)
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(bytes(event.update)))
    text += "abc"
    text += "d"
    text.insert(1, "Z")
    del text[1]
    return updates


def _typed_past_a_gap() -> tuple[Doc[Any], list[bytes]]:
    """Client 1 types "abc", then "d" at the end, then "Z" after "a", then deletes the "Z"; a
    replica receives the first and third updates only: yrs (0.27 on) integrates "Z" (clock 4;
    its origins "a" and "b" are known) past the missing "d" (clock 3), holding the gap as a
    skip, and its state vector stops at the gap."""
    updates = gap_updates()
    reader = new_doc(2)
    reader.get("t", type=Text)
    for index in (0, 2):
        reader.apply_update(updates[index])
    return reader, updates


def test_a_version_holding_an_item_past_a_gap_restores_it_and_a_write_from_it_merges() -> None:
    doc, updates = _typed_past_a_gap()
    assert str(doc.get("t", type=Text)) == "aZbc"
    seen = snapshot(doc)  # yrs's snapshot alone is ({}, {1: 3}): it does not show "Z"
    doc.apply_update(updates[3])  # "Z" deleted
    deleted = snapshot(doc)  # yrs's alone: ({1: [(4, 5)]}, {1: 3}), a deletion it cannot hold
    doc.apply_update(updates[1])  # the gap filled: "abcd"
    assert str(doc.get("t", type=Text)) == "abcd"
    for snap, text in ((seen, "aZbc"), (deleted, "abc")):
        assert str(fork(doc, snap).get("t", type=Text)) == text
        assert str(load(restore(bytes(doc.get_update()), snap)).get("t", type=Text)) == text
    # A collected document keeps what a kept version shows past a gap ("Z", deleted since).
    update = bytes(doc.get_update())
    collected = collect(update, collectable(read_delete_set(update), [seen, deleted]))
    assert str(fork(load(collected), seen).get("t", type=Text)) == "aZbc"
    # A write from the version that saw "Z": "!" typed after it merges with what came since.
    forked = fork(doc, seen)
    start = forked.get_state()
    forked.get("t", type=Text).insert(2, "!")
    doc.apply_update(forked.get_update(start))
    assert str(doc.get("t", type=Text)) == "a!bcd"


def test_yrs_shows_text_typed_after_some_snapshots() -> None:
    """(pinned: yrs restores this snapshot with the "b" typed after it; ours does not, and
    `fork` refuses any restore that does not give its snapshot back)"""
    doc = new_doc(7)
    text = doc.get("a", type=Text)
    text.insert(0, "a")
    snap = snapshot(doc)
    text.insert(1, "b")
    yrs = by_yrs(doc, snap)
    assert yrs is not None
    assert str(yrs.get("a", type=Text)) == "ab"
    assert read_snapshot(snapshot(yrs)) != read_snapshot(snap)
    assert str(fork(doc, snap).get("a", type=Text)) == "a"


# -- what the reader does not know ----------------------------------------------------------


def typed() -> tuple[Doc[Any], bytes]:
    doc = new_doc(7)
    doc.get("a", type=Text).insert(0, "abc")
    snap = snapshot(doc)
    doc.get("a", type=Text).insert(3, "def")
    return doc, snap


def test_an_update_the_reader_does_not_know_is_a_value_error() -> None:
    doc, snap = typed()
    update = bytes(doc.get_update())
    assert update[4] == 0x04  # the first item's info: a string with a parent
    unknown = update[:4] + bytes([0x0C]) + update[5:]  # content 12: no such content
    for broken in (unknown, update[:6], b"", b"\x01\x01\x07\x00\xff"):
        with pytest.raises(ValueError, match="cannot be restored"):
            restore(broken, snap)
    with pytest.raises(ValueError, match="cannot be restored"):
        restore(update, b"\x00\x01")  # a truncated snapshot


def test_a_cut_inside_a_surrogate_pair_is_a_value_error() -> None:
    doc = new_doc(7)
    doc.get("a", type=Text).insert(0, "😀")  # two UTF-16 units, one item
    inside = var_uint(0) + var_uint(1) + var_uint(7) + var_uint(1)  # no deletions; client 7: 1
    with pytest.raises(ValueError, match="surrogate"):
        restore(bytes(doc.get_update()), inside)


def test_a_version_the_document_has_not_seen_all_of_is_a_value_error() -> None:
    doc, _ = typed()
    other = new_doc(8)
    other.get("a", type=Text).insert(0, "x")
    for more in (snapshot(other), var_uint(0) + var_uint(1) + var_uint(7) + var_uint(99)):
        with pytest.raises(ValueError, match="cannot be restored"):
            restore(bytes(doc.get_update()), more)
        with pytest.raises(ValueError, match="cannot be restored"):
            restore_doc(doc, more)


def test_fork_falls_back_to_yrs_and_then_to_a_version_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unknown(doc: Doc[Any], snap: bytes) -> bytes:
        raise ValueError("this version cannot be restored from the document: content 12")

    monkeypatch.setattr(versions, "restore_doc", unknown)
    doc, snap = typed()  # a snapshot yrs restores
    assert str(fork(doc, snap).get("a", type=Text)) == "abc"
    panics = new_doc(7)
    text = panics.get("a", type=Text)
    text.insert(0, "a")
    text.insert(0, "b")
    snap = snapshot(panics)
    text.insert(1, "c")  # yrs panics on `snap` now
    with pytest.raises(VersionError, match=r"cannot be restored: .*content 12.*yrs cannot"):
        fork(panics, snap)
