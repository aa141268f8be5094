"""The document's schema, checked where a peer's update changed it (see `crdtspace.model.document`).

A Yjs update can hold any shape: a node that is its own parent, a container without its head,
numbers where node ids belong, a string where a node map belongs. The server applies each
update to a scratch copy first and asks `problems` about the nodes and paths it touched; an
update that leaves any problem is refused before anything durable happens. (Readers stay robust
anyway: a replica can be reached through a plain Yjs server, which checks nothing.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Array, Doc

from crdtspace.model.document import Document, read_list

MAX_DEPTH = 256
"""Containers nested deeper than this are refused (real code nests a few levels)."""
FILE_MODES = ("100644", "100755")


def problems(
    doc: Doc[Any], nodes: Iterable[str], paths: Iterable[str], *, limit: int = 3
) -> list[str]:
    """What is wrong with the given nodes and files entries of `doc` (at most `limit`). A
    node's own shape is `Document.problem`'s judgement (what readers skip); on top, the server
    refuses what readers would only skip: a mode that is not a file's, a body entry that is no
    id, a files entry naming another file's node, a parent chain with a cycle or too deep."""
    document = Document(doc)
    out: list[str] = []
    for path in sorted(set(paths)):
        out += _file(document, path)
        if len(out) >= limit:
            return out[:limit]
    for nid in sorted(set(nodes)):
        out += _node(document, nid)
        if len(out) >= limit:
            return out[:limit]
    return out


def _file(document: Document, path: str) -> list[str]:
    if path not in document.files:
        return []
    roots = document.files.get(path)
    if not isinstance(roots, Array):
        return [f"files[{path!r}] is not a list of node ids"]
    out = []
    for root in read_list(roots):
        if not document.has_node(root):
            out.append(f"files[{path!r}] names {root!r}, which is no node")
        elif document.parent(root) or document.node(root).get("path") != path:
            out.append(f"files[{path!r}] names {root!r}, which is not that file's root")
    return out


def _node(document: Document, nid: str) -> list[str]:
    wrong = document.problem(nid)
    if wrong == "no such node":
        return []  # (deleting a node is refused by the server on its own)
    if wrong:
        return [f"the node {nid!r} is malformed: {wrong}"]
    node = document.node(nid)
    if node.get("mode") not in (None, *FILE_MODES):
        return [f"the node {nid!r} has the mode {node.get('mode')!r}, not a file's"]
    if "body" in node:
        body = read_list(node["body"])
        if not all(type(c) is str for c in body):
            return [f"the body of {nid!r} holds something other than node ids"]
        # (nodes are never deleted, and a container and its new child come in one update)
        missing = [c for c in body if not document.has_node(c)]
        if missing:
            return [f"the body of {nid!r} holds {missing[0]!r}, which is no node"]
    return _ancestry(document, nid)


def _ancestry(document: Document, nid: str) -> list[str]:
    """The parent chain ends at a root, without a cycle, within MAX_DEPTH containers."""
    seen = {nid}
    current = nid
    for _ in range(MAX_DEPTH):
        parent = document.parent(current) if document.has_node(current) else ""
        if not parent:
            return []
        if parent in seen:
            return [f"the node {nid!r} is its own ancestor (through {parent!r})"]
        seen.add(parent)
        current = parent
    return [f"the node {nid!r} is nested more than {MAX_DEPTH} containers deep"]
