"""Resolving a conflict: taking one side, or an edit that has seen every side.

A resolution is an ordinary CRDT edit (so every replica sees it): the node gets the chosen
side's texts with a log entry whose parents are all the node's heads, which ends the
concurrency the conflict came from. Each resolution is also recorded under the conflict's id in
the document's ``resolutions`` map, so two replicas resolving one conflict differently at the
same time are themselves reported (``resolve-resolve``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crdtspace.conflicts.analysis import analysis_of
from crdtspace.conflicts.findings import Conflict, Side
from crdtspace.errors import DocumentError
from crdtspace.model import materialize
from crdtspace.model.history import History, Texts
from crdtspace.model.logentry import LogEntry, decode_state

if TYPE_CHECKING:
    from crdtspace.model.replica import Replica


def pick_agent(ws: Replica, conflict: Conflict, take: str) -> str:
    """The agent a `take` names: an agent, "ours" (this replica's) or "theirs" (the other)."""
    agents = conflict.agents
    if take == "ours":
        chosen = ws.agent
    elif take == "theirs":
        others = [a for a in agents if a != ws.agent]
        if len(others) != 1:
            raise DocumentError(
                f"'theirs' is ambiguous for conflict {conflict.id} (agents: {', '.join(agents)}).",
                hint="name the agent to take",
            )
        chosen = others[0]
    else:
        chosen = take
    if chosen not in agents:
        raise DocumentError(
            f"Conflict {conflict.id} has no side by {chosen!r} (agents: {', '.join(agents)}).",
            hint="take one of its agents, or give the text to use",
        )
    return chosen


def apply_take(ws: Replica, conflict: Conflict, agent: str) -> None:
    """Make the document hold `agent`'s side of a conflict."""
    if not conflict.sides or conflict.resolutions[0] == "edit":
        raise DocumentError(
            f"Conflict {conflict.id} ({conflict.kind}) has no side to take.",
            hint="edit the code instead (resolve with a text)",
        )
    history = History(ws.document)
    chosen = [s for s in conflict.sides if s.agent == agent]
    others = [s for s in conflict.sides if s.agent != agent]
    for side in chosen:
        _take(ws, history, side, others)


def _take(ws: Replica, history: History, side: Side, others: list[Side]) -> None:
    if side.action == "text":
        ws.set_node_texts(side.node, history.after(side.node, side.entry))
    elif side.action == "delete":
        if ws.document.path_of(side.node) is None:
            ws.confirm_delete(side.node)
        else:
            ws.delete(side.node, description="resolve: delete")
    elif side.action == "keep":
        ws.restore(side.node, history.after(side.node, side.entry))
    elif side.action == "place":
        ws.place(side.node, side.detail)
    elif side.action == "drop":
        if ws.document.path_of(side.detail) is not None:
            ws.delete(side.detail, description="resolve: drop the other")
    elif side.action == "revert":
        for other in others:
            entry = _entry(history, other)
            before = history.before(other.node, entry)
            if ws.document.path_of(other.node) is None:
                ws.restore(other.node, before)
            else:
                ws.set_node_texts(other.node, before)


def _entry(history: History, side: Side) -> LogEntry:
    return history.node_log(side.node).entries[side.entry]


def apply_text(ws: Replica, conflict: Conflict, text: str) -> None:
    """Resolve by an edit: the conflict's first node gets `text`."""
    nodes = [p.key for p in conflict.places if p.key]
    if not nodes:
        raise DocumentError(f"Conflict {conflict.id} names no node to edit.")
    nid = nodes[0]
    merged = ws.document.render_node(nid) if ws.document.path_of(nid) is not None else ""
    if materialize.has_markers(text, allowed=merged):
        raise DocumentError(
            f"The text for {conflict.places[0]} still holds conflict markers.",
            hint="keep one side, or write the lines as they should be, without the markers",
        )
    texts: Texts = {"text": text}
    if ws.document.is_container(nid):
        raise DocumentError(
            f"{conflict.places[0]} is a container; edit the file (crdtspace write) instead."
        )
    if ws.document.path_of(nid) is None:
        ws.restore(nid, texts)
    else:
        ws.set_node_texts(nid, texts)


def record(ws: Replica, conflict: Conflict, how: str) -> None:
    """Note who resolved a conflict how, for resolve-resolve detection and the history.

    One map key per resolution (``<conflict id>/<entry id>``): two replicas creating one shared
    list for the same conflict at once would lose one of them (last writer wins)."""
    entry = LogEntry(
        ws.new_entry_id(),
        ws.agent,
        (),
        "resolve",
        how,
        state=decode_state(ws.doc.get_state()),
    )
    ws.document.resolutions[f"{conflict.id}/{entry.id}"] = entry.to_value()


def resolve(
    ws: Replica,
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
    conflict = analysis_of(ws).find(conflict_id)
    if conflict is None:
        raise DocumentError(
            f"There is no open conflict {conflict_id!r}.",
            hint="`crdtspace conflicts` lists them",
        )
    if text is not None and base is not None and base.strip() != ws.version():
        forked = ws.fork_at(base.strip())
        try:
            seen = analysis_of(forked).find(conflict.id)
            if seen is None:
                raise DocumentError(
                    f"Conflict {conflict.id} was not open at version {base.strip()}."
                )
            with forked.transaction(f"resolve {conflict.id}"):
                apply_text(forked, seen, text)
                record(forked, seen, "edit")
        except BaseException:
            forked.close()
            raise
        ws.merge_fork(forked)
        return conflict
    with ws.transaction(f"resolve {conflict.id}"):
        if take is not None:
            agent = pick_agent(ws, conflict, take)
            apply_take(ws, conflict, agent)
            record(ws, conflict, f"take {agent}")
        else:
            apply_text(ws, conflict, text or "")
            record(ws, conflict, "edit")
    return conflict
