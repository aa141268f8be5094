"""Concurrent identical changes counted once, as git would: the logs to look at, the folds."""

from __future__ import annotations

from collections.abc import Iterable

from crdtspace.model.document import Document
from crdtspace.model.history import History, branches, concurrent
from crdtspace.model.logentry import LogEntry


def grown_logs(document: Document, seen: dict[str, int]) -> list[str]:
    """Edited nodes whose log grew since the last call (`seen` keeps each log's length)."""
    out = []
    for nid in sorted(document.edited_nodes()):
        if not document.has_node(nid):
            continue
        length = len(document.node(nid)["log"])
        if seen.get(nid) != length:
            seen[nid] = length
            out.append(nid)
    return out


def identical_folds(document: Document, nodes: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Of `nodes`, those whose heads all hold the same texts while the merged node does not:
    (node, texts)."""
    history = History(document)
    out = []
    for nid in nodes:
        if len(document.heads(nid)) < 2:  # (one head: nothing concurrent to fold; cheap)
            continue
        log = history.node_log(nid)
        if len(log.heads) < 2:
            continue
        fork, sides = branches(log, history)
        first = sides[0].after
        if any(s.deleted or s.after != first for s in sides) or first == fork:
            continue
        live = document.texts(nid)
        if any(live[part] != first.get(part, "") for part in live if part != "name"):
            out.append((nid, first))
    return out


def duplicate_units(document: Document, nodes: Iterable[str]) -> list[str]:
    """In the containers of the created units among `nodes`: of units created at once with the
    same kind and text, all but the one with the smallest id (those to delete)."""
    created = [n for n in nodes if document.tally(n).creation is not None]
    out: list[str] = []
    for container in sorted({document.parent(n) for n in created if document.parent(n)}):
        if not document.has_node(container) or document.path_of(container) is None:
            continue
        seen: dict[tuple[str, str], tuple[str, LogEntry]] = {}
        for child in document.children(container):
            made = document.tally(child).creation
            if made is None:
                continue
            key = (str(document.node(child)["kind"]), document.render_node(child))
            if key in seen and concurrent(seen[key][1], made):
                keep, other = sorted([seen[key][0], child])
                out.append(other)
                seen[key] = (keep, made if keep == child else seen[key][1])
            else:
                seen[key] = (child, made)
    return sorted(set(out))
