"""The sync server: the workspace's home replica, speaking the Yjs sync and awareness protocol.

::

    client ──ws──▶ auth (token, before any document data)
                   │
                   ▼
              GuardedChannel: size limit, message shape, paths a scratch doc would gain
                   │  (hostile → logged, connection closed; the doc never sees it)
                   ▼
              committer: workspace.apply_update (validated, fsynced to updates.log)
                   │  (a burst from many clients is one merged record, one fsync)
                   ▼
              YRoom (pycrdt-websocket): applies to the room's Doc, relays to every client

An update is relayed (the only acknowledgement the Yjs protocol has) only once it is durable,
so nothing a client saw echoed or relayed is lost to a kill -9. The room has its own Doc; the
workspace's own edits (folds of identical changes) flow into it through `subscribe`.

The token lives in ``.git/crdtspace/<workspace>/token`` (mode 0600), created on first use;
clients pass it as ``?token=`` (all a browser or y-websocket client can do) or as an
``Authorization: Bearer`` header.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import anyio
import anyio.to_thread
from pycrdt import (
    Array,
    Doc,
    Map,
    MapEvent,
    YMessageType,
    YSyncMessageType,
    get_update,
    merge_updates,
)
from pycrdt.websocket import WebsocketServer, YRoom

from crdtspace.errors import AuthError, PathError, SyncError
from crdtspace.git import gitio, workspaces
from crdtspace.model import schema
from crdtspace.model.replica import Replica
from crdtspace.model.versions import new_doc

__all__ = [
    "DEFAULT_MAX_UPDATE",
    "DEFAULT_PORT",
    "Rejection",
    "Server",
    "fetch_status",
    "running_server",
    "status_url",
    "token_for",
]

DEFAULT_PORT = 8765
DEFAULT_MAX_UPDATE = 8 * 1024 * 1024
"""Largest update (bytes) a client may send in one message; bigger ones close the connection."""

RECENT_COUNT = 256
RECENT_BYTES = 32 * 1024 * 1024
"""Accepted updates kept to rebuild the scratch copy with: at most this many, this big."""
TOKEN_NAME = "token"
SERVER_AGENT = "server"
LOG = logging.getLogger("crdtspace.live.server")

_CLOSE_POLICY = 1008  # websocket close code: policy violation (hostile or malformed input)
_CLOSE_TOO_BIG = 1009
_QUERY_AWARENESS = 3
_AUTH = 2
_PATH_MAPS = ("files", "gitonly")
RAW_SESSION = 1.0
"""Seconds of a client's raw edits to one node that make one log entry (see Server._apply)."""
"""Maps whose keys are repository paths: a key outside the repository is hostile."""


# -- tokens ------------------------------------------------------------------------------


def token_for(repo_path: Path | str, workspace: str = "default") -> str:
    """The workspace's token, created (random, mode 0600) on first use."""
    repo = gitio.open_repo(Path(repo_path))
    path = gitio.state_dir(repo, workspace) / TOKEN_NAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: theirs wins
        return path.read_text().strip()
    with os.fdopen(fd, "w") as stream:
        stream.write(token + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    return token


def _request_token(scope: dict[str, Any]) -> str | None:
    """The token a request presents: the ``token`` query parameter or a Bearer header."""
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    for name, value in scope.get("headers", []):
        if bytes(name).lower() == b"authorization":
            kind, _, credential = bytes(value).decode("latin-1").partition(" ")
            if kind.lower() == "bearer":
                return credential.strip()
    return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- what the server tells about itself ---------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A message refused from a client, and why (also logged)."""

    peer: str
    reason: str
    at: float


@dataclass
class _Peer:
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


class _Hostile(Exception):
    """A message a client must not send; its connection is closed with `code`."""

    def __init__(self, reason: str, code: int = _CLOSE_POLICY) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _Hostile("a truncated or overlong variable-length integer")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = _read_var_uint(data, pos)
    if pos + length > len(data):
        raise _Hostile("a length prefix that runs past the end of the message")
    return data[pos : pos + length], pos + length


def _check_state_vector(state: bytes) -> None:
    count, pos = _read_var_uint(state, 0)
    for _ in range(count * 2):
        _, pos = _read_var_uint(state, pos)


def _awareness_states(payload: bytes) -> list[tuple[int, Any]]:
    """(client id, state or None) of an awareness update; _Hostile when malformed."""
    count, pos = _read_var_uint(payload, 0)
    states: list[tuple[int, Any]] = []
    for _ in range(count):
        client, pos = _read_var_uint(payload, pos)
        _, pos = _read_var_uint(payload, pos)
        raw, pos = _read_bytes(payload, pos)
        try:
            states.append((client, json.loads(raw.decode())))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Hostile("an awareness state that is not JSON") from exc
    return states


def _decode_state_field(value: Any) -> bytes | None:
    """A state vector published in awareness (base64 or hex text), or None."""
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        pass
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


# -- the server --------------------------------------------------------------------------


class Server:
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
    ) -> None:
        self.workspace_name = workspace
        self.token = token or os.environ.get("CRDTSPACE_TOKEN") or token_for(repo_path, workspace)
        self.host = host
        self.port = port
        self.max_update = max_update
        self.room_path = f"/{workspace}"
        self.warnings: list[str] = []
        if not is_loopback(host):
            self.warnings.append(
                f"The server listens on {host}, not on loopback: anyone who can reach this "
                "address and has the token can read and edit the workspace."
            )
        self.rejections: list[Rejection] = []
        self.workspace = workspaces.open_workspace(
            Replica, repo_path, agent=SERVER_AGENT, workspace=workspace
        )
        self.room_doc: Doc[Any] = new_doc()
        self.room_doc.apply_update(self.workspace.update_since())
        self._scratch = self._new_scratch()
        self._recent: deque[bytes] = deque()
        """The updates accepted lately (at most RECENT_COUNT, RECENT_BYTES): some may not have
        reached the room's doc yet."""
        self._recent_bytes = 0
        self._local: list[bytes] = []
        self._unsubscribe = self.workspace.subscribe(self._local.append)
        self._peers: dict[int, _Peer] = {}
        self._channels: set[GuardedChannel] = set()
        self._numbers = 0
        self._queue: list[
            tuple[bytes, anyio.Event, list[BaseException], tuple[dict[str, str], set[str]]]
        ] = []
        self._wake = anyio.Event()
        self._websockets = WebsocketServer(auto_clean_rooms=False, log=LOG)
        self.room: YRoom | None = None
        self._closed = False
        self._stopping = False
        self._raw_sessions: dict[str, tuple[set[str], dict[str, str], float]] = {}
        """Raw edits not logged yet: node id -> (agents, texts before, when it began)."""
        self._draining = False
        """Set when a shutdown is asked for: connections stop taking updates (what was not
        relayed was not acknowledged; its client still holds it and sends it again)."""

    # -- lifecycle -------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Server]:
        """Start the room and the committer; on exit, flush and close the workspace."""
        try:
            async with anyio.create_task_group() as group:
                # Started and stopped by hand, never by cancelling this group: hypercorn's
                # asyncio tasks and a cancelled anyio scope leak a CancelledError out of it.
                await group.start(self._websockets.start)
                self.room = YRoom(ydoc=self.room_doc, ready=True, log=LOG)
                self._websockets.rooms[self.room_path] = self.room
                await self._websockets.start_room(self.room)
                group.start_soon(self._committer)
                try:
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
        """Listen until `shutdown()` returns; `ready(port)` is called once listening."""
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
                await shutdown()
                self._draining = True
                # Close each connection ourselves ("going away"): hypercorn would otherwise
                # wait its graceful timeout, then drop them with an internal error.
                with anyio.move_on_after(2):
                    for channel in list(self._channels):
                        await channel.close(1001)

            await hypercorn_serve(app, config, shutdown_trigger=stop, mode="asgi")

    def close(self) -> None:
        """Flush and close the workspace (idempotent)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # (a node gone meanwhile has nothing to log)
            self._end_raw_sessions(True)
        self._unsubscribe()
        self.workspace.close()

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
            vector = _decode_state_field(state.get("state_vector", state.get("state")))
            if vector is not None:
                states[_agent_of(state) or str(client)] = vector
        return states

    def status(self) -> dict[str, Any]:
        """What `GET /status` answers: workspace, base, state vector, clients, claims."""
        awareness = self._awareness()
        clients = []
        for peer in self._peers.values():
            states = {c: awareness.get(c) for c in sorted(peer.client_ids)}
            named = [_agent_of(s) for s in states.values() if isinstance(s, dict)]
            clients.append(
                {
                    "agent": next((n for n in named if n), peer.agent),
                    "address": peer.address,
                    "connected_for": round(time.time() - peer.since, 3),
                    "client_ids": sorted(peer.client_ids),
                    "state_vector": _state_hex(states),
                }
            )
        claims = {
            _agent_of(s) or str(c): s["claims"]
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
            await self._http(scope, send)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    def _authorized(self, scope: dict[str, Any]) -> bool:
        presented = _request_token(scope)
        return presented is not None and hmac.compare_digest(
            presented.encode(), self.token.encode()
        )

    async def _http(self, scope: dict[str, Any], send: Callable[..., Awaitable[None]]) -> None:
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
            await send({"type": "websocket.close", "code": _CLOSE_POLICY})
            return
        if scope["path"].rstrip("/") != self.room_path:
            LOG.warning("Refused %s: no workspace at %s.", address, scope["path"])
            await send({"type": "websocket.close", "code": _CLOSE_POLICY})
            return
        await send({"type": "websocket.accept"})
        self._numbers += 1
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        agent = (query.get("agent") or [f"client-{self._numbers}"])[0]
        peer = _Peer(self._numbers, address, agent, time.time())
        self._peers[peer.number] = peer
        channel = GuardedChannel(self, peer, receive, send)
        self._channels.add(channel)
        try:
            await self._websockets.serve(channel)
        finally:
            del self._peers[peer.number]
            self._channels.discard(channel)
        await channel.close()

    # -- checking and committing updates -------------------------------------------------

    def _new_scratch(self) -> Doc[Any]:
        """A copy of the accepted state, to see what an update would do before accepting it."""
        scratch = new_doc()
        scratch.apply_update(bytes(self.room_doc.get_update()))
        return scratch

    def check_update(self, update: bytes) -> tuple[set[str], set[str]]:
        """_Hostile when `update` is malformed or adds a path outside the repository.

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
            raise _Hostile(f"a malformed update ({exc})") from exc
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
            raise _Hostile("an update that depends on changes the server does not have")
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
            raise _Hostile(f"an update that {forged[0]}")
        if removed:
            forged.extend(_unrecorded_removals(nodes, touched, removed))
        if forged:
            self._rebuild_scratch()
            raise _Hostile(f"an update that {forged[0]}")
        wrong = schema.problems(self._scratch, structural, added) if structural or added else []
        if wrong:
            self._rebuild_scratch()
            raise _Hostile(f"an update that breaks the document's schema: {wrong[0]}")
        entries = {str(k) for m in maps for k in m} if added else set()
        for path in added:
            try:
                if gitio.safe_relpath(self.workspace.root, path) != path:
                    raise PathError(f"The path {path!r} is not in normal form.")
                _below_another(path, entries)
            except PathError as exc:
                self._rebuild_scratch()
                raise _Hostile(
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

    def _apply(self, update: bytes, raw: dict[str, str], logged: set[str]) -> None:
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

    def reject(self, peer: _Peer, reason: str) -> None:
        LOG.warning("Closed the connection of %s (%s): %s.", peer.agent, peer.address, reason)
        self.rejections.append(Rejection(f"{peer.agent} {peer.address}", reason, time.time()))
        del self.rejections[:-100]


def _agent_of(state: Any) -> str | None:
    if not isinstance(state, dict):
        return None
    for key in ("agent", "name"):
        if isinstance(state.get(key), str):
            return str(state[key])
    user = state.get("user")
    if isinstance(user, dict) and isinstance(user.get("name"), str):
        return str(user["name"])
    return None


def _state_hex(states: dict[int, Any]) -> str | None:
    for state in states.values():
        if isinstance(state, dict):
            vector = _decode_state_field(state.get("state_vector", state.get("state")))
            if vector is not None:
                return vector.hex()
    return None


class GuardedChannel:
    """A client's websocket as a pycrdt Channel that lets through only safe, durable messages."""

    def __init__(
        self,
        server: Server,
        peer: _Peer,
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        self._server = server
        self._peer = peer
        self._receive = receive
        self._send = send
        self._close_code = 1000
        self._open = True

    @property
    def path(self) -> str:
        return self._server.room_path

    def __aiter__(self) -> GuardedChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except (_Hostile, anyio.EndOfStream):
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        if self._open:
            try:
                await self._send({"type": "websocket.send", "bytes": message})
            except Exception:  # the peer went away while we relayed: the room drops it
                self._open = False

    async def recv(self) -> bytes:
        while True:
            if self._server._draining:
                raise anyio.EndOfStream
            event = await self._receive()
            if event["type"] == "websocket.disconnect":
                self._open = False
                raise anyio.EndOfStream
            if event["type"] != "websocket.receive":
                continue
            try:
                return await self._admit(event)
            except _Hostile as exc:
                self._server.reject(self._peer, exc.reason)
                self._close_code = exc.code
                raise

    async def _admit(self, event: dict[str, Any]) -> bytes:
        message = event.get("bytes")
        if message is None:
            raise _Hostile("a text frame (the Yjs protocol is binary)")
        message = bytes(message)
        if len(message) > self._server.max_update + 16:
            raise _Hostile(
                f"a message of {len(message)} bytes, over the limit of {self._server.max_update}",
                _CLOSE_TOO_BIG,
            )
        if not message:
            raise _Hostile("an empty message")
        kind = message[0]
        if kind == YMessageType.SYNC:
            await self._admit_sync(message)
        elif kind == YMessageType.AWARENESS:
            payload, _ = _read_bytes(message, 1)
            for client, state in _awareness_states(payload):
                self._peer.client_ids.add(client)
                named = _agent_of(state)
                if named:  # the agent its edits are logged as when they come with no entry
                    self._peer.agent = named
        elif kind not in (_AUTH, _QUERY_AWARENESS):
            raise _Hostile(f"an unknown message type {kind}")
        return message

    async def _admit_sync(self, message: bytes) -> None:
        if len(message) < 2:
            raise _Hostile("a sync message with no type")
        sub = message[1]
        payload, end = _read_bytes(message, 2)
        if end != len(message):
            raise _Hostile("trailing bytes after a sync message")
        if sub == YSyncMessageType.SYNC_STEP1:
            _check_state_vector(payload)
            return
        if sub not in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
            raise _Hostile(f"an unknown sync message type {sub}")
        unlogged, logged = self._server.check_update(payload)
        try:
            await self._server.commit(payload, unlogged, self._peer.agent, logged)
        except SyncError as exc:
            self._server._rebuild_scratch()
            raise _Hostile(str(exc)) from exc

    async def close(self, code: int | None = None) -> None:
        """Close the websocket with `code` (default: why it ends: 1000, or the violation)."""
        if code is not None:
            self._close_code = code
        if self._open:
            self._open = False
            with anyio.move_on_after(1), contextlib.suppress(Exception):  # already gone
                await self._send({"type": "websocket.close", "code": self._close_code})


# -- running ---------------------------------------------------------------------------------


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SyncError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="choose another --port, or stop the server already there",
        ) from None
    sock.set_inheritable(True)
    return sock


@contextmanager
def running_server(
    repo_path: Path | str = ".",
    *,
    workspace: str = "default",
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    max_update: int = DEFAULT_MAX_UPDATE,
) -> Iterator[Server]:
    """A server in a background thread (its own event loop), stopped on exit: for tests."""
    server = Server(
        repo_path, workspace=workspace, token=token, host=host, port=port, max_update=max_update
    )
    sock = bind_socket(host, port)
    server.port = sock.getsockname()[1]
    started = threading.Event()
    failure: list[BaseException] = []
    stop: list[Callable[[], None]] = []

    async def main() -> None:
        shutdown = anyio.Event()
        token = anyio.lowlevel.current_token()
        stop.append(lambda: anyio.from_thread.run_sync(shutdown.set, token=token))
        await server.serve(shutdown.wait, sock=sock, ready=lambda _: started.set())

    def target() -> None:
        try:
            anyio.run(main)
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
        if stop:
            stop[0]()
        thread.join(15)
        if failure:
            raise SyncError(f"The server failed: {failure[0]}") from failure[0]


def status_url(url: str) -> str:
    """The ``/status`` address of a server given as ws://, http:// or host:port (any path)."""
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/status", "", ""))


def fetch_status(url: str, token: str, *, timeout: float = 10) -> dict[str, Any]:
    """A running server's status (`Server.status`); AuthError when the token is refused."""
    request = urllib.request.Request(status_url(url), headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            result: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 401:
            raise AuthError(
                f"The server at {url} refused the token.",
                hint="pass --token or set CRDTSPACE_TOKEN (see .git/crdtspace/<workspace>/token)",
            ) from None
        raise SyncError(f"The server at {url} answered {exc.code} to GET /status.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SyncError(f"No crdtspace server answered at {url}: {exc}") from None
    return result
