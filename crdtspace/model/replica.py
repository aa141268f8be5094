"""The workspace: one replica of the document, its agent, its durable log, and the node API."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pycrdt import Array, Doc, Map, TransactionEvent
from pycrdt import get_update as diff_update

from crdtspace.conflicts import resolution
from crdtspace.conflicts.analysis import Analyzer, duplicate_units, grown_logs, identical_folds
from crdtspace.conflicts.findings import Analysis, Conflict
from crdtspace.errors import (
    CrdtspaceWarning,
    DocumentError,
    NodeNotFound,
    StorageError,
    SyncError,
)
from crdtspace.git import gitio
from crdtspace.git.gate import GateReport
from crdtspace.git.gitsync import SyncReport
from crdtspace.model import materialize
from crdtspace.model.document import Document
from crdtspace.model.importing import import_commit
from crdtspace.model.languages import profile_for
from crdtspace.model.layout import FileLayout
from crdtspace.model.logentry import LogEntry, TextEdit, decode_state
from crdtspace.model.rekey import Rekeyer, Result
from crdtspace.model.rekeyfile import create_file, rekey_file
from crdtspace.model.segment import TEXT_KIND
from crdtspace.model.splicing import Splicer
from crdtspace.model.storage import UpdateLog
from crdtspace.model.textedit import diff, set_text
from crdtspace.model.versions import VersionError, VersionStore, fork, new_doc, snapshot

_T = TypeVar("_T")
OP_RANK = {"edit": 0, "move": 1, "delete": 2, "create": 3}
COMPACT_AFTER = 5000
"""Records in the update log after which opening the workspace compacts it to one snapshot."""
SESSIONS_FILE = "sessions"
"""In a durable workspace's folder: the client id of every session that opened it."""
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


@dataclass(frozen=True)
class OutlineEntry:
    """One node of a file's outline."""

    key: str
    kind: str
    name: str
    qualname: str
    depth: int
    start_line: int
    end_line: int
    last_editor: str
    container: bool


class Reading(str):
    """A text as read, and the version it was read at: give `reading.version` back as the
    `base` of a write made from it (see `crdtspace.model.versions`). The version is taken when first
    asked for, or before the document next changes, whichever comes first: reads that no
    write follows cost no snapshot."""

    _version: Callable[[], str]

    def __new__(cls, text: str, version: Callable[[], str]) -> Reading:
        reading = super().__new__(cls, text)
        reading._version = version
        return reading

    @property
    def version(self) -> str:
        return self._version()


class Outline(list[OutlineEntry]):
    """A file's outline, and the version it was read at (as for `Reading`)."""

    def __init__(self, entries: list[OutlineEntry], version: Callable[[], str]) -> None:
        super().__init__(entries)
        self._version = version

    @property
    def version(self) -> str:
        return self._version()


@dataclass(frozen=True)
class GitOnlyFile:
    path: str
    reason: str


@dataclass(frozen=True)
class Status:
    """What a workspace holds."""

    base: str
    agent: str
    files: int
    structured: int
    plain_text: list[str]
    unparsed: list[str]
    git_only: list[GitOnlyFile]
    agents: list[str]
    nodes: int
    state_dir: str | None


class Workspace:
    """One replica: a pycrdt Doc with the crdtspace schema, edited by one agent."""

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
        self.doc = doc
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
        self._deferred: dict[str, list[TextEdit]] = {}
        self._deferred_count = 0
        self._analyzer: Analyzer | None = None
        self._folding = False
        self._fold_seen: dict[str, int] = {}
        self._description = ""
        self._counter = 0
        self._registered = False
        self._typing = Splicer(
            lambda: self.document, self._rekeyer, self._touch_typed, self._record
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
        self._subscription = doc.observe(self._on_transaction)
        self._note_session()

    # -- creating and opening ------------------------------------------------------------

    @classmethod
    def from_commit(
        cls,
        repo_path: Path | str = ".",
        rev: str = "HEAD",
        *,
        agent: str,
        size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
        progress: Callable[[int, int], None] | None = None,
    ) -> Workspace:
        """An in-memory replica importing a commit (deterministically: see `import_commit`)."""
        repo = gitio.open_repo(Path(repo_path))
        commit = gitio.resolve_commit(repo, rev)
        update = import_commit(
            commit.hexsha, gitio.read_tree(commit, size_limit=size_limit), progress=progress
        )
        doc = new_doc()
        doc.apply_update(update)
        return cls(doc, agent=agent, root=gitio.repo_root(repo))

    @classmethod
    def init(
        cls,
        repo_path: Path | str = ".",
        rev: str = "HEAD",
        *,
        agent: str | None = None,
        workspace: str = "default",
        size_limit: int = gitio.DEFAULT_SIZE_LIMIT,
        progress: Callable[[int, int], None] | None = None,
        force: bool = False,
    ) -> Workspace:
        """Create the durable workspace of a repository from a commit."""
        repo = gitio.open_repo(Path(repo_path))
        log = UpdateLog(gitio.state_dir(repo, workspace))
        if log.path.exists() and log.path.stat().st_size > 0 and not force:
            raise StorageError(
                f"A workspace {workspace!r} already exists in this repository.",
                hint="open it, or run init with --force to start over from the commit",
            )
        try:
            commit = gitio.resolve_commit(repo, rev)
            update = import_commit(
                commit.hexsha, gitio.read_tree(commit, size_limit=size_limit), progress=progress
            )
            log.compact(update)
        except BaseException:
            log.close()
            raise
        doc = new_doc()
        doc.apply_update(update)
        name = agent or gitio.user_name(repo)
        return cls.durable(doc, name, log, gitio.repo_root(repo))

    @classmethod
    def open(
        cls,
        repo_path: Path | str = ".",
        *,
        agent: str | None = None,
        workspace: str = "default",
    ) -> Workspace:
        """Open a durable workspace: every recorded update is applied (a torn tail is dropped)."""
        repo = gitio.open_repo(Path(repo_path))
        log = UpdateLog(gitio.state_dir(repo, workspace))
        try:
            loaded = log.load()
            if not loaded.records:
                raise StorageError(
                    "This repository has no crdtspace workspace yet.",
                    hint="run `crdtspace init` first",
                )
            doc = new_doc()
            replay(
                doc,
                loaded.records,
                log.path,
                hint="the log is damaged: `crdtspace repair` keeps every sound record (and a copy)",
            )
            if len(loaded.records) > COMPACT_AFTER:
                log.compact(doc.get_update())
        except BaseException:
            log.close()
            raise
        name = agent or gitio.user_name(repo)
        return cls.durable(doc, name, log, gitio.repo_root(repo))

    @classmethod
    def durable(cls, doc: Doc[Any], agent: str, log: UpdateLog, root: Path) -> Workspace:
        """The shared workspace of a repository: its log, its versions, writes with no known
        base based on the last commit."""
        versions = VersionStore(log.path.parent)
        ws = cls(doc, agent=agent, log=log, root=root, versions=versions, unread_base="commit")
        if ws.document.meta.get("base") and ws.document.meta.get("base_version") is None:
            # Made before versions: its base commit's state was not recorded. From now on, its
            # current state stands for it (as every write was based on before), said aloud.
            warnings.warn(
                "This workspace predates versions: writes with no known base are based on its "
                "state now until the next commit through the gate or sync-git.",
                CrdtspaceWarning,
                stacklevel=3,
            )
            state = snapshot(doc)
            with ws.transaction("versions"):
                ws.document.meta["base_version"] = state
        return ws

    @classmethod
    def connect(cls, url: str, token: str, *, agent: str, **options: Any) -> Workspace:
        """A replica synced live with a server: a `crdtspace.live.netreplica.NetworkReplica`
        (see `crdtspace.live.netreplica.connect` for the options)."""
        from crdtspace.live import netreplica

        return netreplica.connect(url, token, agent=agent, **options)

    def replica(self, agent: str) -> Workspace:
        """A new in-memory replica holding this one's current state, edited by `agent`."""
        self.flush()
        doc = new_doc()
        doc.apply_update(self.doc.get_update())
        return Workspace(doc, agent=agent, root=self.root)

    def close(self) -> None:
        self.flush()
        self.doc.unobserve(self._subscription)
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- updates in and out --------------------------------------------------------------

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    @property
    def document(self) -> Document:
        """The node tree. Reading it first writes out any text typed in this transaction that
        a splice still holds back (`FileIndex.write_held`), so nothing ever reads a Text
        without it."""
        if self._typing.holding:
            self._typing.write_held()
        return self._document

    def state(self) -> bytes:
        """This replica's state vector."""
        return bytes(self.doc.get_state())

    def update_since(self, state: bytes | None = None) -> bytes:
        """Everything this replica has that a replica at `state` lacks."""
        self.flush()
        return bytes(self.doc.get_update(state) if state is not None else self.doc.get_update())

    def apply_update(self, update: bytes) -> None:
        """Merge a remote update (idempotent, any order). Never re-segments anything."""
        self._settle_reads()
        self.flush(thorough=False)
        self._remote = True
        try:
            self.doc.apply_update(update)
            self._held = settle(self.doc, [*self._held, update])
        except Exception as exc:  # pycrdt raises plain exceptions for malformed input
            raise SyncError(f"A remote update could not be applied: {exc}") from exc
        finally:
            self._remote = False
        self._typing.indexes.clear()
        self.document.forget_caches()
        if self._log is not None:
            self._log.append(update)
        self._fold_identical()

    def _fold_identical(self) -> None:
        """Make concurrent identical changes count once, as git would.

        Two sides making the same edit (or adding the same unit) merge in a CRDT as two
        insertions: the text comes out doubled. When every head of a node holds the same
        texts and the merged node does not, the node is set to them, as an edit that has seen
        all heads; of two identical units created at once in one container, the one with the
        larger id is deleted. Replicas doing this at the same time start from the same state
        (the node's text is a function of the entries seen), so their edits delete the same
        items and merge cleanly."""
        if self._folding:
            return
        self._folding = True
        try:
            grown = grown_logs(self.document, self._fold_seen)
            for nid, texts in identical_folds(self.document, grown):
                self.set_node_texts(nid, texts)
            for nid in duplicate_units(self.document, grown):
                if self.document.path_of(nid) is not None:
                    self._delete(nid, "fold an identical addition")
        finally:
            self._folding = False

    def adopt(self, update: bytes) -> None:
        """Merge an update made on this replica's behalf elsewhere (e.g. a fork of a write
        from an older version) and pass it on to this replica's listeners as if it were local,
        so peers get it now rather than at the next state-vector sync."""
        self.apply_update(update)
        for listener in list(self._listeners):
            listener(update)

    def subscribe(self, listener: Callable[[bytes], None]) -> Callable[[], None]:
        """Call `listener(update)` after every local transaction; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _on_transaction(self, event: TransactionEvent) -> None:
        if self._pending_reads:  # changed behind transaction(): those reads' version is lost
            self._pending_reads.clear()
            self._read_marks[self._changes] = ""
        self._changes += 1
        self._version = None
        if not self._remote:
            self._pending.append(bytes(event.update))

    # -- transactions --------------------------------------------------------------------

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
            with self.doc.transaction(origin=self.agent) as txn:
                # pycrdt's private handle, for splices (see textedit.insert_text)
                self._txn = getattr(txn, "_txn", None)
                try:
                    yield
                finally:
                    self._typing.write_held()
                    self._write_log()
        finally:
            self._txn = None
            self._depth = 0
            self._publish()

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
        if (
            self._typed_only
            and self._touched
            and self._log is None
            and self._deferred_count < DEFER_LIMIT
        ):
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
            edits = tuple(self._edits.get(nid, ()))
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

    # -- reading -------------------------------------------------------------------------

    def paths(self) -> list[str]:
        return self.document.paths()

    def git_only(self) -> list[GitOnlyFile]:
        return [
            GitOnlyFile(path, _field(self.document.gitonly.get(path), "reason"))
            for path in sorted(self.document.gitonly.keys())
        ]

    def render(self, path: str, *, agent: str | None = None) -> Reading:
        """A file's text, with its version (noted as `agent`'s last read of the file). A node
        in an open overlap shows both sides and their base (`crdtspace.model.materialize`)."""
        path = self._path(path)
        views = materialize.in_file(self.document, path)
        text = materialize.render(self.document, path, views)
        return Reading(text, self._noted(path, agent))

    def render_all(self) -> dict[str, str]:
        """Every file's text (not noted as anybody's read)."""
        return {path: self.document.render(path) for path in self.paths()}

    def read(self, ref: str, *, agent: str | None = None) -> Reading:
        """A file's text (`path`) or a node's (`path::key`, `path::Qual.name`, or a bare key),
        with its version (noted as `agent`'s last read of the file)."""
        path, nid = self.resolve(ref)
        views = materialize.in_file(self.document, path)
        if nid is None:
            text = materialize.render(self.document, path, views)
        else:
            text = materialize.render_node(self.document, nid, views)
        return Reading(text, self._noted(path, agent))

    def overlap_sides(self, nid: str) -> materialize.Sides | None:
        """A node's base and sides when it is in an open overlap (for `conflicts --json`)."""
        return materialize.overlapped(self.document, nid)

    def _unmaterialized(self, path: str, text: str) -> str:
        """A writer's text with the overlap views it gave back unchanged put back as the
        merged nodes; a text that still holds conflict markers in such a file is refused."""
        views = materialize.in_file(self.document, path)
        if not views:
            return text
        text = materialize.unmaterialize(self.document, text, views)
        if materialize.has_markers(text):
            raise DocumentError(
                f"The text for {path!r} still holds conflict markers.",
                hint="keep one side, or write the lines as they should be, without the markers",
            )
        return text

    def resolve(self, ref: str) -> tuple[str, str | None]:
        """(path, node id or None for the whole file) for a reference."""
        self.flush()
        if "::" in ref:
            path, _, name = ref.partition("::")
            path = self._path(path)
            if name in self.document.nodes and self.document.path_of(name) == path:
                return path, name
            for entry in self._outline_entries(path):
                if entry.qualname == name:
                    return path, entry.key
            raise NodeNotFound(
                f"There is no node {name!r} in {path!r}.",
                hint=f"`crdtspace outline {path}` lists them",
            )
        if ref in self.document.files:
            return ref, None
        if ref in self.document.nodes:
            path_of = self.document.path_of(ref)
            if path_of is None:
                raise NodeNotFound(f"The node {ref!r} was deleted.")
            return path_of, ref
        return self._path(ref), None

    def _path(self, path: str) -> str:
        if path in self.document.files:
            return path
        relative = gitio.safe_relpath(self.root, path)
        if relative in self.document.files:
            return relative
        if relative in self.document.gitonly:
            reason = _field(self.document.gitonly.get(relative), "reason")
            raise DocumentError(f"{relative!r} is kept in git only: {reason}.")
        raise NodeNotFound(
            f"There is no file {path!r} in the workspace.", hint="`crdtspace status` lists them"
        )

    def outline(self, path: str, *, agent: str | None = None) -> Outline:
        """Every node of a file, in order, with its line range and last editor; with its
        version (noted as `agent`'s last read of the file)."""
        path = self._path(path)
        entries = self._outline_entries(path)
        return Outline(entries, self._noted(path, agent))

    def _outline_entries(self, path: str) -> list[OutlineEntry]:
        self.flush()
        path = self._path(path)
        layout = FileLayout.build(self.document, path)  # (iterative: any depth, any cycle)
        out: list[OutlineEntry] = []
        for nid in layout.order:
            span = layout.spans[nid]
            if not span.depth and span.kind != TEXT_KIND:
                continue
            text = layout.text[span.start : span.end]
            start = layout.line(span.start + len(text) - len(text.lstrip()))
            end = max(start, layout.line(span.start + len(text.rstrip("\r\n"))))
            out.append(
                OutlineEntry(
                    nid,
                    span.kind,
                    span.name,
                    span.qualname if span.depth else "",
                    span.depth,
                    start,
                    end,
                    self.last_editor(nid),
                    span.container,
                )
            )
        return out

    def last_editor(self, nid: str) -> str:
        heads = set(self.document.heads(nid))
        if not heads:
            return "(base)"
        agents = sorted({e.agent for e in self.document.log(nid) if e.id in heads})
        return ", ".join(agents)

    def log(self, ref: str) -> list[tuple[str, LogEntry]]:
        """(node id, entry) for a node, or for every node of a file in outline order."""
        path, nid = self.resolve(ref)
        ids = [nid] if nid is not None else [e.key for e in self._outline_entries(path)]
        return [(i, entry) for i in ids for entry in self.document.log(i)]

    def heads(self, nid: str) -> tuple[str, ...]:
        return self.document.heads(nid)

    def status(self) -> Status:
        self.flush()
        plain: list[str] = []
        unparsed: list[str] = []
        structured = 0
        for path in self.paths():
            roots = self.document.roots(path)
            kinds = [self.document.node(r)["kind"] for r in roots]
            if TEXT_KIND in kinds:
                (unparsed if profile_for(path) else plain).append(path)
            else:
                structured += 1
        nodes = len(self.document.nodes)
        agents = sorted({_field(v, "name") for v in self.document.agents.values()} - {""})
        return Status(
            base=str(self.document.meta.get("base", "")),
            agent=self.agent,
            files=len(self.paths()),
            structured=structured,
            plain_text=plain,
            unparsed=unparsed,
            git_only=self.git_only(),
            agents=agents,
            nodes=nodes,
            state_dir=str(self._log.path.parent) if self._log is not None else None,
        )

    # -- editing by node -----------------------------------------------------------------

    def replace(
        self,
        ref: str,
        text: str,
        *,
        description: str = "replace",
        base: str | None = None,
        agent: str | None = None,
    ) -> str:
        """Give a node new text; its key stays. Returns the key. Made from `base` (a version;
        by default the agent's last read, see `base_of`): only the change from the node's text
        there is applied, concurrent with whatever happened since."""
        return self._from_base(
            self._path_of_ref(ref),
            base,
            agent,
            lambda ws: ws._replace(ref, text, description),
        )

    def _replace(self, ref: str, text: str, description: str) -> str:
        path, nid = self.resolve(ref)
        text = self._unmaterialized(path, text)
        if nid is None:
            self._write_whole(path, text, description)
            return self.document.roots(path)[0]
        with self.transaction(description):
            node = self.document.node(nid)
            if "text" in node:
                log = functools.partial(self._record, nid, "text")
                if set_text(node["text"], str(node["text"]), text, log):
                    self._touch(nid, "edit")
                self._typing.retyped(path, nid)
            else:
                start, end = self._span(path, nid)
                whole = self.document.render(path)
                self._write(path, whole[:start] + text + whole[end:])
        return nid

    def insert(
        self,
        parent: str,
        after: str | None,
        text: str,
        *,
        description: str = "insert",
        base: str | None = None,
        agent: str | None = None,
    ) -> list[str]:
        """Insert new units (as source text) into a container, after a child or first.
        Returns the keys of the units created. (`base`, `agent`: as for `replace`.)"""
        return self._from_base(
            self._path_of_ref(parent),
            base,
            agent,
            lambda ws: ws._insert(parent, after, text, description),
        )

    def _insert(self, parent: str, after: str | None, text: str, description: str) -> list[str]:
        path, container = self.resolve(parent)
        if container is None:
            container = self.document.roots(path)[0]
        if not self.document.is_container(container):
            raise DocumentError(
                f"The node {container!r} is not a container; insert into its parent."
            )
        whole = self.document.render(path)
        if after is None:
            start, _ = self._span(path, container)
            pos = start + len(str(self.document.node(container)["head"]))
        else:
            _, after_id = self.resolve(after if "::" in after else f"{path}::{after}")
            if after_id is None or after_id not in self.document.children(container):
                raise DocumentError(f"{after!r} is not a child of {parent!r}.")
            _, pos = self._span(path, after_id)
        with self.transaction(description):
            result = self._write(path, whole[:pos] + text + whole[pos:])
        created = set(result.created)
        return [n for n in result.created if self.document.parent(n) not in created]

    def delete(
        self,
        ref: str,
        *,
        description: str = "delete",
        base: str | None = None,
        agent: str | None = None,
    ) -> None:
        """Take a node out of its container (its log stays, for conflicts and history).
        (`base`, `agent`: as for `replace`; a node edited since `base` is a delete-edit.)"""
        self._from_base(
            self._path_of_ref(ref), base, agent, lambda ws: ws._delete(ref, description)
        )

    def _delete(self, ref: str, description: str) -> None:
        path, nid = self.resolve(ref)
        if nid is None:
            self.remove(path, description=description)
            return
        with self.transaction(description):
            parent = self.document.parent(nid)
            if not parent:
                self.remove(path, description=description)
                return
            siblings = self.document.children(parent)
            where = siblings.index(nid) if nid in siblings else 0
            self._deleted_after[nid] = siblings[where - 1] if where > 0 else ""
            self.document.take_out(parent, nid)
            self._touch(nid, "delete")
            self._typing.structure_changed(path)

    def move(
        self,
        ref: str,
        parent: str,
        after: str | None = None,
        *,
        description: str = "move",
        base: str | None = None,
        agent: str | None = None,
    ) -> None:
        """Move a node into `parent` (a container), after `after` or first. (`base`, `agent`:
        as for `replace`.)"""
        self._from_base(
            self._path_of_ref(ref),
            base,
            agent,
            lambda ws: ws._move(ref, parent, after, description),
        )

    def _move(self, ref: str, parent: str, after: str | None, description: str) -> None:
        path, nid = self.resolve(ref)
        target_path, target = self.resolve(parent)
        if nid is None:
            raise DocumentError("Whole files cannot be moved; name a node.")
        if target is None:
            target = self.document.roots(target_path)[0]
        if not self.document.is_container(target):
            raise DocumentError(f"The node {parent!r} is not a container.")
        ancestor: str = target
        seen: set[str] = set()
        while ancestor and ancestor not in seen:  # (a peer's cycle of parents ends the walk)
            if ancestor == nid:
                raise DocumentError("A node cannot be moved into itself.")
            seen.add(ancestor)
            ancestor = self.document.parent(ancestor) if self.document.has_node(ancestor) else ""
        with self.transaction(description):
            old_parent = self.document.parent(nid)
            if old_parent:
                self.document.take_out(old_parent, nid)
            body = self.document.node(target)["body"]
            position = 0
            if after is not None:
                _, after_id = self.resolve(after if "::" in after else f"{target_path}::{after}")
                items = list(body)
                if after_id not in items:
                    raise DocumentError(f"{after!r} is not a child of {parent!r}.")
                position = items.index(after_id) + 1
            body.insert(position, nid)
            self.document.set_parent(nid, target)
            self._touch(nid, "move")
            self._typing.structure_changed(path)
            self._typing.structure_changed(target_path)

    # -- editing by text -----------------------------------------------------------------

    def write(
        self,
        path: str,
        text: str,
        *,
        description: str = "write",
        base: str | None = None,
        agent: str | None = None,
    ) -> Result:
        """A whole-file edit (an agent or editor saving): re-keyed into per-node edits.

        Made from `base` (a version; by default the agent's last read of the file, see
        `base_of`): only the writer's change from the file as it was there is applied, as an
        edit concurrent with everything since, so nothing the writer had not seen is undone;
        where both changed the same lines, the conflict layer reports an overlap."""
        relative = self._new_path(path)
        size = len(text.encode("utf-8", "surrogateescape"))
        if size > gitio.DEFAULT_SIZE_LIMIT:
            raise DocumentError(
                f"{relative!r}: {size:,} bytes is over the workspace's size limit of "
                f"{gitio.DEFAULT_SIZE_LIMIT:,} bytes.",
                hint="files that large stay git-only: change it in git",
            )
        if relative in self.document.gitonly:
            reason = self.document.gitonly[relative]["reason"]
            raise DocumentError(
                f"{relative!r} is kept in git only ({reason}); crdtspace does not write it.",
                hint="change it in git and run `crdtspace sync-git`",
            )
        return self._from_base(
            relative, base, agent, lambda ws: ws._write_whole(relative, text, description)
        )

    def _write_whole(self, path: str, text: str, description: str) -> Result:
        if path in self.document.files:
            text = self._unmaterialized(path, text)
        with self.transaction(description):
            return self._write(path, text)

    def _write(self, path: str, text: str) -> Result:
        self._typing.flush_path(path, thorough=True)
        if path not in self.document.files:
            result = create_file(self.document, path, text, self._rekeyer)
        else:
            index = self._typing.index(path)
            result = rekey_file(
                self.document, path, text, self._rekeyer, self._touch, self._record, index
            )
            if index.structured:  # kept exact by rekey_file
                return result
        self._typing.indexes.pop(path, None)
        return result

    def remove(self, path: str, *, description: str = "remove") -> None:
        """Remove a file from the workspace."""
        path = self._path(path)
        with self.transaction(description):
            for root in self.document.roots(path):
                self._touch(root, "delete")
            del self.document.files[path]
            self._typing.structure_changed(path)

    def splice(self, path: str, offset: int, delete: int = 0, insert: str = "") -> None:
        """An editor's character edit at a character offset of a file.

        The edit lands in the node texts it falls in (found by binary search, no render) and
        marks their top-level units dirty (and which children of them, for a container). The
        dirty units are re-segmented on their own and re-keyed (so units typed into existence
        appear, and units typed across merge) before anything reads structure (outline,
        resolve, sending or receiving updates), when one splice leaves more than
        MAX_DIRTY_SLOTS units dirty, and one at a time, the least recently typed, when typing
        moves on while DIRTY_SLOTS units are dirty; not at every newline, which would re-parse
        a large unit per line typed. Typing inside children of a container (methods
        of a class) re-parses those children in the container's context, not the container.
        A unit that did not parse waits for RETRY_AFTER more splices, or for a structure read,
        before it is parsed again. (The typing state and these constants: `splicing`.)
        """
        if path not in self._typing.indexes:  # (an indexed path is valid: skip the lookups)
            path = self._path(path)
        # The typist's own keystrokes are part of what it has seen: a write it makes next is
        # based on the text it typed into, not on a read from before.
        self._settle_reads()
        self.versions.forget_read(self.agent, path)
        if self._depth:
            self._typing.splice(path, offset, delete, insert, self._txn)
            return
        with self.transaction():
            self._typing.splice(path, offset, delete, insert, self._txn)

    def flush(self, *, thorough: bool = True) -> None:
        """Re-key every region typed into since its last re-key (`thorough`: also files whose
        typed regions did not parse on their own, by re-segmenting them whole), and write the
        log entries of the typing session."""
        for path in self._typing.pending(thorough=thorough):
            with self.transaction():
                self._typing.flush_path(path, thorough=thorough)
        self._seal()

    def _span(self, path: str, nid: str) -> tuple[int, int]:
        """The character range a node renders at in its file (a walk without recursion that
        stops at the node; a node reached twice renders once, as in `Document.render`)."""
        document = self.document
        offset = 0
        seen: set[str] = set()
        stack: list[Any] = document.roots(path)  # ids to open, and tails (Texts) to pass
        stack.reverse()
        while stack:
            item = stack.pop()
            if type(item) is not str:
                offset += len(str(item))
                continue
            if item in seen:
                continue
            if item == nid:
                out: list[str] = []
                document.render_into(item, out, seen)
                return offset, offset + sum(map(len, out))
            seen.add(item)
            node = document.node(item)
            if "text" in node:
                offset += len(str(node["text"]))
                continue
            offset += len(str(node["head"]))
            stack.append(node["tail"])
            children = document.children(item)
            children.reverse()
            stack.extend(children)
        raise NodeNotFound(f"The node {nid!r} is not in {path!r}.")

    def _target(self, nid: str, op: str) -> str:
        """What a log entry's `to` says: a move's container, a delete's previous sibling."""
        if op == "move":
            return self.document.parent(nid)
        if op == "delete":
            return self._deleted_after.get(nid, "")
        return ""

    # -- versions and bases --------------------------------------------------------------

    def version(self) -> str:
        """The version of the current state: a write given it as `base` is applied as made
        from this state (concurrent with everything that happens after)."""
        if self._depth:
            raise DocumentError("A version cannot be taken inside a transaction.")
        if self._version is None:
            # (outside any transaction: yrs would wait for itself)
            self._version = self.versions.add(snapshot(self.doc))
        return self._version

    def commit_version(self) -> str:
        """The version of the last commit this workspace imported or made."""
        snap = self.document.meta.get("base_version")
        if snap is None:
            raise VersionError(
                "This workspace records no version of its base commit (it predates versions).",
                hint="give the write the version it was made from (show --json prints it)",
            )
        return self.versions.add(bytes(snap))

    def base_of(self, path: str, base: str | None = None, agent: str | None = None) -> str:
        """The version a write of `path` by `agent` is made from: `base` if given, else the
        agent's last read of the file (or its last write), else the current state (an
        in-memory replica: its agent has seen what it holds) or the last commit (a durable,
        shared workspace: git's view), as `unread_base` says."""
        if base is not None:
            self.versions.get(base)  # an unknown version is an error, never a guess
            return base.strip()
        tracked = self.versions.last_read(agent or self.agent, path)
        if tracked is not None and tracked in self.versions:
            return tracked
        if self.unread_base == "commit":
            return self.commit_version()
        return self.version()

    def _noted(self, path: str, agent: str | None) -> Callable[[], str]:
        """Note a read of `path` by `agent` at the current state; returns the read's version
        (taken lazily: see `_settle_reads`)."""
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

    def _from_base(
        self,
        path: str,
        base: str | None,
        agent: str | None,
        edit: Callable[[Workspace], _T],
    ) -> _T:
        """Run `edit` as `agent`'s edit made from the version `base_of` gives: here when that
        is the current state, else on a fork restored to it, merged back as a concurrent edit
        (see `crdtspace.model.versions`). Afterwards the agent's last read of `path` is what it
        wrote (its base plus its change, without what it had not seen)."""
        who = agent or self.agent
        self._settle_reads()
        if self._depth:
            if base is not None and base != self._version:
                raise DocumentError(
                    "A write from an older version cannot be part of a transaction.",
                    hint="write it outside the transaction",
                )
            with self.acting_as(who):
                return edit(self)
        if (
            base is None
            and self.unread_base == "current"
            and self.versions.last_read(who, path) is None
        ):  # nothing to be based on but the current state: no version needed
            with self.acting_as(who):
                return edit(self)
        vid = self.base_of(path, base, who)
        if vid == self.version():
            with self.acting_as(who):
                result = edit(self)
            self.versions.note_read(who, path, self.version())
            return result
        forked = self.fork_at(vid, agent=who)
        try:
            result = edit(forked)
        except BaseException:
            forked.close()
            raise
        written = self.merge_fork(forked)
        self.versions.note_read(who, path, written)
        return result

    def fork_at(self, version: str, *, agent: str | None = None) -> Workspace:
        """An in-memory workspace restored to `version`, edited by `agent`: what is done there
        is merged back by `merge_fork` as edits made from that version (a writer's stale read,
        a run of commits made in git from the base commit)."""
        forked = Workspace(
            fork(self.doc, self.versions.get(version)),
            agent=agent or self.agent,
            root=self.root,
            fork_of=self.client_id,
        )
        forked._fork_start = forked.doc.get_state()
        return forked

    def merge_fork(self, forked: Workspace) -> str:
        """Merge what was done on a fork (see `fork_at`) and close it; returns the version of
        the fork's final state (its base plus its edits, none of what happened since)."""
        try:
            update = forked.update_since(forked._fork_start)
            written = self.versions.add(snapshot(forked.doc))
        finally:
            forked.close()
        self.adopt(update)
        return written

    def _path_of_ref(self, ref: str) -> str:
        """The file a reference names, even when the node it names is gone or renamed now."""
        if "::" in ref:
            return self._new_path(ref.partition("::")[0])
        if ref in self.document.files:
            return ref
        if ref in self.document.nodes:
            path = self.document.path_of(ref)
            if path is None:
                raise NodeNotFound(
                    f"The node {ref!r} was deleted.",
                    hint="name it with its file (PATH::KEY) to write from a version that had it",
                )
            return path
        return self._new_path(ref)

    # -- conflicts -------------------------------------------------------------------------

    def analysis(self) -> Analysis:
        """Conflicts, notices and single-side breakage of the current state (incremental)."""
        self.flush()
        if self._analyzer is None:
            self._analyzer = Analyzer(self.document)
        return self._analyzer.analyse()

    def conflicts(self) -> list[Conflict]:
        """The open conflicts (see `analysis()` for notices and broken code too)."""
        return list(self.analysis().conflicts)

    def resolve_conflict(
        self,
        conflict_id: str,
        take: str | None = None,
        text: str | None = None,
        *,
        base: str | None = None,
    ) -> Conflict:
        """Resolve a conflict by taking a side (an agent, "ours" or "theirs") or with a text
        for its node. The resolution is a CRDT edit every replica sees; returns the conflict.
        A text made from a read of the node (`base`: that read's version) is applied from it:
        what changed the node since stays, concurrent with the resolution."""
        if (take is None) == (text is None):
            raise DocumentError("Resolve a conflict either by taking a side or with a text.")
        conflict = self.analysis().find(conflict_id)
        if conflict is None:
            raise DocumentError(
                f"There is no open conflict {conflict_id!r}.",
                hint="`crdtspace conflicts` lists them",
            )
        if text is not None and base is not None and base.strip() != self.version():
            forked = self.fork_at(base.strip())
            try:
                seen = forked.analysis().find(conflict.id)
                if seen is None:
                    raise DocumentError(
                        f"Conflict {conflict.id} was not open at version {base.strip()}."
                    )
                with forked.transaction(f"resolve {conflict.id}"):
                    resolution.apply_text(forked, seen, text)
                    resolution.record(forked, seen, "edit")
            except BaseException:
                forked.close()
                raise
            self.merge_fork(forked)
            return conflict
        with self.transaction(f"resolve {conflict.id}"):
            if take is not None:
                agent = resolution.pick_agent(self, conflict, take)
                resolution.apply_take(self, conflict, agent)
                resolution.record(self, conflict, f"take {agent}")
            else:
                resolution.apply_text(self, conflict, text or "")
                resolution.record(self, conflict, "edit")
        return conflict

    # -- the gate ---------------------------------------------------------------------------

    def report(self) -> bool:
        """Tell the other replicas which edits this one has seen (for the commit gate's
        convergence check). Written only when it changed, so replicas reporting to each other
        settle. Returns whether a report was written."""
        key = str(self.client_id)
        if key not in self.document.agents:
            return False  # a replica that never edited holds nothing the gate could miss
        seen = sorted(self.document.needed_state().items())
        old = self.document.reports_map.get(key)
        if old is not None and [tuple(p) for p in old.get("seen", [])] == seen:
            return False
        value = {"agent": self.agent, "seen": [list(p) for p in seen]}
        with self.transaction("report"):
            self.document.reports_map[key] = value
        return True

    def local_sessions(self) -> set[int]:
        """Client ids of earlier sessions of this durable workspace on this machine (each
        `open` is a new client): their edits are all in the local log, so the gate never waits
        for them to catch up."""
        if self._log is None:
            return set()
        path = self._log.path.parent / SESSIONS_FILE
        try:
            lines = path.read_text(encoding="ascii").split()
        except OSError:
            return set()
        return {int(x, 16) for x in lines if all(c in "0123456789abcdef" for c in x)}

    def _note_session(self) -> None:
        if self._log is None:
            return
        path = self._log.path.parent / SESSIONS_FILE
        with open(path, "a", encoding="ascii") as handle:
            handle.write(f"{self.client_id:x}\n")

    def contributors(self) -> list[str]:
        """Agents with edits since the last commit through the gate (or since the import)."""
        done: dict[int, int] = {}
        for pair in self.document.meta.get("committed", []) or []:
            try:  # (a peer's malformed value counts as nothing committed)
                client, clock = pair
                done[int(client)] = int(clock)
            except (TypeError, ValueError):
                continue
        names: set[str] = set()
        for nid in self.document.edited_nodes():
            if not self.document.has_node(nid):
                continue
            for entry in self.document.log(nid):
                if entry.clock(entry.client) >= done.get(entry.client, 0):
                    names.add(entry.agent)
        return sorted(names)

    def committed(self, commit: str, *, state: bytes | None = None) -> None:
        """Record that the current state is now commit `commit` of the branch (the new base);
        `state`: the snapshot of what was committed (`crdtspace.model.versions.snapshot`, taken when
        the files were rendered; default now), the base of writes with no known base."""
        needed = self.document.needed_state()
        if state is None:
            self.flush()
            state = snapshot(self.doc)
        with self.transaction("commit"):
            self.document.meta["base_version"] = state
            self.document.meta["base"] = commit
            self.document.meta["committed"] = [[c, k] for c, k in sorted(needed.items())]

    def commit(
        self,
        message: str,
        *,
        check: str | None = None,
        wait: float = 0.0,
        allow_behind: bool = False,
        run_check: bool = True,
    ) -> GateReport:
        """Commit the current state to the branch through the gate (see `crdtspace.git.gate`)."""
        from crdtspace.git import gate

        options = gate.GateOptions(message, check, wait, allow_behind, run_check)
        return gate.commit(self, options)

    @contextmanager
    def acting_as(self, agent: str) -> Iterator[None]:
        """Edits inside are logged as `agent`'s (commits from git are applied as their author's)."""
        previous, self.agent = self.agent, agent
        try:
            yield
        finally:
            self.agent = previous

    def forget_path(self, path: str) -> None:
        """A file deleted in git: removed from the workspace, text or git-only."""
        if path in self.document.files:
            self.remove(path, description="deleted in git")
        elif path in self.document.gitonly:
            with self.transaction("deleted in git"):
                del self.document.gitonly[path]

    def keep_in_git(self, path: str, blob: str, mode: str, reason: str) -> None:
        """A file git holds that the workspace does not edit (binary, huge, a link, ...)."""
        with self.transaction("kept in git"):
            if path in self.document.files:
                self.remove(path, description="became git-only")
            self.document.gitonly[path] = Map({"reason": reason, "blob": blob, "mode": mode})

    def set_mode(self, path: str, mode: str) -> None:
        """A file's git mode (100644, 100755)."""
        roots = self.document.roots(self._path(path))
        if roots and self.document.mode(path) != mode:
            with self.transaction("mode"):
                self.document.node(roots[0])["mode"] = mode

    def sync_git(self) -> SyncReport:
        """Apply commits that arrived on the branch from outside (see `crdtspace.git.gitsync`)."""
        from crdtspace.git.gitsync import sync_git

        return sync_git(self)

    def new_entry_id(self) -> str:
        return self._new_id()

    def set_node_texts(self, nid: str, texts: dict[str, str]) -> None:
        """Give a node these texts (and name), as one edit that has seen all its heads."""
        path = self.document.path_of(nid)
        with self.transaction("resolve"):
            node = self.document.node(nid)
            parts = ("text",) if "text" in node else ("head", "tail")
            for part in parts:
                log = functools.partial(self._record, nid, part)
                set_text(node[part], str(node[part]), texts.get(part, ""), log)
            name = texts.get("name")
            if name is not None and name != str(node["name"]):
                self._record(nid, "name", 0, str(node["name"]), name)
                node["name"] = name
            self._touch(nid, "edit")
            if path is not None:
                self._typing.structure_changed(path)

    def record_raw_edit(self, nid: str, before: dict[str, str], *, agent: str) -> bool:
        """Log, as `agent`'s, a change made to a node's texts with no log entry (a Yjs client
        typing into it straight): its texts went from `before` to what they are now. The entry
        has seen the node's current heads and carries `before` as its base, so the history and
        the conflict layer see the change like any other edit. Returns whether there was one."""
        if not self.document.has_node(nid):
            return False
        after = self.document.texts(nid)
        changes: list[TextEdit] = []
        for part in sorted(set(before) | set(after)):
            if part == "name":
                continue
            # descending positions: each edit is then against the text the previous one left
            for edit in reversed(diff(before.get(part, ""), after.get(part, ""))):
                old = before.get(part, "")[edit.pos : edit.pos + edit.delete]
                changes.append((part, edit.pos, old, edit.insert))
        if not changes:
            return False
        self._raw_edit = True
        try:
            with self.acting_as(agent), self.transaction("edited its text directly"):
                for part, pos, old, new in changes:
                    self._record(nid, part, pos, old, new)
                self._touch(nid, "edit")
        finally:
            self._raw_edit = False
        return True

    def confirm_delete(self, nid: str) -> None:
        """Record that a deleted node stays deleted, as an entry that has seen all its heads."""
        with self.transaction("resolve: delete"):
            self._touch(nid, "delete")

    def restore(self, nid: str, texts: dict[str, str]) -> None:
        """Put a deleted node back where it was (after its old previous sibling), with texts."""
        document = self.document
        node = document.node(nid)
        parent = document.parent(nid)
        with self.transaction("resolve: restore"):
            if not parent:
                path = str(node.get("path", ""))
                if path in document.files:
                    raise DocumentError(f"{path!r} exists again; edit it instead.")
                document.files[path] = Array([nid])
            else:
                if document.path_of(parent) is None:
                    raise DocumentError(
                        f"The container of node {nid!r} is gone too; restore it first."
                    )
                deletes = [e for e in document.log(nid) if e.op == "delete"]
                after = deletes[-1].to if deletes else ""
                siblings = document.children(parent)
                body = document.node(parent)["body"]
                items = list(body)
                position = items.index(after) + 1 if after in siblings else len(items)
                body.insert(position, nid)
                document.set_parent(nid, parent)
            self.set_node_texts(nid, texts)
            self._touch(nid, "move")
            path_now = document.path_of(nid)
            if path_now is not None:
                self._typing.structure_changed(path_now)

    def place(self, nid: str, container: str) -> None:
        """Put a node in `container` only (after a move + move it sits in two bodies)."""
        document = self.document
        if not document.is_container(container):
            raise DocumentError(f"The node {container!r} is not a container.")
        with self.transaction("resolve: place"):
            for holder in {document.parent(nid), container}:
                if holder and document.has_node(holder):
                    document.take_out(holder, nid)
            document.node(container)["body"].append(nid)
            document.set_parent(nid, container)
            self._touch(nid, "move")
            path = document.path_of(nid)
            if path is not None:
                self._typing.structure_changed(path)

    def _new_path(self, path: str) -> str:
        if path in self.document.files:
            return path
        if self.root is not None:
            return gitio.safe_relpath(self.root, path)
        if path.startswith(("/", "../")) or "/../" in path or path.startswith(".git/"):
            raise DocumentError(f"The path {path!r} is outside the repository.")
        return path


def _field(value: Any, key: str) -> str:
    """A text field of a small map (an agent, a git-only entry); "" when the entry has no such
    field or is not a map (a peer's update may hold any shape)."""
    try:
        found = value.get(key)
    except (AttributeError, TypeError):
        return ""
    return found if isinstance(found, str) else ""


def _undo(text: str, part: str, edits: tuple[TextEdit, ...]) -> str:
    """The text of `part` before `edits` (applied in order) made it `text`."""
    for edit_part, pos, old, new in reversed(edits):
        if edit_part == part:
            text = text[:pos] + old + text[pos + len(new) :]
    return text
