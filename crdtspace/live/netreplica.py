"""Networked replicas: a workspace kept in sync with a Yjs server, with presence and claims.

A `NetworkReplica` is a `Replica` (an in-memory document, or a durable one with `state_dir`)
plus a background connection to a server speaking the standard Yjs sync and awareness protocol
(`crdtspace serve`, any pycrdt-websocket or y-websocket server): the room is `/<workspace>`,
the token goes in the `?token=` query parameter.

- Sync: on every (re)connection the replica and the server exchange state vectors (sync step
  1) and what the other lacks (sync step 2); then every local transaction's update is sent as
  it happens and every incoming update is merged with `Replica.apply_update`. Updates are
  idempotent, so the rare update sent both in a step 2 and on its own merges once.
- Offline: when the connection drops, edits go on; the replica reconnects with exponential
  backoff (with jitter) and the handshake sends everything the server lacks. With a
  `state_dir`, every update (local or remote) is appended to a local `UpdateLog` before it is
  sent, so a crash while offline loses nothing: connecting again with the same `state_dir`
  replays the log and the handshake delivers it.
- Awareness: each replica publishes `{agent, state, claims}`: its agent name, its state
  vector (hex) and the nodes it claims (`{node, path, until}`, `until` in seconds since the
  epoch). The pycrdt server does not replay awareness to a newcomer, so a replica answers a
  peer it has not seen before by publishing its own state again, and renews it every
  `heartbeat` seconds; a peer silent for `peer_timeout` seconds is dropped.
- Claims are advisory: an edit to a node another agent claims is made, and reported in
  `claim_violations()` (one entry per node, claimant and claim).

Threads: the connection runs an asyncio loop on its own daemon thread. Every public method of
the replica (all of `Replica`'s, and the ones here) runs under one re-entrant lock,
`replica.lock`, which the connection also takes (from a worker thread, one message at a time,
in order, so that a caller holding the lock for long never stalls the loop) to merge incoming
updates and read the state; so the replica may be used from any thread, one call at a time.
Attributes reached directly (`doc`, `document`) bypass the lock: hold `with replica.lock:`
around such access.
A listener given to `subscribe` runs on whichever thread made the transaction.
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from pycrdt import (
    Awareness,
    Doc,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    read_message,
    write_message,
)
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus, WebSocketException

from crdtspace.errors import AuthError, SyncError
from crdtspace.git import gate
from crdtspace.git.gate import GateReport
from crdtspace.model.core import replay
from crdtspace.model.logentry import decode_state
from crdtspace.model.replica import Replica
from crdtspace.model.storage import UpdateLog
from crdtspace.model.versions import new_doc

__all__ = [
    "Claim",
    "ClaimViolation",
    "NetworkReplica",
    "Peer",
    "connect",
]

HEARTBEAT = 10.0
"""Seconds between renewals of a replica's awareness state (Yjs renews every 15 s)."""
PEER_TIMEOUT = 30.0
"""Seconds without an awareness message after which a peer is taken as gone (as in Yjs)."""
AWARENESS_INTERVAL = 0.1
"""Seconds between two awareness messages at most: a burst of edits publishes one state."""
BACKOFF_MIN = 0.05
BACKOFF_MAX = 5.0
"""Reconnection delays: doubled after each failure between these, with jitter."""
MAX_MESSAGE = 256 * 1024 * 1024
"""The largest message accepted from the server (a first sync carries the whole document)."""

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Claim:
    """An agent's advisory claim on a node (`node` is "" for a whole file) until `expires`."""

    agent: str
    node: str
    path: str
    name: str
    expires: float


@dataclass(frozen=True)
class ClaimViolation:
    """A local edit to a node that another agent claimed at the time."""

    node: str
    path: str
    name: str
    claimed_by: str
    description: str
    at: float


@dataclass(frozen=True)
class Peer:
    """A connected replica as its awareness shows it."""

    client: int
    agent: str
    state: dict[int, int]
    claims: tuple[Claim, ...]


def _locked(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: NetworkReplica, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    wrapper._takes_the_lock = True  # type: ignore[attr-defined]  # (a marker: wrap it once)
    return wrapper  # type: ignore[return-value]  # same signature, by functools.wraps


class NetworkReplica(Replica):
    """A replica synced live with a Yjs server; see the module docstring for the rules."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _lock_public_methods(cls)  # (a subclass's own methods, and its other bases')

    def __init__(
        self,
        doc: Doc[Any],
        *,
        agent: str,
        url: str,
        log: UpdateLog | None = None,
        root: Path | None = None,
        heartbeat: float = HEARTBEAT,
        peer_timeout: float = PEER_TIMEOUT,
    ) -> None:
        self.lock = threading.RLock()
        super().__init__(doc, agent=agent, log=log, root=root)
        self._room_url = url
        self.url = _redacted(url)
        """The room's address, without the token (for messages)."""
        self._token = parse_qs(urlsplit(url).query).get("token", [""])[0]
        self.awareness = Awareness(doc)
        self._claims: dict[str, tuple[str, float]] = {}
        self._violations: list[ClaimViolation] = []
        self._violation_keys: set[tuple[str, str, float]] = set()
        self._connection = _Connection(self, heartbeat=heartbeat, peer_timeout=peer_timeout)
        self._stop_listening = self.subscribe(self._connection.send_update)
        self._closed = False

    # -- the connection ----------------------------------------------------------------------

    def _without_token(self, text: str) -> str:
        """`text` (a library's error, which may quote the address) without the token."""
        for form in (self._room_url, self._token, quote(self._token, safe="")):
            if form:
                text = text.replace(form, self.url if form == self._room_url else "***")
        return text

    @property
    def connected(self) -> bool:
        """Whether the replica is connected and has done the sync handshake."""
        return self._connection.synced.is_set()

    @property
    def last_error(self) -> Exception | None:
        """Why the last connection attempt failed or ended (None while all is well); an
        `AuthError` here means the replica stopped trying: the token was refused."""
        error = self._connection.error
        return error if isinstance(error, Exception) else None

    def wait_synced(self, timeout: float = 10.0) -> bool:
        """Wait until connected and synced; returns whether it is."""
        return self._connection.synced.wait(timeout)

    def wait_sent(self, timeout: float = 10.0) -> bool:
        """Wait until every local update was handed to the connection (while connected)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected and self._connection.idle():
                return True
            time.sleep(0.01)
        return False

    def disconnect(self) -> None:
        """Drop the connection and stay offline (edits go on) until `reconnect()`."""
        self._connection.set_online(False)

    def reconnect(self) -> None:
        """Connect again after `disconnect()`; the handshake catches both sides up."""
        self._connection.set_online(True)

    def drop(self) -> None:
        """Close the current connection as a network failure would: the replica reconnects."""
        self._connection.drop()

    def close(self) -> None:
        """Leave: tell the peers (awareness removed), stop the connection, close the log."""
        if self._closed:
            return
        self._closed = True
        self._connection.stop()
        self._stop_listening()
        super().close()

    # -- presence and claims -------------------------------------------------------------

    def claim(self, ref: str, ttl: float = 60.0) -> Claim:
        """Tell the other agents this one is about to edit `ref` (a node or a file) for `ttl`
        seconds; claiming again extends it."""
        path, nid = self.resolve(ref)
        key = nid or ""
        expires = time.time() + ttl
        self._claims[f"{path}::{key}"] = (key, expires)
        self._connection.publish()
        return Claim(self.agent, key, path, self._name(key), expires)

    def release(self, ref: str) -> None:
        """Withdraw a claim (nothing happens if there was none)."""
        path, nid = self.resolve(ref)
        if self._claims.pop(f"{path}::{nid or ''}", None) is not None:
            self._connection.publish()

    def my_claims(self) -> list[Claim]:
        """This replica's own live claims."""
        now = time.time()
        return [
            Claim(self.agent, node, key.partition("::")[0], self._name(node), until)
            for key, (node, until) in sorted(self._claims.items())
            if until > now
        ]

    def claims(self) -> list[Claim]:
        """Other agents' live claims (expired ones dropped), by path, node and agent."""
        found = [claim for peer in self.peers() for claim in peer.claims]
        return sorted(found, key=lambda c: (c.path, c.node, c.agent))

    def peers(self) -> list[Peer]:
        """The other replicas connected to the server, as their awareness shows them."""
        now = time.time()
        out = []
        for client, state in sorted(self.awareness.states.items()):
            if client == self.client_id or not isinstance(state, dict):
                continue
            agent = str(state.get("agent", ""))
            if not agent:
                continue  # another kind of client (an editor binding) with no crdtspace state
            claims = tuple(c for c in self._peer_claims(agent, state) if c.expires > now)
            out.append(Peer(client, agent, _state_of(state), claims))
        return out

    def peer_states(self) -> dict[str, dict[int, int]]:
        """Per connected peer agent, the state vector it last published (for the gate)."""
        return {peer.agent: peer.state for peer in self.peers()}

    def claim_violations(self) -> list[ClaimViolation]:
        """Local edits made to nodes other agents claimed at the time, oldest first."""
        return list(self._violations)

    def _peer_claims(self, agent: str, state: dict[str, Any]) -> list[Claim]:
        out = []
        for item in state.get("claims") or []:
            if not isinstance(item, dict):
                continue
            node = str(item.get("node", ""))
            path = str(item.get("path", ""))
            until = item.get("until")
            if isinstance(until, int | float):
                out.append(Claim(agent, node, path, self._name(node), float(until)))
        return out

    def _name(self, nid: str) -> str:
        if nid and self.document.has_node(nid):
            return str(self.document.node(nid).get("name", ""))
        return ""

    def _local_state(self) -> dict[str, Any]:
        now = time.time()
        claims = [
            {"node": node, "path": key.partition("::")[0], "until": until}
            for key, (node, until) in sorted(self._claims.items())
            if until > now
        ]
        return {"agent": self.agent, "state": self.state().hex(), "claims": claims}

    def _write_log(self) -> None:
        touched = list(self._touched)
        super()._write_log()
        if touched and not self._folding:
            self._note_violations(touched)

    def _note_violations(self, touched: list[str]) -> None:
        claims = self.claims()
        if not claims:
            return
        now = time.time()
        for nid in touched:
            path = self.document.path_of(nid) if self.document.has_node(nid) else None
            for claim in claims:
                if claim.agent == self.agent:
                    continue
                if claim.node != nid and not (claim.node == "" and claim.path == path):
                    continue
                key = (nid, claim.agent, claim.expires)
                if key in self._violation_keys:
                    continue
                self._violation_keys.add(key)
                self._violations.append(
                    ClaimViolation(
                        nid,
                        path or claim.path,
                        self._name(nid),
                        claim.agent,
                        self._description,
                        now,
                    )
                )

    def commit(
        self,
        message: str,
        *,
        check: str | None = None,
        wait: float = 0.0,
        allow_behind: bool = False,
        run_check: bool = True,
    ) -> GateReport:
        """Commit through the gate (see `crdtspace.git.gate`); the wait for peers to catch up
        happens without the lock, so that their updates and awareness keep arriving."""
        deadline = time.monotonic() + max(0.0, wait)
        while time.monotonic() < deadline:
            with self.lock:
                if not gate.behind(self):
                    break
            time.sleep(0.05)
        with self.lock:
            options = gate.GateOptions(message, check, 0.0, allow_behind, run_check)
            return gate.commit(self, options)

    @contextmanager
    def transaction(self, description: str = "") -> Iterator[None]:
        with self.lock, super().transaction(description):
            yield

    @contextmanager
    def acting_as(self, agent: str) -> Iterator[None]:
        with self.lock, super().acting_as(agent):
            yield


_UNLOCKED = {
    "transaction",
    "acting_as",
    "close",
    "commit",  # they take the lock themselves
    "wait_synced",
    "wait_sent",
    "disconnect",
    "reconnect",
    "drop",  # they must not block
}


def _lock_public_methods(target: type[NetworkReplica]) -> None:
    """Wrap every public method of `target` and the classes it is made of in the replica's
    lock."""
    seen: set[str] = set()
    for cls in target.__mro__[:-1]:  # (not `object`)
        for name, value in vars(cls).items():
            if name.startswith("_") or name in _UNLOCKED or name in seen:
                continue
            seen.add(name)
            if isinstance(value, classmethod | staticmethod | property | type):
                continue
            current = getattr(target, name)
            if callable(value) and not getattr(current, "_takes_the_lock", False):
                setattr(target, name, _locked(current))


_lock_public_methods(NetworkReplica)


def _sync_message(kind: YSyncMessageType, payload: bytes) -> bytes:
    # pycrdt exports no builder for the two handshake steps; the framing is Yjs's.
    return bytes([YMessageType.SYNC, kind]) + write_message(payload)


def _state_of(state: dict[str, Any]) -> dict[int, int]:
    try:
        return dict(decode_state(bytes.fromhex(str(state.get("state", "")))))
    except (ValueError, IndexError):
        return {}


# -- the connection --------------------------------------------------------------------------


class _Connection:
    """The background side of a replica: one asyncio loop on a daemon thread."""

    def __init__(self, replica: NetworkReplica, *, heartbeat: float, peer_timeout: float):
        self.replica = replica
        self.heartbeat = heartbeat
        self.peer_timeout = peer_timeout
        self.synced = threading.Event()
        self.error: BaseException | None = None
        self.failed = threading.Event()
        self._outbox: deque[bytes] = deque()
        self._online = True
        self._stopping = False
        self._loop = asyncio.new_event_loop()
        self._wake: asyncio.Event | None = None
        self._publish: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None
        self._socket: ClientConnection | None = None
        self._sending = False
        self._was_synced = False
        self._thread = threading.Thread(
            target=self._main, name=f"crdtspace-net-{replica.agent}", daemon=True
        )
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()

    # -- called from any thread ----------------------------------------------------------

    def send_update(self, update: bytes) -> None:
        if self._socket is None:
            return  # offline: the next handshake's step 2 carries it (and the log keeps it)
        self._outbox.append(update)
        self._call(self._wake_sender)

    def publish(self) -> None:
        self._call(self._wake_publisher)

    def idle(self) -> bool:
        return not self._outbox and not self._sending

    def set_online(self, online: bool) -> None:
        self._online = online
        self._call(self._state_changed)

    def drop(self) -> None:
        self._call(self._close_socket)

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        leave = self._leave()
        try:
            future = asyncio.run_coroutine_threadsafe(leave, self._loop)
        except RuntimeError:  # the loop is closed: the connection had given up (auth)
            leave.close()
        else:
            with suppress(Exception):
                future.result(timeout=2.0)
        self._call(self._state_changed)
        self._thread.join(timeout=5.0)

    def _call(self, callback: Callable[[], None]) -> None:
        with suppress(RuntimeError):  # the loop is closed: the replica was closed
            self._loop.call_soon_threadsafe(callback)

    # -- on the loop ---------------------------------------------------------------------

    def _wake_sender(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _wake_publisher(self) -> None:
        if self._publish is not None:
            self._publish.set()

    def _state_changed(self) -> None:
        if self._changed is not None:
            self._changed.set()
        self._close_socket()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._loop.create_task(self._socket.close())

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        self._publish = asyncio.Event()
        self._changed = asyncio.Event()
        self._started.set()
        delay = BACKOFF_MIN
        while not self._stopping:
            if not self._online:
                self._changed.clear()
                await self._changed.wait()
                continue
            self._was_synced = False
            try:
                await self._connect_once()
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    self.error = AuthError(
                        f"The server at {self.replica.url} refused the token ({status}).",
                        hint="check --token (crdtspace serve prints it, or see .git/crdtspace/)",
                    )
                    self.failed.set()
                    return
                self.error = SyncError(f"The server at {self.replica.url} answered {status}.")
            except (OSError, WebSocketException, TimeoutError) as exc:
                reason = self.replica._without_token(str(exc))
                self.error = SyncError(f"Cannot reach {self.replica.url}: {reason}")
            except Exception as exc:  # anything else must not end the replica's connection
                reason = self.replica._without_token(repr(exc))
                self.error = SyncError(f"The connection to {self.replica.url} failed: {reason}")
            finally:
                self._socket = None
                self.synced.clear()
            if self._stopping:
                return
            # A session that synced starts the backoff afresh; a server that accepts and
            # closes at once (a rejection) is retried ever more slowly.
            delay = BACKOFF_MIN if self._was_synced else delay
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _connect_once(self) -> None:
        async with ws_connect(
            self.replica._room_url,
            proxy=None,
            compression=None,
            max_size=MAX_MESSAGE,
            open_timeout=5.0,
            ping_interval=10.0,
            ping_timeout=10.0,
            close_timeout=1.0,
        ) as socket:
            self._socket = socket
            self.error = None
            # Whatever waits in the outbox is in this replica's state: the handshake's step 2
            # carries what the server lacks of it.
            self._outbox.clear()
            state = await asyncio.to_thread(self.replica.state)
            await socket.send(_sync_message(YSyncMessageType.SYNC_STEP1, state))
            tasks = [
                asyncio.create_task(self._send_loop(socket)),
                asyncio.create_task(self._awareness_loop(socket)),
                asyncio.create_task(self._heartbeat_loop()),
            ]
            try:
                async for message in socket:
                    if not isinstance(message, bytes) or not message:
                        continue
                    try:
                        # On a worker thread, in order: waiting for the replica's lock (a
                        # long commit, say) must not stall the loop (pings, sends).
                        reply = await asyncio.to_thread(self._handle, message)
                    except Exception as exc:  # a malformed message: skipped, remembered
                        self.error = SyncError(f"A message from the server was skipped: {exc}")
                        continue
                    if reply is not None:
                        await socket.send(reply)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _handle(self, message: bytes) -> bytes | None:
        if message[0] == YMessageType.SYNC:
            return self._handle_sync(message[1:])
        if message[0] == YMessageType.AWARENESS:
            self._handle_awareness(read_message(message[1:]))
        return None

    def _handle_sync(self, message: bytes) -> bytes | None:
        kind, payload = message[0], read_message(message[1:])
        if kind == YSyncMessageType.SYNC_STEP1:
            update = self.replica.update_since(payload)
            return _sync_message(YSyncMessageType.SYNC_STEP2, update)
        if payload != b"\x00\x00":
            self.replica.apply_update(payload)
        if kind == YSyncMessageType.SYNC_STEP2:
            self._was_synced = True
            self.synced.set()
        self._call(self._wake_publisher)
        return None

    def _handle_awareness(self, update: bytes) -> None:
        new: list[int] = []

        def changed(topic: str, change: tuple[dict[str, Any], Any]) -> None:
            if topic == "change":
                new.extend(change[0]["added"])

        with self.replica.lock:
            subscription = self.replica.awareness.observe(changed)
            try:
                self.replica.awareness.apply_awareness_update(update, "remote")
            finally:
                self.replica.awareness.unobserve(subscription)
        if any(client != self.replica.client_id for client in new):
            self._call(self._wake_publisher)  # a newcomer: it has not seen this replica's state yet

    async def _send_loop(self, socket: ClientConnection) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._sending = True
            try:
                while self._outbox:
                    await socket.send(create_update_message(self._outbox.popleft()))
            finally:
                self._sending = False

    async def _awareness_loop(self, socket: ClientConnection) -> None:
        assert self._publish is not None
        self._publish.set()
        while True:
            await self._publish.wait()
            self._publish.clear()
            update = await asyncio.to_thread(self._awareness_update)
            await socket.send(create_awareness_message(update))
            await asyncio.sleep(AWARENESS_INTERVAL)

    def _awareness_update(self, *, leave: bool = False) -> bytes:
        replica = self.replica
        with replica.lock:
            replica.awareness.set_local_state(None if leave else replica._local_state())
            return replica.awareness.encode_awareness_update([replica.client_id])

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            self._wake_publisher()
            await asyncio.to_thread(self._drop_silent_peers)

    def _drop_silent_peers(self) -> None:
        awareness = self.replica.awareness
        with self.replica.lock:
            now = time.time() * 1000
            gone = [
                client
                for client, meta in awareness.meta.items()
                if client != self.replica.client_id
                and client in awareness.states
                and now - meta["lastUpdated"] >= self.peer_timeout * 1000
            ]
            if gone:
                awareness.remove_awareness_states(gone, "timeout")

    async def _leave(self) -> None:
        socket = self._socket
        if socket is None:
            return
        with suppress(Exception):
            await socket.send(create_awareness_message(self._awareness_update(leave=True)))
        with suppress(Exception):
            await socket.close()


# -- connecting ------------------------------------------------------------------------------


def _redacted(url: str) -> str:
    """An address for messages: no query (the token is there), no password in it."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def room_url(url: str, token: str, workspace: str = "default") -> str:
    """The websocket URL of a workspace's room: `/<workspace>` unless `url` names a path, and
    the token as the `token` query parameter."""
    parts = urlsplit(url)
    path = parts.path if parts.path not in ("", "/") else "/" + quote(workspace)
    query = "&".join(q for q in (parts.query, f"token={quote(token, safe='')}") if q)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def connect(
    url: str,
    token: str,
    *,
    agent: str,
    workspace: str = "default",
    state_dir: Path | str | None = None,
    root: Path | str | None = None,
    timeout: float = 10.0,
    wait: bool = True,
    heartbeat: float = HEARTBEAT,
    peer_timeout: float = PEER_TIMEOUT,
    replica_class: type[NetworkReplica] | None = None,
) -> NetworkReplica:
    """A replica of `workspace` on the server at `url` (`ws://host:port`), synced live.

    With `wait`, returns once the first sync is done, or raises `AuthError` (token refused) or
    `SyncError` (not reached within `timeout`); without, returns at once and syncs when it can.
    `root`: the repository the replica commits to through the gate (`commit`), if any.
    `replica_class`: a subclass of `NetworkReplica` to make (`Workspace.connect` makes one that
    is also a `Workspace`).
    With `state_dir`, the replica is durable there: every update is logged before it is sent,
    and the log is replayed (and sent) by the next `connect` with the same folder."""
    scheme = urlsplit(url).scheme
    if scheme not in ("ws", "wss"):
        raise SyncError(
            f"{_redacted(url)!r} is not a websocket address (ws:// or wss://).",
            hint="give the address `crdtspace serve` prints, e.g. ws://127.0.0.1:8765",
        )
    log = None
    if state_dir is not None:
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        log = UpdateLog(Path(state_dir))
    doc = new_doc()  # keeps deleted content: writes from a version restore it
    if log is not None:
        _replay(log, doc)
    replica = (replica_class or NetworkReplica)(
        doc,
        agent=agent,
        url=room_url(url, token, workspace),
        log=log,
        root=Path(root) if root is not None else None,
        heartbeat=heartbeat,
        peer_timeout=peer_timeout,
    )
    if wait and not _first_sync(replica, timeout):
        error = replica._connection.error
        replica.close()
        if isinstance(error, AuthError):
            raise error
        detail = f": {error.message}" if isinstance(error, SyncError) else ""
        raise SyncError(
            f"No sync with {_redacted(url)} within {timeout:g} s{detail}",
            hint="is `crdtspace serve` running there? (connect with wait=False to start offline)",
        )
    return replica


def _first_sync(replica: NetworkReplica, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica._connection.synced.wait(0.05):
            return True
        if replica._connection.failed.is_set():
            return False
    return False


def _replay(log: UpdateLog, doc: Doc[Any]) -> None:
    try:
        replay(
            doc,
            log.load().records,
            log.path,
            hint="the offline log is damaged; move it away to start afresh",
        )
    except BaseException:
        log.close()
        raise
