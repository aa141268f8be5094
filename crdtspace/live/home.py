"""The sync server's home replica: the workspace, each peer's update checked, then committed.

A peer's update is applied to a scratch copy of the accepted state first (`check_update`):
what it would add, remove or forge is seen before anything is durable, and a hostile one
raises `Hostile`. Accepted updates queue for the committer (`commit`), which merges whatever
queued up during one fsync into the next record of the workspace's log and logs raw Yjs edits
on their clients' behalf. The websocket and HTTP side is `crdtspace.live.server.Server`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from pycrdt import Array, Doc, Map, MapEvent, get_update, merge_updates

from crdtspace.errors import PathError, SyncError
from crdtspace.git import gitio, workspaces
from crdtspace.live.protocol import Hostile
from crdtspace.model import schema
from crdtspace.model.replica import Replica
from crdtspace.model.versions import new_doc

T = TypeVar("T")

__all__ = ["LOG", "RAW_SESSION", "SERVER_AGENT", "HomeReplica", "Peer", "Rejection"]

RECENT_COUNT = 256
RECENT_BYTES = 32 * 1024 * 1024
"""Accepted updates kept to rebuild the scratch copy with: at most this many, this big."""
SERVER_AGENT = "server"
LOG = logging.getLogger("crdtspace.live.server")

_PATH_MAPS = ("files", "gitonly")
RAW_SESSION = 1.0
"""Seconds of a client's raw edits to one node that make one log entry (see
HomeReplica._apply)."""
"""Maps whose keys are repository paths: a key outside the repository is hostile."""


# -- what the server tells about itself ---------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A message refused from a client, and why (also logged)."""

    peer: str
    reason: str
    at: float


@dataclass
class Peer:
    """One connected client."""

    number: int
    address: str
    agent: str
    since: float
    client_ids: set[int] = field(default_factory=set)


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


# -- the home replica ----------------------------------------------------------------------


class HomeReplica:
    """The workspace's home replica: the document peers' updates go into once checked."""

    def __init__(
        self, repo_path: Path | str, workspace: str, replica_class: type[Replica] = Replica
    ) -> None:
        self.workspace_name = workspace
        self.rejections: list[Rejection] = []
        self.workspace = workspaces.open_workspace(
            replica_class, repo_path, agent=SERVER_AGENT, workspace=workspace
        )
        self.workspace_lock = threading.RLock()
        """Held by whatever changes the home replica off the event loop: the committer's
        batches, and the commands the service runs for the CLI (`call`)."""
        self.room_doc: Doc[Any] = new_doc()
        self.room_doc.apply_update(self.workspace.update_since())
        self._scratch = self._new_scratch()
        self._recent: deque[bytes] = deque()
        """The updates accepted lately (at most RECENT_COUNT, RECENT_BYTES): some may not have
        reached the room's doc yet."""
        self._recent_bytes = 0
        self._local: list[bytes] = []
        self._unsubscribe = self.workspace.subscribe(self._local.append)
        self._queue: list[
            tuple[bytes, anyio.Event, list[BaseException], tuple[dict[str, str], set[str]]]
        ] = []
        self._wake = anyio.Event()
        self._closed = False
        self._stopping = False
        self._raw_sessions: dict[str, tuple[set[str], dict[str, str], float]] = {}
        """Raw edits not logged yet: node id -> (agents, texts before, when it began)."""

    def close(self) -> None:
        """Flush and close the workspace (idempotent)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # (a node gone meanwhile has nothing to log)
            self._end_raw_sessions(True)
        self._unsubscribe()
        self.workspace.close()

    # -- checking and committing updates -------------------------------------------------

    def _new_scratch(self) -> Doc[Any]:
        """A copy of the accepted state, to see what an update would do before accepting it."""
        scratch = new_doc()
        scratch.apply_update(bytes(self.room_doc.get_update()))
        return scratch

    def check_update(self, update: bytes) -> tuple[set[str], set[str]]:
        """Hostile when `update` is malformed or adds a path outside the repository.

        It is applied to the scratch copy first, watching the keys it adds to `files` and
        `gitonly` and the nodes whose `path` it may set; after a refusal the scratch copy is
        rebuilt from the room's doc and the updates accepted lately (some may not have reached
        the room yet)."""
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

        maps = [self._scratch.get(name, type=Map) for name in _PATH_MAPS]
        subscriptions = [m.observe(collect) for m in maps]
        gitonly = self._scratch.get("gitonly", type=Map)
        only = gitonly.observe(collect_gitonly)
        nodes = self._scratch.get("nodes", type=Map)
        deep = nodes.observe_deep(collect_nodes)
        try:
            self._scratch.apply_update(update)
        except Exception as exc:  # pycrdt raises plain exceptions for malformed updates
            self._rebuild_scratch()
            raise Hostile(f"a malformed update ({exc})") from exc
        finally:
            for m, subscription in zip(maps, subscriptions, strict=True):
                m.unobserve(subscription)
            gitonly.unobserve(only)
            nodes.unobserve(deep)
        if bytes(get_update(update, self._scratch.get_state()))[:1] != b"\x00":
            # Structs waiting for ones the server lacks: yrs would integrate them later,
            # unchecked, when those arrive (and a doc's update would not even carry them).
            # Yjs clients never send these: sync step 2 and then updates, in order.
            self._rebuild_scratch()
            raise Hostile("an update that depends on changes the server does not have")
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
            self._rebuild_scratch()
            raise Hostile(f"an update that {forged[0]}")
        if removed:
            forged.extend(_unrecorded_removals(nodes, touched, removed))
        if forged:
            self._rebuild_scratch()
            raise Hostile(f"an update that {forged[0]}")
        wrong = schema.problems(self._scratch, structural, added) if structural or added else []
        if wrong:
            self._rebuild_scratch()
            raise Hostile(f"an update that breaks the document's schema: {wrong[0]}")
        entries = {str(k) for m in maps for k in m} if added else set()
        for path in added:
            try:
                if gitio.safe_relpath(self.workspace.root, path) != path:
                    raise PathError(f"The path {path!r} is not in normal form.")
                _below_another(path, entries)
            except PathError as exc:
                self._rebuild_scratch()
                raise Hostile(
                    f"an update adding a file path outside the repository: {exc}"
                ) from exc
        self._remember(update)
        return typed - logged, logged

    def _remember(self, update: bytes) -> None:
        self._recent.append(update)
        self._recent_bytes += len(update)
        while len(self._recent) > 1 and (
            len(self._recent) > RECENT_COUNT or self._recent_bytes > RECENT_BYTES
        ):
            self._recent_bytes -= len(self._recent.popleft())

    def _rebuild_scratch(self) -> None:
        self._scratch = self._new_scratch()
        for update in self._recent:
            self._scratch.apply_update(update)

    async def commit(
        self,
        update: bytes,
        unlogged: Iterable[str] = (),
        agent: str = "peer",
        logged: Iterable[str] = (),
    ) -> None:
        """Return once `update` is applied to the workspace and durable; the nodes whose texts
        it changed with no log entry (`unlogged`) get one, as `agent`'s (`record_raw_edit`, in
        sessions: see `_apply`); `logged`: the nodes whose log it grew."""
        done = anyio.Event()
        errors: list[BaseException] = []
        self._queue.append((update, done, errors, ({n: agent for n in unlogged}, set(logged))))
        self._wake.set()
        await done.wait()
        if errors:
            raise SyncError(f"The workspace refused an update: {errors[0]}")

    async def _committer(self) -> None:
        """Group commit: whatever queued up during one fsync is merged into the next."""
        while not self._stopping or self._queue:
            with anyio.move_on_after(RAW_SESSION / 2):
                await self._wake.wait()
            self._wake = anyio.Event()
            batch, self._queue = self._queue, []
            if not batch:
                if self._raw_sessions:
                    await anyio.to_thread.run_sync(self._end_raw_sessions, False)
                    self._relay_local()
                continue
            updates = [update for update, _, _, _ in batch]
            merged = updates[0] if len(updates) == 1 else bytes(merge_updates(*updates))
            raw: dict[str, str] = {}
            logged: set[str] = set()
            for _, _, _, (unlogged, grown) in batch:
                raw.update(unlogged)
                logged |= grown
            failure: BaseException | None = None
            try:
                await anyio.to_thread.run_sync(self._apply, merged, raw, logged)
            except Exception as exc:
                failure = exc
                LOG.error("The workspace could not take an update: %s", exc)
            for _, done, errors, _ in batch:
                if failure is not None:
                    errors.append(failure)
                done.set()
            self._relay_local()

    def call(self, work: Callable[[Replica], T]) -> T:
        """Run `work` on the home replica, between the committer's batches (from a worker
        thread; its local edits are relayed by the caller's `_relay_local`)."""
        with self.workspace_lock:
            return work(self.workspace)

    def _apply(self, update: bytes, raw: dict[str, str], logged: set[str]) -> None:
        with self.workspace_lock:
            self._apply_unlocked(update, raw, logged)

    def _apply_unlocked(self, update: bytes, raw: dict[str, str], logged: set[str]) -> None:
        """Apply a batch, logging on their clients' behalf the text changes that came with no
        log entry (a plain Yjs client typing into a node), so every change has an author and
        the conflict layer weighs it like any other edit.

        Raw changes to one node are a session, as an editor's typing is: the texts before the
        first change are kept, and one entry is written when the session ends, naming every
        client that typed in it: before a batch that logs an edit of the node, after
        RAW_SESSION seconds, or at shutdown. (An entry per keystroke costs an fsync and a relay
        each; raw clients say nothing of what they had seen, so their changes cannot be told
        apart from one another anyway.)"""
        document = self.workspace.document
        for nid in [n for n in self._raw_sessions if n in logged]:
            self._end_raw_session(nid)
        now = time.monotonic()
        for nid, agent in raw.items():
            session = self._raw_sessions.get(nid)
            if session is not None:
                session[0].add(agent)
            elif document.has_node(nid):
                self._raw_sessions[nid] = ({agent}, document.texts(nid), now)
        self.workspace.apply_update(update)
        self._end_raw_sessions(False)

    def _end_raw_sessions(self, every: bool) -> None:
        """End the raw-edit sessions older than RAW_SESSION seconds (`every`: all of them)."""
        with self.workspace_lock:
            self._end_raw_sessions_unlocked(every)

    def _end_raw_sessions_unlocked(self, every: bool) -> None:
        now = time.monotonic()
        for nid, (_, _, began) in sorted(self._raw_sessions.items()):
            if every or now - began >= RAW_SESSION:
                self._end_raw_session(nid)

    def _end_raw_session(self, nid: str) -> None:
        agents, before, _ = self._raw_sessions.pop(nid)
        self.workspace.record_raw_edit(nid, before, agent=", ".join(sorted(agents)))

    def _relay_local(self) -> None:
        """The workspace's own edits (folds) go to the room and the scratch doc."""
        local, self._local[:] = list(self._local), []
        for update in local:
            self._scratch.apply_update(update)
            self._remember(update)
            self.room_doc.apply_update(update)

    def reject(self, peer: Peer, reason: str) -> None:
        LOG.warning("Closed the connection of %s (%s): %s.", peer.agent, peer.address, reason)
        self.rejections.append(Rejection(f"{peer.agent} {peer.address}", reason, time.time()))
        del self.rejections[:-100]
