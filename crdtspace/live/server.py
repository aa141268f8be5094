"""The sync server: the workspace's home replica, speaking the Yjs sync and awareness protocol.

::

    client ──ws──▶ auth (token, before any document data)
                   │
                   ▼
              GuardedChannel: size limit, message shape, paths a scratch doc would gain
                   │  (hostile → logged, connection closed; the doc never sees it)
                   ▼
              relayed at once, in order, to every other client (not back to its sender: it
                   │  has it): framed once, written to each client's socket (`_Wire`)
                   ▼
              the room's Doc: applied (it serves the handshakes)
                   │
                   ▼
              committer: workspace.apply_update (validated, fsynced to updates.log)
                   │  (a burst from many clients is one merged record, one fsync)
                   ▼
              acknowledged to its sender (``?acks=1``: a `DURABLE` message)

An update is acknowledged to its sender only once it is durable: a crdtspace replica asks
for acknowledgements (``?acks=1``) and its `wait_sent()` (and so its `close()`) waits for them.
The other clients get it relayed at once, before the fsync: no one waits for the disk. A
kill -9 of the server between the relay and the fsync loses it from the server's log only:
its sender, not acknowledged, still holds it, and so does every client that saw it; each
hands it back in the handshake when it reconnects. A log that cannot be written makes the
server take no more updates (every connection closed, 1011): nothing after it could be made
durable in order.

The room has its own Doc; the workspace's own edits (folds of identical changes) flow into it
through `subscribe`, and are relayed to every client.

The token lives in ``.git/crdtspace/<workspace>/token`` (mode 0600), created on first use;
clients pass it as ``?token=`` (all a browser or y-websocket client can do) or as an
``Authorization: Bearer`` header.

Here: the websocket and HTTP side (`Server`, `GuardedChannel`, `running_server`). The room's
document, the checks and the committer are `crdtspace.live.home`; the message format,
`crdtspace.live.protocol`; the token and the status endpoint as a client reaches them,
`crdtspace.live.access`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
from pycrdt import Map, TransactionEvent, YMessageType, YSyncMessageType, create_update_message
from pycrdt.websocket import WebsocketServer, YRoom

from crdtspace.errors import SyncError
from crdtspace.live.access import bind_socket, is_loopback, request_token, token_for
from crdtspace.live.home import LOG, HomeReplica, Peer
from crdtspace.live.loops import anyio_options
from crdtspace.live.protocol import (
    ACKS_PARAM,
    AUTH,
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    QUERY_AWARENESS,
    UPDATE_MESSAGE,
    Hostile,
    agent_of,
    awareness_states,
    check_state_vector,
    decode_state_field,
    durable_message,
    read_bytes,
    state_hex,
)
from crdtspace.live.service import DEFAULT_MAX_UPDATE, DEFAULT_PORT
from crdtspace.live.wire import FrameReader, Wire, binary_frame
from crdtspace.model.replica import Replica

__all__ = ["DEFAULT_MAX_UPDATE", "DEFAULT_PORT", "Server", "running_server"]


@dataclass(frozen=True)
class Mount:
    """Another ASGI application the server serves under `prefix` (e.g. MCP at ``/mcp``), with
    what must run while the server does (`lifespan`)."""

    prefix: str
    app: Callable[..., Awaitable[None]]
    lifespan: Callable[[], contextlib.AbstractAsyncContextManager[Any]]


CommandRunner = Callable[[Replica, dict[str, Any]], dict[str, Any]]
"""Runs one client's command line on the home replica: the request ``{"argv": [...],
"stdin": str | None, "agent": str | None, "columns": int | None}``, the answer ``{"code": int,
"stdout": str, "stderr": str}`` (see `crdtspace.cli.served`)."""

"""Largest update (bytes) a client may send in one message; bigger ones close the connection."""


# -- the server --------------------------------------------------------------------------


class Server(HomeReplica):
    """The home replica of one workspace, served over websockets (an ASGI app: `app`)."""

    def __init__(
        self,
        repo_path: Path | str = ".",
        *,
        workspace: str = "default",
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        max_update: int = DEFAULT_MAX_UPDATE,
        idle_timeout: float = 0.0,
        replica_class: type[Replica] = Replica,
        commands: CommandRunner | None = None,
    ) -> None:
        self.commands = commands
        self.mounts: list[Mount] = []
        """Other applications served beside the room (each with the token required of it)."""
        """Runs a command line for a client on the home replica (``POST /cli``); None: refused."""
        self.token = token or os.environ.get("CRDTSPACE_TOKEN") or token_for(repo_path, workspace)
        self.host = host
        self.port = port
        self.max_update = max_update
        self.idle_timeout = idle_timeout
        """Seconds with no connected client and no HTTP request after which `serve` stops by
        itself, as if asked to (0: never)."""
        self.last_activity = time.monotonic()
        """When a client last connected or left, or an HTTP request came (monotonic)."""
        self.stopped_idle = False
        """Set when `serve` stopped because of `idle_timeout`."""
        self.room_path = f"/{workspace}"
        self.warnings: list[str] = []
        if not is_loopback(host):
            self.warnings.append(
                f"The server listens on {host}, not on loopback: anyone who can reach this "
                "address and has the token can read and edit the workspace."
            )
        super().__init__(repo_path, workspace, replica_class)
        self._peers: dict[int, Peer] = {}
        self._channels: set[GuardedChannel] = set()
        self._numbers = 0
        self._websockets = WebsocketServer(auto_clean_rooms=False, log=LOG)
        self.room: YRoom | None = None
        self._draining = False
        """Set when a shutdown is asked for: connections stop taking updates (what was not
        relayed was not acknowledged; its client still holds it and sends it again)."""
        self._sender: GuardedChannel | None = None
        """The client whose update the room's Doc is taking (it is not sent back to it)."""
        self._relayed = False
        """Set while the room's Doc takes an update `to_room` relayed itself."""
        self.room_doc.observe(self._room_changed)

    # -- lifecycle -------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Server]:
        """Start the room and the committer; on exit, flush and close the workspace."""
        try:
            async with anyio.create_task_group() as group:
                # Started and stopped by hand, never by cancelling this group: hypercorn's
                # asyncio tasks and a cancelled anyio scope leak a CancelledError out of it.
                await group.start(self._websockets.start)
                # Not "ready": the room never relays the Doc's updates itself (it would send
                # each back to its sender too); `_room_changed` does.
                self.room = YRoom(ydoc=self.room_doc, ready=False, log=LOG)
                self._websockets.rooms[self.room_path] = self.room
                await self._websockets.start_room(self.room)
                group.start_soon(self._committer)
                try:
                    async with contextlib.AsyncExitStack() as stack:
                        for mount in self.mounts:
                            await stack.enter_async_context(mount.lifespan())
                        yield self
                finally:
                    self._stopping = True
                    self._wake.set()
                    await self._websockets.stop()
        finally:
            self.close()

    async def serve(
        self,
        shutdown: Callable[[], Awaitable[Any]],
        *,
        sock: socket.socket | None = None,
        ready: Callable[[int], None] | None = None,
    ) -> None:
        """Listen until `shutdown()` returns (or, with `idle_timeout`, until no client has
        connected nor any request come for that long); `ready(port)` is called once
        listening."""
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        if sock is None:
            try:
                sock = bind_socket(self.host, self.port)
            except SyncError:
                self.close()
                raise
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket now
        config.websocket_max_message_size = self.max_update * 2 + 65536
        config.accesslog = None
        config.errorlog = LOG
        config.graceful_timeout = 2.0
        async with self.running():
            if ready is not None:
                ready(self.port)
            app: Any = self.app  # hypercorn's ASGI types are TypedDicts; ours are plain dicts

            async def stop() -> None:
                await self._until_stop(shutdown)
                self._draining = True
                # Close each connection ourselves ("going away"): hypercorn would otherwise
                # wait its graceful timeout, then drop them with an internal error.
                with anyio.move_on_after(2):
                    for channel in list(self._channels):
                        await channel.close(1001)

            await hypercorn_serve(app, config, shutdown_trigger=stop, mode="asgi")

    async def _until_stop(self, shutdown: Callable[[], Awaitable[Any]]) -> None:
        """Return when `shutdown()` does, or when the server has been idle too long."""
        if self.idle_timeout <= 0:
            await shutdown()
            return
        async with anyio.create_task_group() as group:

            async def asked() -> None:
                await shutdown()
                group.cancel_scope.cancel()

            async def idle() -> None:
                await self._until_idle()
                self.stopped_idle = True
                group.cancel_scope.cancel()

            group.start_soon(asked)
            group.start_soon(idle)

    async def _until_idle(self) -> None:
        """Return once no client has been connected nor any request come for `idle_timeout`."""
        while True:
            left = self.idle_timeout - (time.monotonic() - self.last_activity)
            if self._peers:
                left = self.idle_timeout
            elif left <= 0:
                LOG.info("No client for %g s: stopping.", self.idle_timeout)
                return
            await anyio.sleep(min(max(left, 0.05), 1.0))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}{self.room_path}"

    # -- reports -----------------------------------------------------------------------

    def peer_states(self) -> dict[str, bytes]:
        """The state vectors connected peers publish in awareness, by agent (or client id)."""
        states: dict[str, bytes] = {}
        for client, state in self._awareness().items():
            if not isinstance(state, dict):
                continue
            vector = decode_state_field(state.get("state_vector", state.get("state")))
            if vector is not None:
                states[agent_of(state) or str(client)] = vector
        return states

    def status(self) -> dict[str, Any]:
        """What `GET /status` answers: workspace, base, state vector, clients, claims."""
        awareness = self._awareness()
        clients = []
        for peer in self._peers.values():
            states = {c: awareness.get(c) for c in sorted(peer.client_ids)}
            named = [agent_of(s) for s in states.values() if isinstance(s, dict)]
            clients.append(
                {
                    "agent": next((n for n in named if n), peer.agent),
                    "address": peer.address,
                    "connected_for": round(time.time() - peer.since, 3),
                    "client_ids": sorted(peer.client_ids),
                    "state_vector": state_hex(states),
                }
            )
        claims = {
            agent_of(s) or str(c): s["claims"]
            for c, s in awareness.items()
            if isinstance(s, dict) and s.get("claims")
        }
        return {
            "workspace": self.workspace_name,
            # From the room's doc: the workspace's may be mid-update on the committer's thread.
            "base": str(self.room_doc.get("meta", type=Map).get("base", "")),
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "state_vector": bytes(self.room_doc.get_state()).hex(),
            "clients": clients,
            "claims": claims,
            "rejected": len(self.rejections),
            "warnings": list(self.warnings),
        }

    def _awareness(self) -> dict[int, Any]:
        if self.room is None:
            return {}
        return {int(k): v for k, v in self.room.awareness.states.items()}

    # -- the ASGI app ------------------------------------------------------------------

    async def app(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """The ASGI application: the websocket room and ``GET /status``."""
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            path = str(scope["path"])
            mount = next((m for m in self.mounts if (path + "/").startswith(m.prefix + "/")), None)
            if mount is not None:
                self.last_activity = time.monotonic()
                await mount.app(scope, receive, send)
            elif scope["path"].rstrip("/") == "/cli" and scope.get("method") == "POST":
                await self._cli(scope, receive, send)
            else:
                await self._http(scope, send)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    def _authorized(self, scope: dict[str, Any]) -> bool:
        presented = request_token(scope)
        return presented is not None and hmac.compare_digest(
            presented.encode(), self.token.encode()
        )

    async def _http(self, scope: dict[str, Any], send: Callable[..., Awaitable[None]]) -> None:
        self.last_activity = time.monotonic()
        if scope["path"].rstrip("/") not in ("/status", "/health"):
            code, body = 404, {"error": "not found; try GET /status"}
        elif not self._authorized(scope):
            code, body = 401, {"error": "a valid token is required"}
        else:
            code, body = 200, self.status()
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    def authorized(self, scope: dict[str, Any]) -> bool:
        """Whether a request presents the workspace's token (for mounted applications)."""
        return self._authorized(scope)

    def relay(self) -> None:
        """Pass the home replica's own edits on to the room (after `call`)."""
        self._relay_local()

    async def _failed(self, error: BaseException) -> None:
        """The log cannot be written: every connection is closed (1011); the clients keep
        what was not acknowledged, and `GuardedChannel.recv` takes nothing more."""
        LOG.error("Closing every connection: the workspace takes no more updates.")
        with anyio.move_on_after(2):
            for channel in list(self._channels):
                await channel.close(CLOSE_INTERNAL)

    def to_room(self, update: bytes, sender: GuardedChannel, message: bytes | None = None) -> None:
        """A client's checked update into the room's Doc: relayed to every other client.
        With its `message` (an update message holding just `update`), that very message is
        relayed first, then the room's Doc takes the update (no re-encoding, and nothing
        between the check and the relay); else the Doc's change is."""
        if message is not None:
            self._push(message, sender)
        self._sender = sender
        self._relayed = message is not None
        try:
            self.room_doc.apply_update(update)
        finally:
            self._sender = None
            self._relayed = False

    def _room_changed(self, event: TransactionEvent) -> None:
        """Relay what changed the room's Doc, in order, to every client but its sender (unless
        `to_room` relayed it already)."""
        if not self._relayed:
            self._push(create_update_message(event.update), self._sender)

    def _push(self, message: bytes, sender: GuardedChannel | None) -> None:
        frame = binary_frame(message)  # (framed once, written as it is to every client)
        for channel in self._channels:
            if channel is not sender:
                channel.push(message, frame)

    async def _cli(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """``POST /cli``: a command line run on the home replica for a client that found the
        service (its JSON request and answer: see `CommandRunner`)."""
        self.last_activity = time.monotonic()
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.max_update:
                code, answer = 413, {"error": "the request is too large"}
                break
            if not message.get("more_body"):
                code, answer = 200, {}
                break
        if code == 200 and not self._authorized(scope):
            code, answer = 401, {"error": "a valid token is required"}
        elif code == 200 and (self.commands is None or self._draining):
            code, answer = 503, {"error": "this service runs no commands"}
        elif code == 200:
            try:
                request = json.loads(body)
                if not isinstance(request, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                code, answer = 400, {"error": f"not a JSON request: {exc}"}
            else:
                runner = self.commands
                assert runner is not None
                request["service"] = self.status()  # (who is here: for `status`)
                answer = await anyio.to_thread.run_sync(self.call, lambda ws: runner(ws, request))
                self._relay_local()
        self.last_activity = time.monotonic()
        data = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _websocket(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        host, port = scope.get("client") or ("?", "?")
        address = f"{host}:{port}"
        if not self._authorized(scope):
            LOG.warning("Refused %s: a wrong or missing token.", address)
            await send({"type": "websocket.close", "code": CLOSE_POLICY})
            return
        if scope["path"].rstrip("/") != self.room_path:
            LOG.warning("Refused %s: no workspace at %s.", address, scope["path"])
            await send({"type": "websocket.close", "code": CLOSE_POLICY})
            return
        await send({"type": "websocket.accept"})
        self._numbers += 1
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        agent = (query.get("agent") or [f"client-{self._numbers}"])[0]
        peer = Peer(self._numbers, address, agent, time.time())
        self._peers[peer.number] = peer
        self.last_activity = time.monotonic()
        acks = (query.get(ACKS_PARAM) or ["0"])[0] not in ("", "0")
        channel = GuardedChannel(self, peer, receive, send, acks=acks)
        self._channels.add(channel)
        try:
            if acks:  # (before the room's first message: the client knows before it syncs)
                await channel.send(durable_message(0))
            async with anyio.create_task_group() as group:
                group.start_soon(channel.pump)
                try:
                    await self._websockets.serve(channel)
                finally:
                    channel.stop_pump()
        finally:
            del self._peers[peer.number]
            self._channels.discard(channel)
            self.last_activity = time.monotonic()
        await channel.close()


INBOX_HIGH = 32
INBOX_LOW = 8
"""A client's messages read below hypercorn and waiting for the room (`GuardedChannel.arrived`):
at `INBOX_HIGH`, its socket is read no more until they are down to `INBOX_LOW`."""


class GuardedChannel:
    """A client's websocket as a pycrdt Channel that lets through only safe messages; with
    `acks`, it tells the client when what it sent is durable (`DURABLE` messages)."""

    def __init__(
        self,
        server: Server,
        peer: Peer,
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
        *,
        acks: bool = False,
    ) -> None:
        self._server = server
        self._peer = peer
        self._receive = receive
        self._send = send
        self._close_code = 1000
        self._open = True
        self._outbox: deque[bytes] = deque()
        self._queued = anyio.Event()
        self._pumping = True
        self._wire = Wire.of(send)
        self._reader: FrameReader | None = None
        """Reads the socket in hypercorn's place once it can (see `crdtspace.live.wire`)..."""
        self._inbox: deque[bytes] = deque()
        """...putting here what it read while `recv` was not waiting for it..."""
        self._arrived = asyncio.Event()
        self._waiting = False
        """...or, while `recv` waits with nothing before it, admitting an update at once."""
        self._refused: Hostile | None = None
        """What made an update admitted as it was read hostile (`recv` raises it)."""
        self._acks = acks
        self._durable = 0
        """Sync messages of this client made durable and not acknowledged yet."""

    @property
    def path(self) -> str:
        return self._server.room_path

    def __aiter__(self) -> GuardedChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except (Hostile, anyio.EndOfStream):
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        if self._open:
            try:
                await self._send({"type": "websocket.send", "bytes": message})
            except Exception:  # the peer went away while we relayed: the room drops it
                self._open = False

    def push(self, message: bytes, frame: bytes | None = None) -> None:
        """Relay an update: written at once (`frame`: it as a websocket frame) when nothing
        is waiting to be sent to this client before it, else queued after what is (`pump`)."""
        wire = self._wire if self._open and not self._outbox else None
        if frame is not None and wire is not None and wire.write(frame):
            return
        self._outbox.append(message)
        self._queued.set()

    def durable(self) -> None:
        """One more sync message of this client is durable: acknowledged by `pump`."""
        if self._acks:
            self._durable += 1
            self._queued.set()

    async def pump(self) -> None:
        """Send the queued updates, in order, and the acknowledgements (one message for all
        that became durable meanwhile), until `stop_pump`."""
        while self._pumping:
            await self._queued.wait()
            self._queued = anyio.Event()
            while (self._outbox or self._durable) and self._pumping:
                if self._outbox:
                    await self.send(self._outbox.popleft())
                    continue
                count, self._durable = self._durable, 0
                await self.send(durable_message(count))

    def stop_pump(self) -> None:
        self._pumping = False
        self._queued.set()

    async def recv(self) -> bytes:
        while True:
            if self._server._draining:
                raise anyio.EndOfStream
            if self._server.failure is not None:
                self._close_code = CLOSE_INTERNAL
                raise anyio.EndOfStream
            try:
                if self._refused is not None:
                    raise self._refused
                if self._inbox:
                    if len(self._inbox) <= INBOX_LOW and self._reader is not None:
                        self._reader.resume()
                    message = self._admit(self._inbox.popleft())
                elif self._reader is not None and self._reader.reading:
                    await self._wait_arrival()
                    continue
                elif self._take_over():
                    continue
                else:
                    event = await self._receive()
                    if event["type"] == "websocket.disconnect":
                        self._open = False
                        raise anyio.EndOfStream
                    if event["type"] != "websocket.receive":
                        continue
                    data = event.get("bytes")
                    if data is None:
                        raise Hostile("a text frame (the Yjs protocol is binary)")
                    message = self._admit(bytes(data))
            except Hostile as exc:
                self._server.reject(self._peer, exc.reason)
                self._close_code = exc.code
                raise
            if message is not None:
                return message

    def _take_over(self) -> bool:
        """Have a `FrameReader` read the socket from now on, if hypercorn holds nothing read
        and not handed on (once per connection); whether it does."""
        if self._wire is None or self._reader is not None or not self._wire.quiet(self._receive):
            return False
        self._reader = FrameReader(self._wire, self, self._server.max_update + 16)
        self._reader.take_over()
        return True

    async def _wait_arrival(self) -> None:
        self._waiting = True
        try:
            await self._arrived.wait()
        finally:
            self._waiting = False
            self._arrived.clear()

    def arrived(self, message: bytes) -> None:
        """A message the `FrameReader` read: an update admitted at once (checked, relayed,
        queued for the workspace) when `recv` waits with nothing read before it, else left
        for `recv`, in order."""
        if self._refused is not None:
            return  # (the connection ends: nothing after a hostile update is taken)
        if (
            self._waiting
            and not self._inbox
            and message[:2] == UPDATE_MESSAGE
            and self._server.failure is None
            and not self._server._draining
        ):
            try:
                self._admit(message)
            except Hostile as exc:
                self._refused = exc
                self._arrived.set()
            return
        self._inbox.append(message)
        self._arrived.set()
        if len(self._inbox) >= INBOX_HIGH and self._reader is not None:
            self._reader.pause()  # (resumed as `recv` takes them: a flood waits in the socket)

    def taken_back(self) -> None:
        """Hypercorn reads the socket again (see `FrameReader`): `recv` goes back to it once
        what was read before is handled."""
        self._arrived.set()

    def _admit(self, message: bytes) -> bytes | None:
        """The message for the room, or None when it was an update, relayed now and queued
        for the workspace (acknowledged once durable)."""
        if len(message) > self._server.max_update + 16:
            raise Hostile(
                f"a message of {len(message)} bytes, over the limit of {self._server.max_update}",
                CLOSE_TOO_BIG,
            )
        if not message:
            raise Hostile("an empty message")
        kind = message[0]
        if kind == YMessageType.SYNC:
            if not self._admit_sync(message):
                return None
        elif kind == YMessageType.AWARENESS:
            payload, _ = read_bytes(message, 1)
            for client, state in awareness_states(payload):
                self._peer.client_ids.add(client)
                named = agent_of(state)
                if named:  # the agent its edits are logged as when they come with no entry
                    self._peer.agent = named
        elif kind not in (AUTH, QUERY_AWARENESS):
            raise Hostile(f"an unknown message type {kind}")
        return message

    def _admit_sync(self, message: bytes) -> bool:
        """Whether the room is to handle `message` (sync step 1); an update (step 2 or an
        update) is checked, applied to the room's Doc here (relayed to the others at once),
        and queued for the workspace: acknowledged to this client once durable."""
        if len(message) < 2:
            raise Hostile("a sync message with no type")
        sub = message[1]
        payload, end = read_bytes(message, 2)
        if end != len(message):
            raise Hostile("trailing bytes after a sync message")
        if sub == YSyncMessageType.SYNC_STEP1:
            check_state_vector(payload)
            return True
        if sub not in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
            raise Hostile(f"an unknown sync message type {sub}")
        if self._server.failure is not None:  # (checked again: it may have failed meanwhile)
            self._close_code = CLOSE_INTERNAL
            raise anyio.EndOfStream
        unlogged, logged = self._server.check_update(payload)
        # (an update, checked: relayed as it came; a step 2 may repeat what the room has)
        relay = message if sub == YSyncMessageType.SYNC_UPDATE else None
        self._server.to_room(payload, self, relay)
        self._server.submit(payload, self.durable, unlogged, self._peer.agent, logged)
        return False

    async def close(self, code: int | None = None) -> None:
        """Close the websocket with `code` (default: why it ends: 1000, or the violation)."""
        if code is not None:
            self._close_code = code
        if self._open:
            self._open = False
            with anyio.move_on_after(1), contextlib.suppress(Exception):  # already gone
                await self._send({"type": "websocket.close", "code": self._close_code})


# -- running ---------------------------------------------------------------------------------


@contextmanager
def running_server(
    repo_path: Path | str = ".",
    *,
    workspace: str = "default",
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    max_update: int = DEFAULT_MAX_UPDATE,
    idle_timeout: float = 0.0,
) -> Iterator[Server]:
    """A server in a background thread (its own event loop), stopped on exit: for tests.
    (With `idle_timeout` it may stop by itself before: see `Server.stopped_idle`.)"""
    server = Server(
        repo_path,
        workspace=workspace,
        token=token,
        host=host,
        port=port,
        max_update=max_update,
        idle_timeout=idle_timeout,
    )
    sock = bind_socket(host, port)
    server.port = sock.getsockname()[1]
    started = threading.Event()
    failure: list[BaseException] = []
    stop: list[Callable[[], object]] = []  # (call_soon_threadsafe's handle is not used)

    async def main() -> None:
        shutdown = anyio.Event()
        loop = asyncio.get_running_loop()
        # (asked without waiting for an answer: a loop that ends on its own meanwhile, idle,
        # would never run a callback that `anyio.from_thread.run_sync` waits for)
        stop.append(lambda: loop.call_soon_threadsafe(shutdown.set))
        await server.serve(shutdown.wait, sock=sock, ready=lambda _: started.set())

    def target() -> None:
        try:
            anyio.run(main, backend_options=anyio_options())
        except BaseException as exc:
            failure.append(exc)
            started.set()

    thread = threading.Thread(target=target, name="crdtspace-server", daemon=True)
    thread.start()
    started.wait(30)
    if failure:
        raise SyncError(f"The server did not start: {failure[0]}") from failure[0]
    try:
        yield server
    finally:
        if stop and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # (its loop closed meanwhile: idle)
                stop[0]()
        thread.join(15)
        if failure:
            raise SyncError(f"The server failed: {failure[0]}") from failure[0]
