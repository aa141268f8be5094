"""A networked replica's connection: a websocket to the server, kept on a thread of its own.

One asyncio loop on a daemon thread syncs both ways (the Yjs protocol), publishes awareness and
reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from pycrdt import (
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

if TYPE_CHECKING:
    from crdtspace.live.netreplica import NetworkReplica

AWARENESS_INTERVAL = 0.1
"""Seconds between two awareness messages at least: a burst of claims publishes one state."""
STATE_QUIET = 0.05
"""Seconds without an update sent or merged after which the new state vector is published: a
stream of edits is not answered by every replica with an awareness message per update (each
relayed to every peer), only once it pauses..."""
STATE_LATEST = 1.0
"""...or this many seconds after the state first moved, if edits never pause."""
BACKOFF_MIN = 0.05
BACKOFF_MAX = 5.0
"""Reconnection delays: doubled after each failure between these, with jitter."""
MAX_MESSAGE = 256 * 1024 * 1024
"""The largest message accepted from the server (a first sync carries the whole document)."""


def _sync_message(kind: YSyncMessageType, payload: bytes) -> bytes:
    # pycrdt exports no builder for the two handshake steps; the framing is Yjs's.
    return bytes([YMessageType.SYNC, kind]) + write_message(payload)


class Connection:
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
        self._urgent = True
        """A publication that must not wait (claims, a newcomer, the heartbeat, connecting)."""
        self._forced = True
        """A publication to send even when it says what the last one said (a newcomer has not
        seen it; the heartbeat renews it)."""
        self._published: dict[str, Any] | None = None
        self._moved_at: float | None = None
        """When the state vector first moved since the last publication (loop time)."""
        self._last_move = 0.0
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
        self._call(self._state_moved)

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
        self._urgent = True
        if self._publish is not None:
            self._publish.set()

    def _force_publication(self) -> None:
        self._forced = True
        self._wake_publisher()

    def _state_moved(self) -> None:
        """An update was sent or merged: publish the new state vector once edits pause."""
        now = self._loop.time()
        if self._moved_at is None:
            self._moved_at = now
        self._last_move = now
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
        self._call(self._state_moved)
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
            self._call(self._force_publication)  # a newcomer: it has not seen this state yet

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
        self._force_publication()
        while True:
            await self._publish.wait()
            self._publish.clear()
            await self._until_due()
            self._publish.clear()  # (what moved meanwhile is in the state read now)
            forced, self._forced = self._forced, False
            self._urgent = False
            self._moved_at = None
            update = await asyncio.to_thread(self._awareness_update, forced=forced)
            if update is None:
                continue  # (the same as the last one: a wake-up that read a change already sent)
            await socket.send(create_awareness_message(update))
            await asyncio.sleep(AWARENESS_INTERVAL)

    async def _until_due(self) -> None:
        """Return when a publication is due: at once when urgent, else (only the state moved)
        once updates paused for STATE_QUIET, or STATE_LATEST after the state first moved."""
        while not self._urgent and self._moved_at is not None:
            due = min(self._last_move + STATE_QUIET, self._moved_at + STATE_LATEST)
            wait = due - self._loop.time()
            if wait <= 0:
                return
            assert self._publish is not None
            self._publish.clear()  # (woken early by anything urgent, or by another update)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._publish.wait(), wait)

    def _awareness_update(self, *, leave: bool = False, forced: bool = True) -> bytes | None:
        """The awareness message of this replica's state now; None when not `forced` and
        it is what the last one said."""
        replica = self.replica
        with replica.lock:
            state = None if leave else replica._local_state()
            if not forced and state == self._published:
                return None
            self._published = state
            replica.awareness.set_local_state(state)
            return replica.awareness.encode_awareness_update([replica.client_id])

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            self._force_publication()
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
            farewell = self._awareness_update(leave=True)
            assert farewell is not None
            await socket.send(create_awareness_message(farewell))
        with suppress(Exception):
            await socket.close()


# -- connecting ------------------------------------------------------------------------------
