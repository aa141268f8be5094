"""Creating nodes: a segment tree written into the document, through pycrdt's Rust core.

`Document` inherits `NodeBuilder`; its fast path makes exactly the calls of the public-API
path (`_add_slow`), so both write the same bytes (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Array, Doc, Map, ReadTransaction, Text, Transaction

from crdtspace.model.segment import Seg


class NodeBuilder:
    """The node-creating part of `Document` (which sets these attributes)."""

    doc: Doc[Any]
    nodes: Map[Any]
    _parent_cache: dict[str, str]

    def add_seg(self, seg: Seg, parent: str, new_id: Callable[[Seg, str], str]) -> str:
        """Create the nodes of a segment tree (pre-order); returns the top node's id.

        `new_id(seg, key_path)` names each node; key_path is its position in the tree
        ("", "0", "0/3", ...), which makes imported ids deterministic.
        """
        return self._add_core(seg, parent, new_id)[0]

    def _add_core(
        self, seg: Seg, parent: str, new_id: Callable[[Seg, str], str]
    ) -> tuple[str, Any | None]:
        """`add_seg` through pycrdt's Rust core; returns the top id and its core map (or None).

        pycrdt's Python layer costs about 30 µs per node (a transaction context, type checks
        and a wrapper per value); an import creates ~90k nodes. The core calls made here are
        exactly those pycrdt makes for `_add_slow`, in the same order, so both write the same
        bytes (tested). Any failure to reach the core (pycrdt changed) takes the slow path.
        """
        with self.doc.transaction() as txn:
            core = core_of(self.nodes, txn)
            if core is None:  # pragma: no cover - pycrdt changed
                return self._add_slow(seg, parent, "", new_id), None
            nodes, core_txn = core
            return self._add_fast(seg, parent, "", new_id, nodes, core_txn)

    def _add_fast(
        self,
        seg: Seg,
        parent: str,
        key: str,
        new_id: Callable[[Seg, str], str],
        nodes: Any,
        txn: Any,
    ) -> tuple[str, Any]:
        nid = new_id(seg, key)
        self._parent_cache[nid] = parent
        if seg.text is not None:
            node = nodes.insert_map_prelim(txn, nid)
            node.insert(txn, "kind", seg.kind)
            node.insert(txn, "name", seg.name)
            node.insert(txn, "parent", parent)
            node.insert_text_prelim(txn, "text").insert(txn, 0, seg.text)
            node.insert_array_prelim(txn, "log")
            return nid, node
        prefix = f"{key}/" if key else ""
        child_ids = [
            self._add_fast(child, nid, f"{prefix}{i}", new_id, nodes, txn)[0]
            for i, child in enumerate(seg.children)
        ]
        node = nodes.insert_map_prelim(txn, nid)
        node.insert(txn, "kind", seg.kind)
        node.insert(txn, "name", seg.name)
        node.insert(txn, "parent", parent)
        node.insert_text_prelim(txn, "head").insert(txn, 0, seg.head)
        node.insert_text_prelim(txn, "tail").insert(txn, 0, seg.tail)
        node.insert_array_prelim(txn, "log")
        body = node.insert_array_prelim(txn, "body")
        for i, child_id in enumerate(child_ids):
            body.insert(txn, i, child_id)
        return nid, node

    def _add_slow(self, seg: Seg, parent: str, key: str, new_id: Callable[[Seg, str], str]) -> str:
        """`add_seg` through pycrdt's public API: the reference the fast path must equal."""
        nid = new_id(seg, key)
        self._parent_cache[nid] = parent
        fields: dict[str, Any] = {"kind": seg.kind, "name": seg.name, "parent": parent}
        if seg.text is not None:
            fields["text"] = Text(seg.text)
            fields["log"] = Array()
            self.nodes[nid] = Map(fields)
            return nid
        fields["head"] = Text(seg.head)
        fields["tail"] = Text(seg.tail)
        fields["log"] = Array()
        prefix = f"{key}/" if key else ""
        child_ids = [
            self._add_slow(child, nid, f"{prefix}{i}", new_id)
            for i, child in enumerate(seg.children)
        ]
        fields["body"] = Array(child_ids)
        self.nodes[nid] = Map(fields)
        return nid


def core_of(shared: Map[Any] | Array[Any], txn: Transaction) -> tuple[Any, Any] | None:
    """A shared type's Rust object and the transaction's, or None if pycrdt's internals moved."""
    if isinstance(txn, ReadTransaction):
        return None
    core_txn = getattr(txn, "_txn", None)
    core = getattr(shared, "_integrated", None)
    needed = ("insert", "insert_map_prelim", "insert_text_prelim", "insert_array_prelim")
    if core_txn is None or core is None or not all(hasattr(core, m) for m in needed):
        return None
    return core, core_txn
