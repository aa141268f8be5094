"""Checking a peer's update before it is accepted: applied to a scratch copy, what it adds,
removes or forges is seen before anything is durable.

`inspect_update` is the check `crdtspace serve` runs on every update a client sends
(`crdtspace.live.home.HomeReplica.check_update`); `UpdateGuard` runs the same check in a
networked home replica (`crdtspace.live.netreplica.connect(home=...)`) on every update the
server relays, since a server it does not run (Hocuspocus, y-websocket) checks nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map, MapEvent, get_update

from crdtspace.errors import PathError
from crdtspace.git import gitio
from crdtspace.live.protocol import Hostile
from crdtspace.model import schema
from crdtspace.model.versions import new_doc

__all__ = ["Incomplete", "Refusal", "UpdateGuard", "inspect_update"]

LOG = logging.getLogger("crdtspace.live.guard")
_PATH_MAPS = ("files", "gitonly")
"""Maps whose keys are repository paths: a key outside the repository is hostile."""


class Incomplete(Hostile):
    """An update that depends on changes the checker does not have (yet)."""


def _unrecorded_removals(nodes: Map[Any], touched: set[str], removed: list[str]) -> list[str]:
    """Files removed without a record of who removed them: `Workspace.remove` gives each root
    of the file a `delete` entry in the same update, which the conflict layer weighs against
    the others' edits; a bare deletion of the entry would drop them unseen."""
    recorded: set[str] = set()
    for nid in touched:
        node = nodes.get(nid)
        if not isinstance(node, Map) or node.get("parent") or not node.get("path"):
            continue
        log = node.get("log")
        newest = log[0] if isinstance(log, Array) and len(log) else None
        if isinstance(newest, dict) and newest.get("op") == "delete":
            recorded.add(str(node["path"]))
    return [
        f"removes the file {path!r} without a delete entry on its nodes (who removed it?)"
        for path in removed
        if path not in recorded
    ]


def _below_another(path: str, entries: set[str]) -> None:
    """PathError when `path` lies below another file, link or submodule of the workspace, or
    one lies below it (a checkout could take only one of them)."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        above = "/".join(parts[:depth])
        if above in entries:
            raise PathError(f"The path {path!r} lies below the file {above!r}.")
    prefix = path + "/"
    if any(other.startswith(prefix) for other in entries):
        raise PathError(f"The path {path!r} is a folder of other files of the workspace.")


def inspect_update(
    scratch: Doc[Any], update: bytes, root: Path | None
) -> tuple[set[str], set[str]]:
    """Apply `update` to `scratch` (a copy of the accepted state) and check what it did:
    Hostile when it is malformed, adds a path outside the repository, forges what only git
    sets, deletes nodes or log entries, or breaks the schema; `Incomplete` when it depends on
    changes `scratch` lacks. After either, `scratch` holds part of the update: the caller
    rebuilds it. Returns the nodes whose texts it changed with no log entry, and those whose
    log grew."""
    added: list[str] = []
    removed: list[str] = []
    touched: set[str] = set()
    structural: set[str] = set()  # nodes whose map or body changed (not only their texts)
    typed: set[str] = set()  # nodes whose texts changed
    logged: set[str] = set()  # nodes whose log grew
    forged: list[str] = []

    def collect(event: MapEvent) -> None:
        keys: dict[str, dict[str, Any]] = event.keys  # type: ignore[attr-defined]  # Rust
        added.extend(k for k, v in keys.items() if v.get("action") != "delete")
        removed.extend(k for k, v in keys.items() if v.get("action") == "delete")

    def collect_gitonly(event: MapEvent) -> None:
        keys: dict[str, dict[str, Any]] = event.keys  # type: ignore[attr-defined]  # Rust
        forged.extend(f"changes the git-only entry {k!r}, which only git may set" for k in keys)

    def collect_nodes(events: list[Any]) -> None:
        for event in events:
            path = list(event.path)
            if path:
                touched.add(str(path[0]))
                if len(path) == 1 or path[1] == "body":
                    structural.add(str(path[0]))
                elif path[1] in ("text", "head", "tail"):
                    typed.add(str(path[0]))
                elif path[1] == "log":
                    logged.add(str(path[0]))
                    delta = event.delta if len(path) == 2 else ()
                    if any("delete" in change for change in delta):
                        # Logs only grow (replicas read new entries from the front: logcache).
                        forged.append(f"deletes entries of the log of node {path[0]!r}")
                if len(path) == 1 and isinstance(event, MapEvent):
                    keys = event.keys  # type: ignore[attr-defined]  # Rust
                    if "mode" in keys:
                        forged.append(f"changes the mode of node {path[0]!r} (only git may)")
            elif isinstance(event, MapEvent):
                keys = event.keys  # type: ignore[attr-defined]  # Rust
                touched.update(keys)
                structural.update(keys)
                forged.extend(
                    f"deletes the node {k!r} (nodes are taken out of their container, never "
                    "deleted: their logs stay for the conflict layer)"
                    for k, v in keys.items()
                    if v.get("action") == "delete"
                )

    maps = [scratch.get(name, type=Map) for name in _PATH_MAPS]
    subscriptions = [m.observe(collect) for m in maps]
    gitonly = scratch.get("gitonly", type=Map)
    only = gitonly.observe(collect_gitonly)
    nodes = scratch.get("nodes", type=Map)
    deep = nodes.observe_deep(collect_nodes)
    try:
        scratch.apply_update(update)
    except Exception as exc:  # pycrdt raises plain exceptions for malformed updates
        raise Hostile(f"a malformed update ({exc})") from exc
    finally:
        for m, subscription in zip(maps, subscriptions, strict=True):
            m.unobserve(subscription)
        gitonly.unobserve(only)
        nodes.unobserve(deep)
    if bytes(get_update(update, scratch.get_state()))[:1] != b"\x00":
        # Structs waiting for ones the server lacks: yrs would integrate them later,
        # unchecked, when those arrive (and a doc's update would not even carry them).
        # Yjs clients never send these: sync step 2 and then updates, in order.
        raise Incomplete("an update that depends on changes the server does not have")
    for nid in structural:
        node = nodes.get(nid)
        path = node.get("path") if isinstance(node, Map) else None
        if path:
            added.append(str(path))
        mode = node.get("mode") if isinstance(node, Map) else None
        if mode is not None and mode not in (gitio.MODE_FILE, gitio.MODE_EXECUTABLE):
            forged.append(f"sets the mode of node {nid!r} to {mode!r}, not a file's")
    if forged:
        # Modes and blobs come from git (sync-git, on the home replica), never from a peer.
        raise Hostile(f"an update that {forged[0]}")
    if removed:
        forged.extend(_unrecorded_removals(nodes, touched, removed))
    if forged:
        raise Hostile(f"an update that {forged[0]}")
    wrong = schema.problems(scratch, structural, added) if structural or added else []
    if wrong:
        raise Hostile(f"an update that breaks the document's schema: {wrong[0]}")
    entries = {str(k) for m in maps for k in m} if added else set()
    for path in added:
        try:
            if gitio.safe_relpath(root, path) != path:
                raise PathError(f"The path {path!r} is not in normal form.")
            _below_another(path, entries)
        except PathError as exc:
            raise Hostile(f"an update adding a file path outside the repository: {exc}") from exc
    return typed - logged, logged


# -- in a networked home replica -------------------------------------------------------------

HELD_COUNT = 1024
HELD_BYTES = 64 * 1024 * 1024
"""Updates waiting for the changes they depend on: at most this many, this big (beyond, the
oldest is refused; the next handshake brings whatever it carried again)."""


@dataclass(frozen=True)
class Refusal:
    """An update a networked home replica refused, and why."""

    reason: str
    size: int
    at: float


class UpdateGuard:
    """The check of `crdtspace serve`, run by a replica on what the server relays to it.

    `admit(update)` returns the updates to merge now: `update` once it passed, and any held
    ones it completed. An update that depends on changes not here yet is held, not refused: a
    relay such as Hocuspocus with Redis can pass on another node's update before the state it
    builds on (yrs would integrate it later, unchecked; held, it is checked once complete). A
    hostile one is refused (`refusals`) and never merged: the replica's document and its log
    stay as they were. Every update the replica makes itself goes to `local`."""

    def __init__(self, doc: Doc[Any], root: Path | None) -> None:
        self._doc = doc
        self.root = root
        self.scratch = self._copy([])
        self.held: list[bytes] = []
        self.refusals: list[Refusal] = []

    def _copy(self, extra: list[bytes]) -> Doc[Any]:
        scratch = new_doc()
        scratch.apply_update(bytes(self._doc.get_update()))
        for update in extra:
            scratch.apply_update(update)
        return scratch

    def local(self, update: bytes) -> None:
        """An update of the replica's own (its edits, its folds): accepted as it is."""
        self.scratch.apply_update(update)

    def reset(self) -> None:
        """A new connection: its handshake brings again whatever the held updates carried."""
        self.held.clear()

    def admit(self, update: bytes) -> list[bytes]:
        """The updates to merge now, in order (see the class docstring)."""
        accepted: list[bytes] = []
        if not self._check(update, accepted):
            self.held.append(update)
            self._trim()
            return accepted
        progress = True
        while progress and self.held:
            progress = False
            for waiting in list(self.held):
                if self._check(waiting, accepted):
                    self.held.remove(waiting)
                    progress = True
        return accepted

    def _check(self, update: bytes, accepted: list[bytes]) -> bool:
        """Whether `update` is settled: accepted (added to `accepted`) or refused; False when
        it must wait."""
        try:
            inspect_update(self.scratch, update, self.root)
        except Incomplete:
            self.scratch = self._copy(accepted)
            return False
        except Hostile as exc:
            self.scratch = self._copy(accepted)
            self._refuse(exc.reason, len(update))
            return True
        accepted.append(update)
        return True

    def _refuse(self, reason: str, size: int) -> None:
        LOG.warning("Refused an update of %d bytes: %s.", size, reason)
        self.refusals.append(Refusal(reason, size, time.time()))
        del self.refusals[:-100]

    def _trim(self) -> None:
        while len(self.held) > HELD_COUNT or (
            len(self.held) > 1 and sum(map(len, self.held)) > HELD_BYTES
        ):
            dropped = self.held.pop(0)
            self._refuse("an update whose dependencies never came (too many waiting)", len(dropped))
