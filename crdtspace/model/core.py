"""The core of a replica: its document, updates in and out, transactions and their log entries."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from pycrdt import Doc
from pycrdt import get_update as diff_update

from crdtspace.errors import DocumentError, StorageError, SyncError
from crdtspace.model.coalesce import coalesce
from crdtspace.model.document import Document, Receiving
from crdtspace.model.folding import LogWatch
from crdtspace.model.logentry import LogEntry, TextEdit, decode_state
from crdtspace.model.rekey import Rekeyer
from crdtspace.model.splicing import Splicer
from crdtspace.model.storage import UpdateLog
from crdtspace.model.textmap import LAZY
from crdtspace.model.versions import VersionError, VersionStore, snapshot

OP_RANK = {"edit": 0, "move": 1, "delete": 2, "create": 3}

COMPACT_AFTER = 5000
"""Records in the update log after which opening the workspace compacts it to one snapshot."""

DEFER_LIMIT = 4096
"""Edits a typing session holds back at most before its log entries are written anyway."""

HELD_LIMIT = 10_000
"""Updates waiting for their dependencies that a replica keeps (the oldest go first)."""


def settle(doc: Doc[Any], updates: list[bytes]) -> list[bytes]:
    """Apply again every update not yet wholly in `doc`; return those still waiting.

    An update that arrives before one it depends on stays pending inside yrs, but when a later
    update lets yrs integrate it only in part, pycrdt 0.14 drops the rest (reproduced in
    tests/test_convergence.py). So a replica keeps each update until the doc holds all of its
    structs (its diff against the doc's state vector lists no client), applying it again after
    every later update: applying an update twice is harmless.
    """
    waiting = [u for u in updates if _structs_missing(doc, u)]
    while waiting:
        for update in waiting:
            doc.apply_update(update)
        still = [u for u in waiting if _structs_missing(doc, u)]
        if len(still) == len(waiting):
            break
        waiting = still
    return waiting[-HELD_LIMIT:]


def replay(doc: Doc[Any], records: list[bytes], source: Path, *, hint: str) -> None:
    """Apply a log's records in order, holding back those that wait for later ones (`settle`);
    a record that is not an update is a `StorageError` naming it."""
    held: list[bytes] = []
    for index, record in enumerate(records):
        try:
            doc.apply_update(record)
            held = settle(doc, [*held, record])
        except Exception as exc:  # pycrdt raises plain exceptions on bad updates
            raise StorageError(
                f"Record {index} of {source} is not a valid update: {exc}", hint=hint
            ) from exc


def _structs_missing(doc: Doc[Any], update: bytes) -> bool:
    # The diff of an update against a state vector starts with its number of clients (a
    # varint): zero means every struct of it is in the doc.
    return diff_update(update, doc.get_state())[:1] != b"\x00"


def _undo(text: str, part: str, edits: tuple[TextEdit, ...]) -> str:
    """The text of `part` before `edits` (applied in order) made it `text`."""
    for edit_part, pos, old, new in reversed(edits):
        if edit_part == part:
            text = text[:pos] + old + text[pos + len(new) :]
    return text


SESSIONS_FILE = "sessions"
"""In a durable workspace's folder: the client id of every session that opened it."""


class ReplicaCore:
    """The first part of a replica. The parts, one module each, are a chain of classes, each
    built on the one before; `crdtspace.model.replica.Replica` is the last."""

    def __init__(
        self,
        doc: Doc[Any],
        *,
        agent: str,
        log: UpdateLog | None = None,
        root: Path | None = None,
        versions: VersionStore | None = None,
        unread_base: str = "current",
        fork_of: int | None = None,
    ) -> None:
        self._doc = doc
        self._document = Document(doc)
        self.agent = agent
        self.root = root
        self._log = log
        self._pending: list[bytes] = []
        self._remote = False
        self._depth = 0
        self._touched: dict[str, str] = {}
        self._edits: dict[str, list[TextEdit]] = {}
        self._deleted_after: dict[str, str] = {}
        # Typing sessions (see _write_log): edits of transactions that only typed, per node,
        # waiting for one log entry.
        self._typed_only = False
        self._txn: Any = None
        # Typing on a quiet replica (see `_quiet`) opens no pycrdt transaction: the typed run
        # waits in the splice index across transactions (`_unreal`) until something reads or
        # changes the document (`_materialize`), and a transaction opens its pycrdt
        # transaction only when something needs it (`_open_txn`).
        self._opened: Any = None
        self._unreal = False
        self.live_observers = 0
        """Observers of the document's shared types (a watcher's) besides `subscribe`'s
        listeners: while any, typing is written at the end of every transaction."""
        self._deferred: dict[str, list[TextEdit]] = {}
        self._deferred_count = 0
        self._folding = False
        self._merging: tuple[bytes, list[bytes], Receiving] | None = None
        """The merge whose follow-up is due (`_follow_merge`): its update, the updates held
        back before it, its watch of rewritten logs."""
        self._fold_watch = LogWatch()
        self._gapless = False  # (see `_snapshot`)
        self._description = ""
        self._counter = 0
        self._registered = False
        self._typing = Splicer(
            lambda: self.document, self._rekeyer, self._touch_typed, self._record, self._open_txn
        )
        self._listeners: list[Callable[[bytes], None]] = []
        self._held: list[bytes] = []
        # Versions (see crdtspace.model.versions): what reads handed out, per agent and file.
        self.versions = versions if versions is not None else VersionStore()
        self.unread_base = unread_base
        """What a write is based on when its agent gave no version and read nothing since:
        "current" (an in-memory replica: its agent has seen what it holds) or "commit" (a
        shared, durable workspace: the last commit it imported or made, git's view)."""
        self._fork_of = fork_of
        self._fork_start = b""
        self._raw_edit = False  # record_raw_edit: its entries always carry their base
        self._version: str | None = None
        # Reads wait for their version until the document is about to change (_settle_reads):
        # `_changes` counts changes, `_read_marks` holds what the pending reads resolved to.
        self._changes = 0
        self._pending_reads: list[tuple[str, str]] = []
        self._read_marks: dict[int, str] = {}
        self._kept_open = 0
        self._closing: list[Callable[[], None]] = []
        self._subscription: Any = None
        self._watch_transactions()
        self._note_session()

    def close(self) -> None:
        if self._kept_open:
            return
        self._follow_merge()
        self.flush()
        closing, self._closing = self._closing, []
        for callback in closing:  # (while the log is still held: nobody writes meanwhile)
            callback()
        self._subscription.drop()
        if self._log is not None:
            self._log.close()

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call `callback()` when this replica closes, after its last write and before its
        log is released (once; a replica kept open calls it when it really closes)."""
        self._closing.append(callback)

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """Inside, `close()` does nothing: the replica lent to code that closes what it
        opens (a command run by the workspace service on its own replica)."""
        self._kept_open += 1
        try:
            yield
        finally:
            self._kept_open -= 1

    def _note_session(self) -> None:
        if self._log is None:
            return
        path = self._log.path.parent / SESSIONS_FILE
        with open(path, "a", encoding="ascii") as handle:
            handle.write(f"{self.client_id:x}\n")

    def _fold_identical(self) -> None:
        """After a remote update: make concurrent identical changes count once (the replica
        does it; see `Replica._fold_identical`)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client_id(self) -> int:
        return int(self._doc.client_id)

    @property
    def doc(self) -> Doc[Any]:
        """The pycrdt document, with everything typed so far written to it."""
        if self._unreal:
            self._materialize()
        return self._doc

    @property
    def document(self) -> Document:
        """The node tree. Reading it first writes out any text typed in this transaction that
        a splice still holds back (`FileIndex.write_held`), so nothing ever reads a Text
        without it."""
        if self._unreal:
            self._materialize()
        if self._typing.holding:
            self._typing.write_held()
        return self._document

    def _quiet(self) -> bool:
        """Whether nobody hears of this replica's transactions as they happen: no durable log,
        no listeners, no observers. Typing on a quiet replica is written to the document
        when something reads or changes it, not at the end of every keystroke's transaction
        (nobody can tell the difference, and a pycrdt transaction per keystroke cost more
        than the keystroke)."""
        return self._log is None and not self._listeners and not self.live_observers

    def _open_txn(self) -> Any:
        """Inside a transaction begun lazily: open its pycrdt transaction now (the held runs
        of typed text become part of it); returns pycrdt's handle."""
        if self._opened is None:
            opened = self._doc.transaction(origin=self.agent)
            txn = opened.__enter__()
            self._opened = opened
            self._txn = getattr(txn, "_txn", None)
            self._unreal = False
            self._typing.retarget(self._txn)
        return self._txn

    def _materialize(self) -> None:
        """Make the document whole: inside a lazy transaction, open its pycrdt transaction;
        outside one, write the typed runs held back in a transaction of their own."""
        if self._depth:
            self._open_txn()
            return
        self._unreal = False
        with self._doc.transaction(origin=self.agent) as txn:
            self._typing.retarget(getattr(txn, "_txn", None))
            self._typing.write_held()
        self._publish()

    def state(self) -> bytes:
        """This replica's state vector."""
        return bytes(self.doc.get_state())

    def update_since(self, state: bytes | None = None) -> bytes:
        """Everything this replica has that a replica at `state` lacks."""
        self.flush()
        doc = self.doc
        return bytes(doc.get_update(state) if state is not None else doc.get_update())

    def apply_update(self, update: bytes) -> None:
        """Merge a remote update (idempotent, any order). Never re-segments anything."""
        self._merge_update(update)
        self._follow_merge()

    def _merge_update(self, update: bytes) -> None:
        """The merge itself, up to yrs taking the update (its observers see it then); the
        rest (`_follow_merge`: held-back updates let in, caches, identical changes folded)
        left due: whoever merges so must see that it runs before this replica is read,
        edited or merges again (a networked replica on a shared loop merges every peer's copy
        of an update first, then follows each up)."""
        self._follow_merge()
        self._settle_reads()
        self.flush(thorough=False)
        self._remote = True
        # (no observer of this replica's own transactions meanwhile: pycrdt would encode the
        # merged update for it, and a remote one is not passed on; the change is noted after)
        self._subscription.drop()
        held = self._held
        receiving = self.document.receive([update, *held])
        try:
            self.doc.apply_update(update)
        except Exception as exc:  # pycrdt raises plain exceptions for malformed input
            self._end_merge(receiving)
            raise SyncError(f"A remote update could not be applied: {exc}") from exc
        self._merging = (update, held, receiving)

    @property
    def _merge_due(self) -> bool:
        """Whether a merge's follow-up is due (`_follow_merge`)."""
        return self._merging is not None

    def _end_merge(self, receiving: Receiving) -> None:
        receiving.close()
        self._remote = False
        self._watch_transactions()
        self._changed()  # (as good as certain; when not, a version is worked out again)
        self._typing.indexes.clear()
        self.document.forget_caches()

    def _follow_merge(self) -> None:
        """What follows a merge (`_merge_update`), if one is due: yrs given again the updates
        it held back, the merge's watch closed, caches forgotten; then identical changes
        folded."""
        merging, self._merging = self._merging, None
        if merging is None:
            return
        update, held, receiving = merging
        try:
            self._held = settle(self.doc, [*held, update])
        except Exception as exc:  # pycrdt raises plain exceptions for malformed input
            raise SyncError(f"A remote update could not be applied: {exc}") from exc
        finally:
            self._end_merge(receiving)
        if held or self._held:
            # (what yrs lets in from an update it held back may grow a log unobserved: the
            # fold asks the lengths, see `LogWatch.recheck`; and may make or fill a gap in a
            # client's clocks, see `_snapshot`)
            self._fold_watch.recheck_due = True
            self._gapless = False
        if self._log is not None:
            self._log.append(update)
        self._fold_identical()

    def adopt(self, update: bytes) -> None:
        """Merge an update made on this replica's behalf elsewhere (e.g. a fork of a write
        from an older version) and pass it on to this replica's listeners as if it were local,
        so peers get it now rather than at the next state-vector sync."""
        self.apply_update(update)
        for listener in list(self._listeners):
            listener(update)

    def subscribe(self, listener: Callable[[bytes], None]) -> Callable[[], None]:
        """Call `listener(update)` after every local transaction; returns an unsubscribe."""
        if self._unreal and not self._depth:
            self._materialize()
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _watch_transactions(self) -> None:
        """Observe this replica's transactions (`_on_transaction`) through pycrdt's core: its
        public observer wraps each event and each call (the subscription is dropped and made
        again around every remote merge)."""
        self._subscription = self._doc._doc.observe(self._on_transaction)

    def _on_transaction(self, event: Any) -> None:
        """(yrs's transaction event: called only for a transaction that changed something)"""
        self._changed()
        if not self._remote:
            self._pending.append(bytes(event.update))

    def _changed(self) -> None:
        """The state changed (a pycrdt transaction, or typing held back from one): the current
        version is no longer the one reads since the last change were made at."""
        if self._pending_reads:  # changed behind transaction(): those reads' version is lost
            self._pending_reads.clear()
            self._read_marks[self._changes] = ""
        self._changes += 1
        self._version = None

    @contextmanager
    def transaction(self, description: str = "") -> Iterator[None]:
        """Group edits: one CRDT transaction, one log entry per node, one fsync."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._settle_reads()
        self._depth = 1
        self._touched = {}
        self._edits = {}
        self._deleted_after = {}
        self._typed_only = True
        self._description = description
        try:
            if self._quiet():
                self._txn = LAZY
                self._unreal = True
                try:
                    yield
                finally:
                    self._end_lazy()
            else:
                self._unreal = False
                with self._doc.transaction(origin=self.agent) as txn:
                    # pycrdt's private handle, for splices (see textedit.insert_text)
                    self._txn = getattr(txn, "_txn", None)
                    self._typing.retarget(self._txn)
                    try:
                        yield
                    finally:
                        self._typing.write_held()
                        self._write_log()
        finally:
            self._txn = None
            self._depth = 0
            self._publish()

    def _end_lazy(self) -> None:
        """The end of a transaction begun lazily: a typing-only one that opened no pycrdt
        transaction keeps its typed runs held and its log entries deferred; any other writes
        the runs and the entries and commits."""
        if self._opened is None and (self._deferring() or not (self._touched or self._deferred)):
            if self._touched:
                self._defer()
            self._unreal = bool(self._typing.holding)
            if self._touched or self._unreal:  # (typed, though pycrdt has not seen it yet)
                self._changed()
            return
        self._open_txn()
        opened, self._opened = self._opened, None
        try:
            self._typing.write_held()
            self._write_log()
        finally:
            self._unreal = False
            opened.__exit__(None, None, None)

    def _deferring(self) -> bool:
        """Whether this transaction's log entries wait for the typing session's end."""
        return (
            self._typed_only
            and bool(self._touched)
            and self._log is None
            and self._deferred_count < DEFER_LIMIT
        )

    def _touch(self, nid: str, op: str) -> None:
        self._typed_only = False
        self._touch_typed(nid, op)

    def _touch_typed(self, nid: str, op: str) -> None:
        """A touch by an editor's splice: keeps the transaction a typing-only one."""
        previous = self._touched.get(nid)
        if previous is None or OP_RANK[op] > OP_RANK[previous]:
            self._touched[nid] = op

    def _record(self, nid: str, part: str, pos: int, old: str, new: str) -> None:
        self._edits.setdefault(nid, []).append((part, pos, old, new))

    def _write_log(self) -> None:
        """One log entry per touched node, except in a typing session.

        In a replica without a durable log, a transaction that only typed (splices that
        re-keyed nothing) keeps its edits back, per node, and the next transaction that does
        anything else (a re-key when typing moves to another unit, any node edit, a structure
        read, sending or receiving updates, close) writes one entry per node for the whole
        session: an entry per keystroke burst cost more than the keystrokes. A durable replica
        writes its entries with every transaction, so that what is fsynced is always whole
        (its fsync per burst costs far more than the entry anyway)."""
        if self._deferring():
            self._defer()
            return
        if self._deferred:
            for nid, held in self._deferred.items():
                self._edits[nid] = [*held, *self._edits.get(nid, ())]
                self._touched.setdefault(nid, "edit")
            self._deferred = {}
            self._deferred_count = 0
        if not self._touched:
            return
        if not self._registered:
            key = str(self.client_id)
            if key not in self.document.agents:
                who: dict[str, Any] = {"name": self.agent}
                if self._fork_of is not None:
                    who["of"] = str(self._fork_of)  # a write's fork, not a replica
                self.document.agents[key] = who
            self._registered = True
        state = decode_state(self.doc.get_state())
        for nid, op in self._touched.items():
            if not self.document.has_node(nid):
                continue
            parents = self.document.heads(nid)
            node = self.document.node(nid)
            edits = coalesce(self._edits.get(nid, ()))  # a typing session's net change
            base: tuple[tuple[str, str], ...] | None = None
            if op == "create":
                base = ()
                texts = self.document.texts(nid).items()
                edits = tuple((part, 0, "", text) for part, text in texts if text)
            elif len(parents) != 1 or self._raw_edit:
                texts = self.document.texts(nid).items()
                base = tuple((part, _undo(text, part, edits)) for part, text in texts)
            self._counter += 1
            entry = LogEntry(
                f"{self.client_id:x}.{self._counter}",
                self.agent,
                parents,
                op,
                self._description,
                state=state,
                name=str(node.get("name", "")),
                edits=edits,
                base=base,
                to=self._target(nid, op),
            )
            self.document.append_log(nid, entry)

    def _defer(self) -> None:
        for nid in self._touched:
            edits = self._edits.get(nid, [])
            self._deferred.setdefault(nid, []).extend(edits)
            self._deferred_count += len(edits)

    def _seal(self) -> None:
        """Write the log entries of the current typing session, if any."""
        if self._deferred and not self._depth:
            with self.transaction("typing"):
                self._typed_only = False

    def _publish(self) -> None:
        if not self._pending:
            return
        updates, self._pending = self._pending, []
        if self._log is not None:
            self._log.append_many(updates)
        for update in updates:
            for listener in list(self._listeners):
                listener(update)

    def _new_id(self) -> str:
        self._counter += 1
        return f"{self.client_id:x}.{self._counter}"

    def _rekeyer(self) -> Rekeyer:
        return Rekeyer(self.document, self._touch, self._new_id, self._record)

    def flush(self, *, thorough: bool = True) -> None:
        """Re-key every region typed into since its last re-key (`thorough`: also files whose
        typed regions did not parse on their own, by re-segmenting them whole), and write the
        log entries of the typing session."""
        for path in self._typing.pending(thorough=thorough):
            with self.transaction():
                self._typing.flush_path(path, thorough=thorough)
        self._seal()

    def _target(self, nid: str, op: str) -> str:
        """What a log entry's `to` says: a move's container, a delete's previous sibling."""
        if op == "move":
            return self.document.parent(nid)
        if op == "delete":
            return self._deleted_after.get(nid, "")
        return ""

    def version(self) -> str:
        """The version of the current state: a write given it as `base` is applied as made
        from this state (concurrent with everything that happens after)."""
        if self._depth:
            raise DocumentError("A version cannot be taken inside a transaction.")
        if self._unreal:
            self._materialize()  # (typing held back is part of this state)
        if self._version is None:
            # (outside any transaction: yrs would wait for itself)
            self._version = self.versions.add(self._snapshot())  # (written out first)
        return self._version

    def _snapshot(self) -> bytes:
        """`snapshot` of the doc, looking for items held past a gap in a client's clocks only
        until a look found none while no update was held back, and again after any merge that
        held one back or let one in (only such a merge can make or fill a gap: an update whose
        items lie past the state vector stays held, `settle`)."""
        if self._gapless:
            return snapshot(self.doc, past_gaps=False)
        snap = snapshot(self.doc)
        self._gapless = not self._held and snap == snapshot(self.doc, past_gaps=False)
        return snap

    def _noted(self, path: str, agent: str | None) -> Callable[[], str]:
        """Note a read of `path` by `agent` at the current state; returns the read's version
        (taken lazily: see `_settle_reads`)."""
        if self._unreal and not self._depth:
            self._materialize()  # (a change of its own, before the read's mark)
        mark, who = self._changes, agent or self.agent
        if self._version is not None:
            self.versions.note_read(who, path, self._version)
            self._read_marks[mark] = self._version
        else:
            self._pending_reads.append((who, path))
        return functools.partial(self._version_at, mark)

    def _settle_reads(self) -> None:
        """Before the document changes: the version of the reads made since the last change."""
        if not self._pending_reads or self._depth:
            return
        vid = self.version()
        for who, path in self._pending_reads:
            self.versions.note_read(who, path, vid)
        self._pending_reads.clear()
        self._read_marks[self._changes] = vid
        if len(self._read_marks) > 4096:
            for mark in sorted(self._read_marks)[:2048]:
                del self._read_marks[mark]

    def _version_at(self, mark: int) -> str:
        if mark == self._changes:
            self._settle_reads()
            return self.version()
        vid = self._read_marks.get(mark, "")
        if not vid:
            raise VersionError(
                "The version of that read was not kept (the document changed outside a "
                "transaction, or the read is very old).",
                hint="read it again",
            )
        return vid

    @contextmanager
    def acting_as(self, agent: str) -> Iterator[None]:
        """Edits inside are logged as `agent`'s (commits from git are applied as their author's).
        A typing session of the replica's own agent is logged first, as that agent's, and one
        typed inside is logged on the way out, as `agent`'s."""
        if agent != self.agent:
            self._seal()
        previous, self.agent = self.agent, agent
        try:
            yield
        finally:
            if agent != previous:
                self._seal()  # (what was typed inside is `agent`'s)
            self.agent = previous
