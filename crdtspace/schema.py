"""The document's schema, checked where a peer's update changed it (see `crdtspace.document`).

A Yjs update can hold any shape: a node that is its own parent, a container without its head,
numbers where node ids belong, a string where a node map belongs. The server applies each
update to a scratch copy first and asks `problems` about the nodes and paths it touched; an
update that leaves any problem is refused before anything durable happens. (Readers stay robust
anyway: a replica can be reached through a plain Yjs server, which checks nothing.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Array, Doc, Map, Text

from crdtspace.document import read_list

MAX_DEPTH = 256
"""Containers nested deeper than this are refused (real code nests a few levels)."""
FILE_MODES = ("100644", "100755")


def problems(
    doc: Doc[Any], nodes: Iterable[str], paths: Iterable[str], *, limit: int = 3
) -> list[str]:
    """What is wrong with the given nodes and files entries of `doc` (at most `limit`)."""
    out: list[str] = []
    node_map = doc.get("nodes", type=Map)
    files = doc.get("files", type=Map)
    for path in sorted(set(paths)):
        out += _file(files, node_map, path)
        if len(out) >= limit:
            return out[:limit]
    for nid in sorted(set(nodes)):
        out += _node(node_map, nid)
        if len(out) >= limit:
            return out[:limit]
    return out


def _file(files: Map[Any], nodes: Map[Any], path: str) -> list[str]:
    if path not in files:
        return []
    roots = files.get(path)
    if not isinstance(roots, Array):
        return [f"files[{path!r}] is not a list of node ids"]
    out = []
    for root in read_list(roots):
        if not isinstance(root, str) or root not in nodes:
            out.append(f"files[{path!r}] names {root!r}, which is no node")
            continue
        node = nodes.get(root)
        if not isinstance(node, Map) or node.get("parent") or node.get("path") != path:
            out.append(f"files[{path!r}] names {root!r}, which is not that file's root")
    return out


def _node(nodes: Map[Any], nid: str) -> list[str]:
    if nid not in nodes:
        return []
    node = nodes.get(nid)
    if not isinstance(node, Map):
        return [f"the node {nid!r} is not a map"]
    for key in ("kind", "name", "parent"):
        if not isinstance(node.get(key), str):
            return [f"the node {nid!r} has no text field {key!r}"]
    for key in ("path", "mode"):
        value = node.get(key)
        if value is not None and not isinstance(value, str):
            return [f"the node {nid!r} has a {key!r} that is not text"]
    if node.get("mode") not in (None, *FILE_MODES):
        return [f"the node {nid!r} has the mode {node.get('mode')!r}, not a file's"]
    if not isinstance(node.get("log"), Array):
        return [f"the node {nid!r} has no edit log"]
    leaf, container = "text" in node, "body" in node
    if leaf == container:
        return [f"the node {nid!r} is neither a leaf (text) nor a container (head, body, tail)"]
    if leaf and not isinstance(node.get("text"), Text):
        return [f"the node {nid!r} has a text that is not a Text"]
    if container:
        if not all(isinstance(node.get(k), Text) for k in ("head", "tail")):
            return [f"the container {nid!r} lacks its head or tail Text"]
        body = node.get("body")
        if not isinstance(body, Array):
            return [f"the container {nid!r} has a body that is not a list"]
        if not all(isinstance(child, str) for child in read_list(body)):
            return [f"the body of {nid!r} holds something other than node ids"]
    return _ancestry(nodes, nid)


def _ancestry(nodes: Map[Any], nid: str) -> list[str]:
    """The parent chain ends at a root, without a cycle, within MAX_DEPTH containers."""
    seen = {nid}
    current = nid
    for _ in range(MAX_DEPTH):
        node = nodes.get(current)
        parent = node.get("parent", "") if isinstance(node, Map) else ""
        if not parent:
            return []
        if parent in seen:
            return [f"the node {nid!r} is its own ancestor (through {parent!r})"]
        seen.add(str(parent))
        current = str(parent)
    return [f"the node {nid!r} is nested more than {MAX_DEPTH} containers deep"]
