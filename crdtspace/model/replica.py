"""The replica: one copy of the shared document, its agent, its durable log, and the node API.

`Replica` is the last of a chain of classes, one module each (`core`, `reads`, `bases`,
`nodeedits`, `recorded`, `sessions`); this module adds how a replica is made and how it folds
concurrent identical changes. What needs the layers above (conflicts, the gate, git, the
network) is in the public `crdtspace.Workspace`, which is a `Replica`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Self

from pycrdt import Doc, Map

from crdtspace.errors import CrdtspaceWarning
from crdtspace.model import squash
from crdtspace.model.collect import (
    Ranges,
    collect,
    collectable,
    read_delete_set,
    read_snapshot,
    read_state,
)
from crdtspace.model.document import ROOTS
from crdtspace.model.folding import duplicate_units, identical_folds
from crdtspace.model.history import History
from crdtspace.model.sessions import Sessions
from crdtspace.model.storage import UpdateLog
from crdtspace.model.versions import VersionStore, new_doc, snapshot


class Replica(Sessions):
    """One replica: a pycrdt Doc with the crdtspace schema, edited by one agent."""

    # -- creating ------------------------------------------------------------------------

    @classmethod
    def durable(cls, doc: Doc[Any], agent: str, log: UpdateLog, root: Path) -> Self:
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
                stacklevel=4,  # (the caller of Workspace.open)
            )
            state = snapshot(doc)
            with ws.transaction("versions"):
                ws.document.meta["base_version"] = state
        return ws

    def replica(self, agent: str) -> Replica:
        """A new in-memory replica holding this one's current state, edited by `agent`."""
        return Replica(self.copy_doc(), agent=agent, root=self.root)

    def copy_doc(self) -> Doc[Any]:
        """A new document holding this replica's current state."""
        self.flush()
        doc = new_doc()
        doc.apply_update(self.doc.get_update())
        return doc

    def kept_versions(self) -> list[bytes]:
        """The snapshots this replica may still restore: its stored versions and the base
        commit's (writes with no known base are based on it)."""
        kept = self.versions.kept()
        base = self.document.meta.get("base_version")
        if isinstance(base, bytes | bytearray):
            kept.append(bytes(base))
        return kept

    def stored_update(self) -> bytes:
        """The whole document as its compacted log stores it: the content of deleted items
        that no kept version shows is left out (`crdtspace.model.collect`). Applied to a fresh
        document it gives the same state, texts, and kept versions."""
        self.flush()
        return self._collected(bytes(self.doc.get_update()))[0]

    def _collected(self, update: bytes) -> tuple[bytes, Ranges | None]:
        """`update` collected, and its delete set (None: unreadable, kept whole; never
        expected of yrs's own encoding)."""
        try:
            deleted = read_delete_set(update)
        except ValueError:
            return update, None
        return collect(update, collectable(deleted, self.kept_versions())), deleted

    def compact_log(self) -> bool:
        """Replace the durable log by one record of `stored_update` (checked first: applied to
        a fresh document it must give this one's state vector, delete set and roots; if not,
        the whole document is stored, as before collection). Whether content was left out."""
        if self._log is None:
            return False
        self.flush()
        full = bytes(self.doc.get_update())
        stored, deleted = self._collected(full)
        if stored != full and not _same_document(self.doc, stored, deleted):
            warnings.warn(
                "Deleted content could not be left out of the stored log (a check failed); "
                "the whole document is stored.",
                CrdtspaceWarning,
                stacklevel=2,
            )
            stored = full
        self._log.compact(stored)
        return stored != full

    def squash_history(self) -> int:
        """Fold each node's settled log entries into one (`crdtspace.model.squash`); how many
        nodes were squashed. Settled: every version a write may still be made from had seen
        them (the base commit's, and the one each agent last read of each file: older ones
        are dropped first; a write from one is refused as unknown, to be read again), and no
        other replica can still write (every other replica that edited has finished or was
        forgotten, none came through a git exchange). Else nothing is done. Meant for just
        after a commit through the gate, which records the base commit's version anew."""
        if self.networked or self._fork_of is not None or not self._others_finished():
            return 0
        self.flush()
        self.versions.squashed()
        floors = [read_snapshot(snap)[1] for snap in self.kept_versions()]
        floors.append(read_state(self.state()))
        plans = squash.plan(self.document, self.document.edited_nodes(), floors)
        if plans:
            with self.transaction("squash"):
                squash.apply(self.document, plans)
        return len(plans)

    def _others_finished(self) -> bool:
        """Whether every other replica that edited has said it finished, or was forgotten."""
        if self.exchanged():
            return False
        local = self.local_sessions()
        reports = self.document.reports_map
        for key, who in self.document.agents.items():
            if key == str(self.client_id) or (isinstance(who, dict) and "of" in who):
                continue
            try:
                client = int(key)
            except ValueError:
                return False
            if client in local or f"forget:{client}" in reports:
                continue
            report = reports.get(key)
            if not isinstance(report, dict) or not report.get("done"):
                return False
        return True

    # -- identical concurrent changes ----------------------------------------------------

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
            # Read in one pycrdt transaction (each read would open and commit its own), and
            # written after it: only the nodes whose logs grew since the last merge are looked
            # at (`LogWatch`).
            with self.doc.transaction():
                grown = self._fold_watch.grown(self.document)
                if not grown:
                    return
                history = History(self.document)
                folds = identical_folds(self.document, grown, history)
                duplicates = [] if folds else duplicate_units(self.document, grown, history)
            for nid, texts in folds:
                self.set_node_texts(nid, texts)
            if folds:  # (the document changed)
                duplicates = duplicate_units(self.document, grown, History(self.document))
            for nid in duplicates:
                if self.document.path_of(nid) is not None:
                    self._delete(nid, "fold an identical addition")
        finally:
            self._folding = False


def _same_document(doc: Doc[Any], update: bytes, deleted: Ranges | None) -> bool:
    """Whether `update` holds what `doc` does: the same state vector, delete set (`deleted`,
    read from `doc`'s own update) and roots."""
    fresh = new_doc()
    try:
        fresh.apply_update(update)
        if read_state(bytes(fresh.get_state())) != read_state(bytes(doc.get_state())):
            return False
        if read_delete_set(bytes(fresh.get_update())) != deleted:
            return False
        names = set(doc.keys()) & set(ROOTS)
        return all(
            fresh.get(name, type=Map).to_py() == doc.get(name, type=Map).to_py() for name in names
        )
    except Exception:  # pycrdt raises plain exceptions (a root of another type, say)
        return False
