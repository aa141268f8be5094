"""The sync server's home replica: the workspace, each peer's update checked, then committed.

A peer's update is applied to a scratch copy of the accepted state first (`check_update`, by
`crdtspace.live.guard`): what it would add, remove or forge is seen before anything is
durable, and a hostile one raises `Hostile`. Accepted updates queue for the committer
(`submit`), which merges whatever queued up during one fsync into the next record of the
workspace's log (group commit), logs raw Yjs edits on their clients' behalf, and then tells
each update's submitter that it is durable. A log that cannot be written stops the committer
from taking anything more (`failure`). The websocket and HTTP side is
`crdtspace.live.server.Server`.
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
from pycrdt import Doc, merge_updates

from crdtspace.errors import SyncError
from crdtspace.git import workspaces
from crdtspace.live import guard
from crdtspace.live.protocol import Hostile
from crdtspace.model.replica import Replica
from crdtspace.model.versions import new_doc

T = TypeVar("T")

__all__ = ["LOG", "RAW_SESSION", "SERVER_AGENT", "HomeReplica", "Peer", "Rejection"]

RECENT_COUNT = 256
RECENT_BYTES = 32 * 1024 * 1024
"""Accepted updates kept to rebuild the scratch copy with: at most this many, this big."""
SERVER_AGENT = "server"
LOG = logging.getLogger("crdtspace.live.server")

RAW_SESSION = 1.0
"""Seconds of a client's raw edits to one node that make one log entry (see
HomeReplica._apply)."""


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
        # The room's copy serves peers' handshakes: it keeps no deleted content (a garbage-
        # collecting document, as Yjs's default). A peer only ever needs the content of what it
        # had seen not deleted, and what it lacks it is sent; versions are restored from the
        # home workspace, which keeps everything.
        self.room_doc: Doc[Any] = Doc()
        self.room_doc.apply_update(self.workspace.update_since())
        self._scratch = self._new_scratch()
        self._recent: deque[bytes] = deque()
        """The updates accepted lately (at most RECENT_COUNT, RECENT_BYTES): some may not have
        reached the room's doc yet."""
        self._recent_bytes = 0
        self._local: list[bytes] = []
        self._unsubscribe = self.workspace.subscribe(self._local.append)
        self._queue: list[tuple[bytes, Callable[[], None], tuple[dict[str, str], set[str]]]] = []
        self.failure: BaseException | None = None
        """Why the workspace could not take a batch of updates (None while all is well): from
        then on nothing more is taken nor acknowledged (see `_committer`)."""
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

    def _new_scratch(self) -> guard.Scratch:
        """A copy of the accepted state, to see what an update would do before accepting it."""
        scratch = new_doc()
        scratch.apply_update(bytes(self.room_doc.get_update()))
        return guard.Scratch(scratch, states=False)  # (nothing here cuts an update in parts)

    def check_update(self, update: bytes) -> tuple[set[str], set[str]]:
        """Hostile when `update` is malformed or adds a path outside the repository (see
        `crdtspace.live.guard.inspect_update`): it is applied to the scratch copy first; after
        a refusal the scratch copy is rebuilt from the room's doc and the updates accepted
        lately (some may not have reached the room yet)."""
        try:
            found = guard.inspect_update(self._scratch, update, self.workspace.root)
        except Hostile:
            self._rebuild_scratch()
            raise
        self._remember(update)
        return found

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

    def submit(
        self,
        update: bytes,
        durable: Callable[[], None],
        unlogged: Iterable[str] = (),
        agent: str = "peer",
        logged: Iterable[str] = (),
    ) -> None:
        """Queue a checked `update` for the workspace: `durable()` is called (on the event
        loop) once it is applied and fsynced; never, if the log cannot be written (`failure`).
        The nodes whose texts it changed with no log entry (`unlogged`) get one, as `agent`'s
        (`record_raw_edit`, in sessions: see `_apply`); `logged`: the nodes whose log it grew."""
        if self.failure is not None:
            raise SyncError(f"The workspace takes no more updates: {self.failure}")
        self._queue.append((update, durable, ({n: agent for n in unlogged}, set(logged))))
        self._wake.set()

    async def _committer(self) -> None:
        """Group commit: whatever queued up during one fsync is merged into the next. When
        the workspace cannot take a batch (its log cannot be written, say), nothing after it
        can be made durable in order: the committer stops taking updates (`failure`,
        `_failed`) and acknowledges none of them; their senders still hold them."""
        while not self._stopping or self._queue:
            with anyio.move_on_after(RAW_SESSION / 2):
                await self._wake.wait()
            self._wake = anyio.Event()
            batch, self._queue = self._queue, []
            if self.failure is not None:
                continue
            if not batch:
                if self._raw_sessions:
                    await anyio.to_thread.run_sync(self._end_raw_sessions, False)
                    self._relay_local()
                continue
            updates = [update for update, _, _ in batch]
            merged = updates[0] if len(updates) == 1 else bytes(merge_updates(*updates))
            raw: dict[str, str] = {}
            logged: set[str] = set()
            for _, _, (unlogged, grown) in batch:
                raw.update(unlogged)
                logged |= grown
            try:
                await anyio.to_thread.run_sync(self._apply, merged, raw, logged)
            except Exception as exc:
                LOG.error("The workspace could not take an update, and takes no more: %s", exc)
                self.failure = exc
                await self._failed(exc)
                continue
            for _, durable, _ in batch:
                durable()
            self._relay_local()

    async def _failed(self, error: BaseException) -> None:
        """The workspace could not take a batch (see `_committer`): for the server to act on."""

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
