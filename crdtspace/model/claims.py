"""Claims: an agent's advisory "I am about to edit this", until a time, with a note.

A networked replica publishes its claims in its awareness (gone when it leaves); an agent with
no connection of its own (a command run by the workspace service, a script) holds them in the
document's ``claims`` map, where every replica sees them until they expire. Both read as
`Claim` values. Nothing is locked: a claim tells, it does not stop an edit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycrdt import Map

if TYPE_CHECKING:
    from crdtspace.model.replica import Replica

CLAIMS_ROOT = "claims"
NOTE_LIMIT = 200
"""Characters of a claim's note kept."""


@dataclass(frozen=True)
class Claim:
    """An agent's advisory claim on a node (`node` is "" for a whole file) until `expires`."""

    agent: str
    node: str
    path: str
    name: str
    expires: float
    note: str = ""
    """What the claimer said it is doing (may be empty)."""


def _board(replica: Replica) -> Map[Any]:
    board: Map[Any] = replica.doc.get(CLAIMS_ROOT, type=Map)
    return board


def _key(path: str, node: str, agent: str) -> str:
    return f"{path}::{node}|{agent}"


def hold(replica: Replica, ref: str, *, agent: str, ttl: float = 300.0, note: str = "") -> Claim:
    """Claim `ref` (a file or a node) for `agent` for `ttl` seconds, in the document."""
    path, nid = replica.resolve(ref)
    node = nid or ""
    expires = time.time() + max(0.0, ttl)
    said = note[:NOTE_LIMIT]
    value = {"agent": agent, "path": path, "node": node, "until": expires, "note": said}
    with replica.transaction(f"claim {ref}"):
        _board(replica)[_key(path, node, agent)] = value
    return Claim(agent, node, path, name_of(replica, node), expires, said)


def drop(replica: Replica, ref: str, *, agent: str) -> bool:
    """Withdraw `agent`'s claim on `ref` (and any expired claims); whether there was one."""
    path, nid = replica.resolve(ref)
    key = _key(path, nid or "", agent)
    board = _board(replica)
    now = time.time()
    stale = [k for k, v in board.items() if _until(v) <= now]
    if key not in board and not stale:
        return False
    with replica.transaction(f"release {ref}"):
        for k in {key, *stale} & set(board.keys()):
            del board[k]
    return True


def any_in_document(replica: Replica) -> bool:
    """Whether the document holds any claim, live or expired (a cheap look first)."""
    return len(_board(replica)) > 0


def in_document(replica: Replica) -> list[Claim]:
    """The live claims the document holds, by path, node and agent."""
    now = time.time()
    out = []
    for value in _board(replica).values():
        until = _until(value)
        if until <= now or not isinstance(value, dict | Map):
            continue
        agent, path, node = (str(value.get(k, "")) for k in ("agent", "path", "node"))
        note = value.get("note")
        if agent and path:
            said = note[:NOTE_LIMIT] if isinstance(note, str) else ""
            out.append(Claim(agent, node, path, name_of(replica, node), until, said))
    return sorted(out, key=lambda c: (c.path, c.node, c.agent))


def _until(value: Any) -> float:
    try:
        until = value.get("until")
    except AttributeError:
        return 0.0
    return float(until) if isinstance(until, int | float) else 0.0


def name_of(replica: Replica, nid: str) -> str:
    """A claimed node's name ("" for a file, or a node gone)."""
    if nid and replica.document.has_node(nid):
        return str(replica.document.node(nid).get("name", ""))
    return ""


TASKS_ROOT = "tasks"
"""The document's map of tasks taken from a run's shared list: key -> who took it."""


def take_task(replica: Replica, key: str, *, agent: str, task: str = "") -> bool:
    """Take the task `key` for `agent`, in the document; False when it was already taken (by
    anyone, on any replica this one has heard from)."""
    taken: Map[Any] = replica.doc.get(TASKS_ROOT, type=Map)
    if key in taken:
        return False
    with replica.transaction(f"take task {key}"):
        taken[key] = {"agent": agent, "task": task[:NOTE_LIMIT], "at": time.time()}
    return True


def tasks_taken(replica: Replica, prefix: str = "") -> dict[str, str]:
    """Who took each task whose key starts with `prefix`."""
    taken: Map[Any] = replica.doc.get(TASKS_ROOT, type=Map)
    out = {}
    for key, value in taken.items():
        if key.startswith(prefix) and isinstance(value, dict | Map):
            out[key] = str(value.get("agent", ""))
    return out
