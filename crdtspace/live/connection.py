"""A networked replica's connection: a websocket to the server, kept by a background loop.

Every connection of a process runs on one asyncio loop on a daemon thread (`network_loop`), as
a browser's clients share one: it syncs both ways (the Yjs protocol), publishes awareness and
reconnects with backoff. A message is merged on the loop when the replica's lock is free and
the merge is cheap (small, no log to fsync), else on the connection's own worker thread, which
waits for the lock: a caller holding one replica's lock stalls no other replica.

With a Hocuspocus server every frame carries the document's name and the connection opens with
the token (`crdtspace.live.hocuspocus`); its sync status messages acknowledge what the client
sent, which `idle()` waits for. `crdtspace serve` acknowledges too, when asked (``?acks=1``,
which every connection asks): a `DURABLE` message once what the client sent is in its log
(`crdtspace.live.protocol`); a server that never says it acknowledges (any other y-websocket
server) is taken to have what was sent.
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sized
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

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
from websockets.exceptions import ConnectionClosedOK, InvalidStatus, WebSocketException
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from crdtspace.errors import AuthError, SyncError
from crdtspace.live import hocuspocus as hp
from crdtspace.live.loops import new_loop
from crdtspace.live.protocol import DURABLE, UPDATE_MESSAGE
from crdtspace.live.wire import frame_header

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
FAREWELL_WAIT = 1.0
"""Seconds a leaving replica waits for a Hocuspocus node to have handled its farewell."""
EMPTY_UPDATE = b"\x00\x00"
"""A Yjs update that changes nothing (no structs, no deletions)."""
INLINE_MAX = 64 * 1024
"""Bytes of the largest message merged on the connection's loop, when the replica's lock is
free (a first sync's whole document goes to a worker thread: the loop keeps answering)."""
MAX_MESSAGE = 256 * 1024 * 1024
"""The largest message accepted from the server (a first sync carries the whole document)."""
CONTENT_WAIT = 1.0
"""Seconds an empty replica waits, after a Hocuspocus server's sync step 2 brought nothing,
for the document to arrive before it takes the room as empty: a node that has just loaded the
document answers at once, before the other nodes' state comes through Redis."""

QUIET_TURNS = 2
FOLLOW_TURNS = 16
"""Turns of the network loop in a row that merged nothing before the follow-ups of the merges
before them run, and the turns they wait at most (`_Followups`)."""


T = TypeVar("T")

_shared: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
_shared_lock = threading.Lock()


def network_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    """The loop every connection of this process runs on, and its daemon thread (started on
    first use). A loop per connection cost a thread switch per message per replica: with
    several replicas in one process (a runner, a benchmark), most of an edit's latency."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared[1].is_alive():
            loop = new_loop()
            started = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_forever()

            thread = threading.Thread(target=main, name="crdtspace-net", daemon=True)
            thread.start()
            started.wait()
            _shared = (loop, thread)
        return _shared


def _sync_message(kind: YSyncMessageType, payload: bytes) -> bytes:
    # pycrdt exports no builder for the two handshake steps; the framing is Yjs's.
    return bytes([YMessageType.SYNC, kind]) + write_message(payload)


class _Socket(ClientConnection):
    """websockets' client connection with a short way in and out for updates, skipping its
    reader task (a wake-up of a task per message, for each replica of the loop in turn):

    - `inline`, when set, is offered every whole binary message as it is read, and takes it
      (returns True) or leaves it to the reader, which then gets it in order. It is offered
      nothing while messages wait for the reader: whatever it takes comes after all of them.
      When websockets's parser stands between two frames with nothing read ahead, the
      frames of what comes are read here first (`_read_ahead`), not parsed by websockets:
      those `inline` takes never reach it; from the first it does not take (or one not whole
      yet), it parses the rest.
    - `write` writes a message at once when nothing waits to be written before it (a send
      waiting for the socket to drain), else says it did not. (Nothing here sends a message
      in fragments, which another message must not come between.)

    The reader's short way stands aside (`fast` False) with a websockets that lacks what it
    relies on, and the reading ahead when its parser is not as expected."""

    inline: Callable[[bytes], bool] | None = None

    @property
    def fast(self) -> bool:
        return isinstance(getattr(self.recv_messages, "frames", None), Sized)

    def data_received(self, data: bytes) -> None:
        if self.inline is not None and self._between_frames():
            data = self._read_ahead(data)
            if not data:
                return
        super().data_received(data)

    def _between_frames(self) -> bool:
        """Whether websockets's parser waits for a frame's first byte, with nothing read."""
        try:
            protocol: Any = self.protocol
            if (
                protocol.state is not State.OPEN
                or protocol.reader.buffer
                or protocol.current_size is not None  # (a message in fragments)
                or len(self.recv_messages.frames)
            ):
                return False
            waiting = protocol.parser
            while waiting.gi_yieldfrom is not None:
                waiting = waiting.gi_yieldfrom
            return bool(waiting.gi_code.co_name == "at_eof")  # (the top of its frame loop)
        except AttributeError:  # (websockets changed: it parses everything)
            return False

    def _read_ahead(self, data: bytes) -> bytes:
        """Offer `inline` the whole, final, unmasked binary frames `data` begins with, up to
        the first one it does not take; what is left, for websockets."""
        pos = 0
        while self.inline is not None and (found := frame_header(data, pos)) is not None:
            first, second, length, head = found
            if first != 0x82 or second & 0x80 or length > INLINE_MAX:  # (final binary, unmasked)
                break
            end = head + length
            if end > len(data) or not self.inline(data[head:end]):
                break
            pos = end
        return data[pos:] if pos else data

    def process_event(self, event: Any) -> None:
        inline = self.inline
        if (
            inline is not None
            and isinstance(event, Frame)
            and event.opcode is Opcode.BINARY
            and event.fin
            and not len(self.recv_messages.frames)
            and inline(bytes(event.data))
        ):
            return
        super().process_event(event)

    def write(self, message: bytes) -> bool:
        transport = self.transport
        if (
            self.protocol.state is not State.OPEN
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            return False
        self.protocol.send_binary(message)
        try:
            self.send_data()
        except Exception as exc:  # (as websockets's own send: the connection ends)
            self.set_connection_exc(exc)
            transport.abort()
        return True


class _Followups:
    """The connections of a loop whose replica merged an update on the loop and left its
    follow-up (`NetworkReplica._merge_remote`) due: run once the loop has merged what came.
    Every replica of a process gets its copy of a peer's update at about the same time, but
    not always in the same turn of the loop; each copy's merge is visible at once, and the
    follow-ups (held-back updates, caches, identical changes folded, who was heard of) come
    after all of them, not between them: they wait until `QUIET_TURNS` turns of the loop in
    a row merged nothing (a message read in one turn is merged in the next), `FOLLOW_TURNS`
    turns at most (what keeps merging still gets its follow-ups)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._due: dict[int, Connection] = {}
        self._scheduled = False
        self._merges = 0  # merges noted since the follow-ups were last run...
        self._looked = 0  # ...and how many of them the last look saw
        self._quiet = 0  # turns in a row that merged nothing
        self._turns = 0

    def add(self, connection: Connection) -> None:
        self._due[id(connection)] = connection
        self._merges += 1
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._run)

    def _run(self) -> None:
        self._quiet = 0 if self._merges != self._looked else self._quiet + 1
        self._looked = self._merges
        if self._quiet < QUIET_TURNS and self._turns < FOLLOW_TURNS:
            self._turns += 1
            self._loop.call_soon(self._run)
            return
        self._scheduled = False
        self._merges = self._looked = self._quiet = self._turns = 0
        due, self._due = self._due, {}
        for connection in due.values():
            try:
                connection.follow_up()
            except Exception as exc:  # (as a merge that fails: remembered, the rest go on)
                connection.error = SyncError(f"A merged update's follow-up failed: {exc}")


_followups: dict[asyncio.AbstractEventLoop, _Followups] = {}


def followups(loop: asyncio.AbstractEventLoop) -> _Followups:
    """The follow-ups of `loop` (on the loop's thread only)."""
    found = _followups.get(loop)
    if found is None:
        found = _followups[loop] = _Followups(loop)
    return found


class Connection:
    """The background side of a replica: tasks on the process's network loop, and a worker
    thread of its own for what waits for the replica's lock. Nothing runs before `start()`,
    which the replica calls once it is whole: the first awareness publication reads its state
    (a replica still being built had no claims nor `_closed` yet, and on a loaded machine the
    connection won the race: its awareness task died, and the peers never saw it)."""

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
        self._loop, self._thread = network_loop()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"crdtspace-net-{replica.agent}")
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
        self._writer: _Socket | None = None
        """The socket updates are written to at once when it can (`_update_queued`)."""
        self._sending = False
        self._was_synced = False
        self.hocuspocus = replica.protocol == "hocuspocus"
        self._sent = 0
        """Sync messages (step 2s, updates) sent in this session..."""
        self._acks = 0
        """...and how many of them the server acknowledged (sync status, `DURABLE`)..."""
        self._acknowledging = self.hocuspocus
        """...if it does: Hocuspocus always; `crdtspace serve` says so first thing."""
        self._awaiting_content = False
        self._content_wait: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._done = threading.Event()

    def start(self) -> None:
        """Start connecting, on the network loop (once: the replica's constructor does)."""
        asyncio.run_coroutine_threadsafe(self._main(), self._loop)
        self._started.wait()

    # -- called from any thread ----------------------------------------------------------

    def send_update(self, update: bytes) -> None:
        if self._socket is None:
            return  # offline: the next handshake's step 2 carries it (and the log keeps it)
        self._outbox.append(update)
        self._call(self._update_queued)

    def publish(self) -> None:
        self._call(self._wake_publisher)

    def idle(self) -> bool:
        """Everything handed over was sent (and, with Hocuspocus, acknowledged as applied)."""
        acknowledged = not self._acknowledging or self._acks >= self._sent
        return not self._outbox and not self._sending and acknowledged

    def set_online(self, online: bool) -> None:
        self._online = online
        self._call(self._state_changed)

    def drop(self) -> None:
        self._call(self._close_socket)

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        if not self._started.is_set():  # (never started: a replica whose constructor failed)
            self._worker.shutdown(wait=False)
            return
        if threading.get_ident() == self._thread.ident:  # (from a listener, on the loop)
            self._loop.create_task(self._leave()).add_done_callback(lambda _: self._state_changed())
            return
        future = asyncio.run_coroutine_threadsafe(self._leave(), self._loop)
        with suppress(Exception):
            future.result(timeout=2.0)
        self._call(self._state_changed)
        self._done.wait(timeout=5.0)

    def _call(self, callback: Callable[[], None]) -> None:
        if threading.get_ident() == self._thread.ident:  # (on the loop: no wake-up needed)
            self._loop.call_soon(callback)
            return
        with suppress(RuntimeError):  # the loop is closed: the interpreter is ending
            self._loop.call_soon_threadsafe(callback)

    async def _in_worker(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` on this connection's worker thread (in order, one at a time)."""
        return await self._loop.run_in_executor(self._worker, functools.partial(work, *args))

    # -- on the loop ---------------------------------------------------------------------

    def _update_queued(self) -> None:
        socket = self._writer
        if socket is not None and not self._sending:
            # (written here when nothing else is being written: no wake-up of the send loop)
            while self._outbox and socket.write(self._update_frame(self._outbox[0])):
                self._outbox.popleft()
                self._sent += 1
        if self._outbox and self._wake is not None:
            self._wake.set()
        self._state_moved()

    def _update_frame(self, update: bytes) -> bytes:
        return self._frame(create_update_message(update))

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
        self._last_move = now
        if self._moved_at is None:
            self._moved_at = now
            if self._publish is not None:
                self._publish.set()
        # (else the publisher already waits for a pause: due only later, it looks again then)

    def _state_changed(self) -> None:
        if self._changed is not None:
            self._changed.set()
        self._close_socket()

    def _close_socket(self) -> None:
        self._writer = None  # (what comes next goes with the next session)
        if self._socket is not None:
            self._loop.create_task(self._socket.close())

    async def _main(self) -> None:
        try:
            await self._run()
        finally:
            self._worker.shutdown(wait=False)
            self._started.set()  # (should `_run` have failed before it could say so)
            self._done.set()

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
            except AuthError as exc:  # a Hocuspocus server refused the token: final
                self.error = exc
                self.failed.set()
                return
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
            self.replica._socket_url,
            proxy=None,
            compression=None,
            max_size=MAX_MESSAGE,
            open_timeout=5.0,
            ping_interval=10.0,
            ping_timeout=10.0,
            close_timeout=1.0,
            create_connection=_Socket,
        ) as socket:
            self._socket = socket
            self.error = None
            # Whatever waits in the outbox is in this replica's state: the handshake's step 2
            # carries what the server lacks of it.
            self._outbox.clear()
            self._sent = self._acks = 0
            self._acknowledging = self.hocuspocus
            self._awaiting_content = False
            await self._in_worker(self.replica._session_began)
            if self.hocuspocus:  # (the server queues what follows until the token is checked)
                await socket.send(hp.auth_message(self.replica.document_name, self.replica._token))
            state = await self._in_worker(self.replica.state)
            await socket.send(self._frame(_sync_message(YSyncMessageType.SYNC_STEP1, state)))
            tasks = [
                asyncio.create_task(self._send_loop(socket)),
                asyncio.create_task(self._awareness_loop(socket)),
                asyncio.create_task(self._heartbeat_loop()),
            ]
            mine = socket if isinstance(socket, _Socket) else None
            self._writer = mine  # (after the handshake's step 1, as the send loop)
            inline = (
                self._inline if mine is not None and mine.fast and not self.hocuspocus else None
            )
            try:
                while True:
                    if mine is not None:
                        mine.inline = inline  # (see `_inline`: only while the reader waits)
                    try:
                        message = await socket.recv()
                    except ConnectionClosedOK:
                        break
                    finally:
                        if mine is not None:
                            mine.inline = None
                    if not isinstance(message, bytes) or not message:
                        continue
                    try:
                        handled, reply = self._handle_now(message)
                        if not handled:
                            # On a worker thread, in order: waiting for the replica's lock (a
                            # long commit, say) must not stall the loop (pings, sends).
                            reply = await self._in_worker(self._handle_waiting, message)
                    except AuthError:
                        raise
                    except Exception as exc:  # a malformed message: skipped, remembered
                        self.error = SyncError(f"A message from the server was skipped: {exc}")
                        continue
                    if reply is not None:
                        if reply[0] == YMessageType.SYNC:
                            self._sent += 1  # (a step 2: acknowledged too)
                        await socket.send(self._frame(reply))
            finally:
                self._writer = None
                if self._content_wait is not None:
                    tasks.append(self._content_wait)
                    self._content_wait = None
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _frame(self, message: bytes) -> bytes:
        return hp.frame(self.replica.document_name, message) if self.hocuspocus else message

    def _inline(self, message: bytes) -> bool:
        """Merge a relayed update as it is read (while the reader waits for the next message:
        nothing read before it waits for handling), if `_handle_now` can; whether it did."""
        if message[:2] != UPDATE_MESSAGE:
            return False
        try:
            handled, _ = self._handle_now(message)  # (an update has no reply)
        except Exception as exc:  # a malformed message: skipped, remembered (as the reader)
            self.error = SyncError(f"A message from the server was skipped: {exc}")
            return True
        return handled

    def _handle_now(self, message: bytes) -> tuple[bool, bytes | None]:
        """Handle a small message here, on the loop, if the replica's lock is free: (True, the
        reply). An update that finds it busy is left for whoever takes it next (`_arrive`):
        (True, None). Else (False, None), and a worker thread waits for the lock (a thread hop
        per message cost more than merging a keystroke)."""
        replica = self.replica
        if len(message) > INLINE_MAX or replica._logged:  # (a merge with an fsync: not here)
            return False, None
        if not replica.lock.acquire(blocking=False):
            return self._arrive(message), None
        try:
            return True, self._handle(message)
        finally:
            replica.lock.release()

    def _arrive(self, message: bytes) -> bool:
        """An update that found the replica's lock busy (on the loop): left in the replica's
        `_arrived` for whoever takes the lock next, a public call of the replica or this
        connection's worker (woken for it), and the next message read; whether it was (else
        the worker handles it, in order)."""
        if self.hocuspocus or message[:2] != UPDATE_MESSAGE or not self._online:
            return False
        payload = read_message(message[2:])
        if payload != EMPTY_UPDATE:
            self.replica._arrived.append(payload)
            self._loop.run_in_executor(self._worker, self._merge_waiting)
        self._state_moved()
        return True

    def _merge_waiting(self) -> None:
        with self.replica.lock:
            self.replica._merge_arrived()

    def _handle_waiting(self, message: bytes) -> bytes | None:
        """Handle a message once the replica's lock is free (on a worker thread)."""
        with self.replica.lock:
            return self._handle(message)

    def _handle(self, message: bytes) -> bytes | None:
        """The reply to a message from the server (unframed), if any; under the replica's lock,
        after the updates that arrived before it while the lock was busy (`_arrive`). Nothing
        is merged once the replica went offline (`set_online(False)`): the handshake of the
        next connection brings it all."""
        if self.replica._arrived:
            self.replica._merge_arrived()
        if not self._online:
            return None
        if self.hocuspocus:
            name, message = hp.unframe(message)
            if name != self.replica.document_name or not message:
                return None  # (another document's: this connection asked for one only)
            if message[0] >= hp.AUTH:
                return self._handle_hocuspocus(message)
        if message[0] == YMessageType.SYNC:
            return self._handle_sync(message[1:])
        if message[0] == YMessageType.AWARENESS:
            self._handle_awareness(read_message(message[1:]))
        elif message[0] == DURABLE and not self.hocuspocus:
            count, _ = hp.read_var_uint(message, 1)
            self._acks += count
            self._acknowledging = True
        return None

    def _handle_hocuspocus(self, message: bytes) -> bytes | None:
        """Hocuspocus's own messages: auth, query awareness, a sync reply, close, sync status
        (stateless ones carry nothing for a replica)."""
        kind, pos = hp.read_var_uint(message, 0)
        if kind == hp.SYNC_REPLY:
            return self._handle_sync(message[pos:])
        if kind == hp.SYNC_STATUS:
            self._acks += 1
            applied, _ = hp.read_var_uint(message, pos)
            if not applied:
                self.error = SyncError(
                    f"The server at {self.replica.url} did not apply an update (read-only?)."
                )
        elif kind == hp.AUTH:
            return self._handle_auth(message, pos)
        elif kind == hp.QUERY_AWARENESS:
            self._call(self._force_publication)
        elif kind == hp.CLOSE:
            reason, _ = hp.read_var_string(message, pos) if pos < len(message) else ("", pos)
            self.error = SyncError(
                f"The server at {self.replica.url} closed the connection ({reason or 'no reason'})."
            )
            self._was_synced = False  # (a server that keeps closing is retried ever more slowly)
            self._call(self._close_socket)
        return None

    def _handle_auth(self, message: bytes, pos: int) -> bytes | None:
        kind, pos = hp.read_var_uint(message, pos)
        if kind == hp.AUTH_TOKEN:  # the server asks for the token again
            return bytes([hp.AUTH, hp.AUTH_TOKEN]) + hp.var_string(self.replica._token)
        if kind == hp.AUTH_DENIED:
            reason, _ = hp.read_var_string(message, pos) if pos < len(message) else ("", pos)
            raise AuthError(
                f"The server at {self.replica.url} refused the token ({reason or 'denied'}).",
                hint="check the token the Hocuspocus server's onAuthenticate expects",
            )
        return None

    def _handle_sync(self, message: bytes) -> bytes | None:
        kind, payload = message[0], read_message(message[1:])
        if kind == YSyncMessageType.SYNC_STEP1:
            update = self.replica.update_since(payload)
            return _sync_message(YSyncMessageType.SYNC_STEP2, update)
        on_loop = threading.get_ident() == self._thread.ident
        if payload != b"\x00\x00":
            self.replica._merge_remote(payload, follow=not on_loop)
            if on_loop:
                followups(self._loop).add(self)
        if kind == YSyncMessageType.SYNC_STEP2:
            self._was_synced = True
            if self.hocuspocus and not self._has_content():
                # Hocuspocus with Redis answers from the node's copy, which may not hold the
                # other nodes' state yet: wait for content a moment rather than trust it.
                self._awaiting_content = True
                self._call(self._start_content_wait)
                return None
            self._now_synced()
            return None
        if self._awaiting_content and self._has_content():
            self._now_synced()
        if on_loop:
            self._state_moved()  # (no callback of its own: a merge on the loop is frequent)
        else:
            self._call(self._state_moved)
        return None

    def _has_content(self) -> bool:
        return bool(self.replica.state() != b"\x00")

    def _now_synced(self) -> None:
        self._awaiting_content = False
        self.synced.set()
        self._call(self._wake_publisher)

    def _start_content_wait(self) -> None:
        socket = self._socket

        async def wait() -> None:
            await asyncio.sleep(CONTENT_WAIT)
            if self._awaiting_content and self._socket is socket and socket is not None:
                self._now_synced()  # an empty room, it seems

        self._content_wait = self._loop.create_task(wait())

    def follow_up(self) -> None:
        """Run the replica's due follow-up (on the loop): here if its lock is free, else on
        the worker thread once it is."""
        if not self.replica.follow_merge():
            self._loop.run_in_executor(self._worker, self._follow_waiting)

    def _follow_waiting(self) -> None:
        try:
            with self.replica.lock:
                self.replica._follow_merge()
        except Exception as exc:
            self.error = SyncError(f"A merged update's follow-up failed: {exc}")

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
                    self._sent += 1
                    await socket.send(self._update_frame(self._outbox.popleft()))
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
            try:
                update = await self._in_worker(
                    functools.partial(self._awareness_update, forced=forced)
                )
            except Exception as exc:  # (this task ending would hide the replica for the session)
                self.error = SyncError(f"The replica's presence could not be published: {exc!r}")
                self._forced = True  # (the next wake-up, the heartbeat at the latest, retries)
                continue
            if update is None:
                continue  # (the same as the last one: a wake-up that read a change already sent)
            await socket.send(self._frame(create_awareness_message(update)))
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
            await self._in_worker(self._drop_silent_peers)

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
        """Say goodbye (awareness: no state) and close. A Hocuspocus node passes a change of
        awareness on to the other nodes only while the client is still connected (its Redis
        extension skips a document with no connection left): the replica waits, a second at
        most, for the node to acknowledge an empty update sent after the farewell, which it
        handles after it (in order)."""
        socket = self._socket
        if socket is None:
            return
        with suppress(Exception):
            farewell = self._awareness_update(leave=True)
            assert farewell is not None
            await socket.send(self._frame(create_awareness_message(farewell)))
            if self.hocuspocus and self._acknowledging:
                self._sent += 1
                await socket.send(self._frame(create_update_message(EMPTY_UPDATE)))
                deadline = self._loop.time() + FAREWELL_WAIT
                while self._acks < self._sent and self._loop.time() < deadline:
                    await asyncio.sleep(0.01)
        with suppress(Exception):
            await socket.close()


# -- connecting ------------------------------------------------------------------------------
