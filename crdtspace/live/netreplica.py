"""Networked replicas: a workspace kept in sync with a Yjs server, with presence and claims.

A `NetworkReplica` is a `Replica` (an in-memory document, or a durable one with `state_dir`)
plus a background connection to a server speaking the standard Yjs sync and awareness protocol
(`crdtspace serve`, any pycrdt-websocket or y-websocket server): the room is `/<workspace>`,
the token goes in the `?token=` query parameter. Or to a Hocuspocus server
(`hocuspocus+ws://host:port/<document>`, or `protocol="hocuspocus"`): the same protocol framed
with the document's name, the token sent in its auth message (`crdtspace.live.hocuspocus`).

- Home: with `home=REPO`, the replica is that repository's durable workspace (its log under
  `.git/crdtspace/<workspace>/`, its gate), and every update the server relays is checked
  first as `crdtspace serve` checks a peer's (`crdtspace.live.guard.UpdateGuard`): a hostile
  one is refused (`refusals()`), never merged nor logged.

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

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from pycrdt import (
    Awareness,
    Doc,
)

from crdtspace.errors import AuthError, StorageError, SyncError
from crdtspace.git import gate, gitio
from crdtspace.git.gate import GateReport
from crdtspace.git.presence import SILENT_AFTER
from crdtspace.live.connection import Connection
from crdtspace.live.guard import Refusal, UpdateGuard
from crdtspace.live.locking import public_methods
from crdtspace.live.protocol import ACKS_PARAM
from crdtspace.model import claims
from crdtspace.model.claims import Claim
from crdtspace.model.core import replay
from crdtspace.model.logentry import decode_state
from crdtspace.model.replica import Replica
from crdtspace.model.storage import UpdateLog
from crdtspace.model.versions import new_doc

__all__ = [
    "DOCUMENT_PARAM",
    "PROTOCOLS",
    "Claim",
    "ClaimViolation",
    "NetworkReplica",
    "Peer",
    "Refusal",
    "connect",
]

DOCUMENT_PARAM = "document"
"""The query parameter naming a Hocuspocus document when the address's path is not its name
(a node behind a proxy, at a path: ``hocuspocus+wss://host/collab?document=team/app``)."""
PROTOCOLS = ("y-websocket", "hocuspocus")
"""The servers a replica can join: y-websocket's protocol (`crdtspace serve`, y-websocket,
pycrdt-websocket), or Hocuspocus's framing of it."""

HEARTBEAT = 10.0
"""Seconds between renewals of a replica's awareness state (Yjs renews every 15 s)."""
PEER_TIMEOUT = 30.0
"""Seconds without an awareness message after which a peer is taken as gone (as in Yjs)."""
REPORT_REFRESH = 60.0
"""Seconds after which a connected replica reports again even when it saw nothing new (the
time in its report tells the gate when it was last heard of: see `crdtspace.git.presence`)."""
FINAL_REPORT_WAIT = 5.0
"""Seconds `close()` waits for the replica's last report (it is finished) to be sent."""
F = TypeVar("F", bound=Callable[..., Any])


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
        fresh = not _owned(self.lock)
        with self.lock:
            self._catch_up(arrived=fresh)
            return method(self, *args, **kwargs)

    wrapper._takes_the_lock = True  # type: ignore[attr-defined]  # (a marker: wrap it once)
    return wrapper  # type: ignore[return-value]  # same signature, by functools.wraps


class NetworkReplica(Replica):
    """A replica synced live with a Yjs server; see the module docstring for the rules."""

    networked = True  # (its reports say so: one not in awareness any more is silent)

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
        protocol: str = "y-websocket",
        guarded: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self._arrived: deque[bytes] = deque()
        """Updates from the server that found the lock busy, in order: merged by whoever takes
        the lock next, a public call (one that does not hold it already) or the connection's
        worker, woken for them. A caller taking the lock again and again (a read in a loop)
        otherwise starved the worker waiting for it: Python's locks are not fair."""
        super().__init__(doc, agent=agent, log=log, root=root)
        self._logged = log is not None
        """Whether every merge is appended to a log (and fsynced) here."""
        if protocol not in PROTOCOLS:
            raise SyncError(f"Unknown protocol {protocol!r}: {' or '.join(PROTOCOLS)}.")
        self.protocol = protocol
        self._room_url = url
        self.url = _redacted(url)
        """The room's address, without the token (for messages)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self._token = query.get("token", [""])[0]
        named = query.get(DOCUMENT_PARAM)
        self.document_name = named[0] if named else unquote(parts.path[1:])
        """Hocuspocus's document name: the ``document`` query parameter, else the address's
        path without its first slash."""
        # A Hocuspocus node behind a proxy is reached at a path (``/collab?document=NAME``); one
        # reached directly, at "/" (the path is the name). The name and the token go in frames.
        hocuspocus_path = (parts.path or "/") if named else "/"
        self._socket_url = (
            urlunsplit((parts.scheme, parts.netloc, hocuspocus_path, "", ""))
            if protocol == "hocuspocus"
            else _with_query(url, f"{ACKS_PARAM}=1")  # (`crdtspace serve` acknowledges)
        )
        self._guard: UpdateGuard | None = None
        if guarded:
            if root is None:
                raise SyncError("A guarded replica needs its repository (root).")
            self._guard = UpdateGuard(doc, root)
        self.awareness = Awareness(doc)
        self._claims: dict[str, tuple[str, float, str]] = {}
        self._violations: list[ClaimViolation] = []
        self._violation_keys: set[tuple[str, str, float]] = set()
        self._connection = Connection(self, heartbeat=heartbeat, peer_timeout=peer_timeout)
        self._stop_listening = self.subscribe(self._connection.send_update)
        if self._guard is not None:
            self._stop_guarding = self.subscribe(self._guard.local)
        self._closed = False
        self._reported = 0.0  # (time.monotonic() of the last look at the report)
        self._connection.start()  # (last: its first publication reads all of the above)

    # -- the connection ----------------------------------------------------------------------

    def _without_token(self, text: str) -> str:
        """`text` (a library's error, which may quote the address) without the token."""
        for form in (self._room_url, self._token, quote(self._token, safe="")):
            if form:
                text = text.replace(form, self.url if form == self._room_url else "***")
        return text

    def _session_began(self) -> None:
        """A new connection (on the connection's thread): its handshake brings everything."""
        with self.lock:
            if self._guard is not None:
                self._guard.reset()

    def _merge_remote(self, update: bytes, *, follow: bool = True) -> None:
        """Merge an update from the server (on the connection's thread); a guarded replica
        checks it first, and merges only what passes. Not `follow`: the merge's follow-up
        (`_follow_merge`) is left due, for `follow_merge` (the connection calls it once the
        other replicas of the shared loop merged theirs: their copies of an update arrive
        together) or whatever uses this replica next, whichever comes first."""
        with self.lock:
            if self._guard is None:
                self._merge_update(update)
            else:
                for accepted in self._guard.admit(update):
                    self._merge_update(accepted)
            if follow:
                self._follow_merge()

    def _catch_up(self, *, arrived: bool = True) -> None:
        """Before this replica is used (under the lock): merge what `arrived` while the lock
        was busy (not in a call made under the lock already: nothing lands mid-call), then run
        a due merge's follow-up (`_merge_remote`)."""
        if arrived and self._arrived:
            self._merge_arrived()
        if self._merging is not None:
            self._follow_merge()

    def _merge_arrived(self) -> None:
        """Merge the updates in `_arrived`, in order, each followed up (under the lock). One
        that cannot be merged is skipped and remembered, as the connection skips a malformed
        message: the call that merged it is not the one to fail."""
        while self._arrived:
            update = self._arrived.popleft()
            try:
                self._merge_remote(update)
            except Exception as exc:
                self._connection.error = SyncError(f"A message from the server was skipped: {exc}")

    def follow_merge(self) -> bool:
        """Run a merge's follow-up if one is due and the lock is free now; whether none is
        due any more."""
        if not self.lock.acquire(blocking=False):
            return not self._merge_due
        try:
            self._follow_merge()
            return True
        finally:
            self.lock.release()

    def refusals(self) -> list[Refusal]:
        """The updates from the server this replica refused (a guarded one: `home=`), oldest
        first (the last 100)."""
        return list(self._guard.refusals) if self._guard is not None else []

    def held(self) -> int:
        """How many updates from the server wait for changes they depend on (guarded)."""
        return len(self._guard.held) if self._guard is not None else 0

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
        """Wait until every local update was sent (while connected) and acknowledged by a
        server that acknowledges: `crdtspace serve` once it is durable there, Hocuspocus once
        applied; returns whether that happened within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected and self._connection.idle():
                return True
            time.sleep(0.01)
        return False

    def disconnect(self) -> None:
        """Drop the connection and stay offline (edits go on) until `reconnect()`. Once this
        returns, nothing more from the server is merged (a message being merged meanwhile is
        finished first), so edits made offline are concurrent with everything after."""
        self._connection.set_online(False)
        with self.lock:  # (waits for a merge in progress; later ones see the replica offline)
            pass

    def reconnect(self) -> None:
        """Connect again after `disconnect()`; the handshake catches both sides up."""
        self._connection.set_online(True)

    def drop(self) -> None:
        """Close the current connection as a network failure would: the replica reconnects."""
        self._connection.drop()

    def close(self) -> None:
        """Leave: record in the document that this replica is finished (`finish`: the gate
        then never waits for it) and wait for that to be sent, tell the peers (awareness
        removed), stop the connection, close the log."""
        if self._closed:
            return
        self._closed = True
        if self.finish() and self.connected:
            self.wait_sent(FINAL_REPORT_WAIT)
        self._connection.stop()
        with self.lock:  # (what merged since, followed up under the lock the loop's take)
            self._catch_up()
        self._stop_listening()
        if self._guard is not None:
            self._stop_guarding()
        super().close()

    # -- presence and claims -------------------------------------------------------------

    def rename_agent(self, agent: str) -> None:
        """Edit from now on as `agent`, and show the peers that name."""
        self.agent = agent
        self._connection.publish()

    def present(self) -> set[str]:
        """The names of the agents connected besides this one."""
        return {peer.agent for peer in self.peers()}

    def claim(self, ref: str, ttl: float = 60.0, *, note: str = "") -> Claim:
        """Tell the other agents this one is about to edit `ref` (a node or a file) for `ttl`
        seconds, with a `note` on what for; claiming again extends it."""
        path, nid = self.resolve(ref)
        key = nid or ""
        expires = time.time() + ttl
        self._claims[f"{path}::{key}"] = (key, expires, note[:200])
        self._connection.publish()
        return Claim(self.agent, key, path, self._name(key), expires, note[:200])

    def release(self, ref: str) -> None:
        """Withdraw a claim (nothing happens if there was none)."""
        path, nid = self.resolve(ref)
        if self._claims.pop(f"{path}::{nid or ''}", None) is not None:
            self._connection.publish()

    def my_claims(self) -> list[Claim]:
        """This replica's own live claims (and its agent's in the document)."""
        now = time.time()
        mine = [
            Claim(self.agent, node, key.partition("::")[0], self._name(node), until, note)
            for key, (node, until, note) in sorted(self._claims.items())
            if until > now
        ]
        return mine + [c for c in claims.in_document(self) if c.agent == self.agent]

    def claims(self) -> list[Claim]:
        """Other agents' live claims (expired ones dropped), by path, node and agent: those
        their replicas publish, and those the document holds (`crdtspace.model.claims`)."""
        now = time.time()
        found = [
            claim
            for _, agent, state in self._peer_awareness()
            if state.get("claims")  # (most have none: every local edit asks)
            for claim in self._peer_claims(agent, state)
            if claim.expires > now
        ]
        found += [c for c in claims.in_document(self) if c.agent != self.agent]
        return sorted(found, key=lambda c: (c.path, c.node, c.agent))

    def peers(self) -> list[Peer]:
        """The other replicas connected to the server, as their awareness shows them."""
        now = time.time()
        out = []
        for client, agent, state in self._peer_awareness():
            claims = tuple(c for c in self._peer_claims(agent, state) if c.expires > now)
            out.append(Peer(client, agent, _state_of(state), claims))
        return out

    def _peer_awareness(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """(client id, agent, awareness state) of each other replica, by client id."""
        for client, state in sorted(self.awareness.states.items()):
            if client == self.client_id or not isinstance(state, dict):
                continue
            agent = str(state.get("agent", ""))
            if agent:  # (else another kind of client, an editor binding: no crdtspace state)
                yield client, agent, state

    def peer_states(self) -> dict[str, dict[int, int]]:
        """Per connected peer agent, the state vector it last published (for the gate)."""
        return {peer.agent: peer.state for peer in self.peers()}

    def claim_violations(self) -> list[ClaimViolation]:
        """Local edits made to nodes other agents claimed at the time, oldest first."""
        return list(self._violations)

    def _any_claims(self) -> bool:
        """Whether another replica publishes claims or the document holds any (live or not:
        `claims()` tells)."""
        published = any(
            isinstance(state, dict) and state.get("claims")
            for client, state in self.awareness.states.items()
            if client != self.client_id
        )
        return published or claims.any_in_document(self)

    def _peer_claims(self, agent: str, state: dict[str, Any]) -> list[Claim]:
        out = []
        for item in state.get("claims") or []:
            if not isinstance(item, dict):
                continue
            node = str(item.get("node", ""))
            path = str(item.get("path", ""))
            until = item.get("until")
            note = item.get("note")
            if isinstance(until, int | float):
                said = note[:200] if isinstance(note, str) else ""
                out.append(Claim(agent, node, path, self._name(node), float(until), said))
        return out

    def _name(self, nid: str) -> str:
        if nid and self.document.has_node(nid):
            return str(self.document.node(nid).get("name", ""))
        return ""

    def _report_when_due(self) -> None:
        """While connected (each awareness publication asks): report what this replica has
        seen (`report`) at once the first time, then at most once a heartbeat when it changed,
        and every `REPORT_REFRESH` seconds anyway."""
        if self._closed or not self.connected:
            return
        now = time.monotonic()
        first = str(self.client_id) not in self.document.reports_map
        if not first and now - self._reported < self._connection.heartbeat:
            return
        self._reported = now
        self.report(refresh=REPORT_REFRESH)

    def _local_state(self) -> dict[str, Any]:
        self._report_when_due()
        now = time.time()
        claims = [
            {"node": node, "path": key.partition("::")[0], "until": until, "note": note}
            for key, (node, until, note) in sorted(self._claims.items())
            if until > now
        ]
        return {"agent": self.agent, "state": self.state().hex(), "claims": claims}

    def _write_log(self) -> None:
        touched = list(self._touched)
        super()._write_log()
        if touched and not self._folding:
            self._note_violations(touched)

    def _note_violations(self, touched: list[str]) -> None:
        if not self._any_claims():  # (asked at every local edit: most find none)
            return
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
        silent_after: float | None = None,
    ) -> GateReport:
        """Commit through the gate (see `crdtspace.git.gate`); the wait for peers to catch up
        happens without the lock, so that their updates and awareness keep arriving.
        `silent_after`: seconds after which a replica not heard of stops blocking (default
        `crdtspace.git.presence.SILENT_AFTER`)."""
        quiet = SILENT_AFTER if silent_after is None else silent_after
        deadline = time.monotonic() + max(0.0, wait)
        while time.monotonic() < deadline:
            with self.lock:
                if not gate.behind(self, silent_after=quiet):
                    break
            time.sleep(0.05)
        with self.lock:
            options = gate.GateOptions(
                message, check, 0.0, allow_behind, run_check, silent_after=quiet
            )
            return gate.commit(self, options)

    @contextmanager
    def transaction(self, description: str = "") -> Iterator[None]:
        fresh = not _owned(self.lock)
        with self.lock:
            self._catch_up(arrived=fresh)
            with super().transaction(description):
                yield

    @contextmanager
    def acting_as(self, agent: str) -> Iterator[None]:
        fresh = not _owned(self.lock)
        with self.lock:
            self._catch_up(arrived=fresh)
            with super().acting_as(agent):
                yield


def _owned(lock: Any) -> bool:
    """Whether this thread holds `lock` (a `threading.RLock`) already."""
    return bool(lock._is_owned())


_UNLOCKED = {
    "follow_merge",  # it must not wait for the lock
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
    for name in public_methods(target, _UNLOCKED):
        current = getattr(target, name)
        if not getattr(current, "_takes_the_lock", False):
            setattr(target, name, _locked(current))


_lock_public_methods(NetworkReplica)


def _state_of(state: dict[str, Any]) -> dict[int, int]:
    try:
        return dict(decode_state(bytes.fromhex(str(state.get("state", "")))))
    except (ValueError, IndexError):
        return {}


def _with_query(url: str, parameter: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, parameter) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _redacted(url: str) -> str:
    """An address for messages: no query (the token is there), no password in it."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def room_url(url: str, token: str, workspace: str = "default") -> str:
    """The websocket URL of a workspace's room: `/<workspace>` unless `url` names a path or a
    Hocuspocus document (``?document=``), and the token as the `token` query parameter."""
    parts = urlsplit(url)
    named = DOCUMENT_PARAM in parse_qs(parts.query)
    path = parts.path if parts.path not in ("", "/") or named else "/" + quote(workspace)
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
    protocol: str | None = None,
    home: Path | str | None = None,
) -> NetworkReplica:
    """A replica of `workspace` on the server at `url` (`ws://host:port`), synced live.

    `protocol`: "y-websocket" (the default) or "hocuspocus" (the default for a
    `hocuspocus+ws://` or `hocuspocus+wss://` address). The room is the address's path, else
    `/<workspace>`: with Hocuspocus, that path (unquoted, without its first slash; it may hold
    slashes and any characters) is the document's name, unless the address names it
    (``?document=NAME``): then the path is where the node is reached (behind a proxy, say).
    `home`: a repository whose durable workspace `workspace` this replica is (its log, its
    gate: `state_dir` and `root` from there), checking every update the server relays before
    it is merged (`refusals()` lists those refused).

    With `wait`, returns once the first sync is done, or raises `AuthError` (token refused) or
    `SyncError` (not reached within `timeout`); without, returns at once and syncs when it can.
    `root`: the repository the replica commits to through the gate (`commit`), if any.
    `replica_class`: a subclass of `NetworkReplica` to make (`Workspace.connect` makes one that
    is also a `Workspace`).
    With `state_dir`, the replica is durable there: every update is logged before it is sent,
    and the log is replayed (and sent) by the next `connect` with the same folder."""
    scheme = urlsplit(url).scheme
    if scheme.startswith("hocuspocus+"):
        url = url[len("hocuspocus+") :]
        scheme = scheme[len("hocuspocus+") :]
        protocol = protocol or "hocuspocus"
    if scheme not in ("ws", "wss"):
        raise SyncError(
            f"{_redacted(url)!r} is not a websocket address (ws:// or wss://).",
            hint="give the address `crdtspace serve` prints, e.g. ws://127.0.0.1:8765",
        )
    if home is not None:
        repo = gitio.open_repo(Path(home))
        state_dir = gitio.state_dir(repo, workspace)
        root = gitio.repo_root(repo)
        if not (state_dir / "updates.log").is_file():
            raise StorageError(
                "This repository has no crdtspace workspace yet.", hint="run `crdtspace init` first"
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
        protocol=protocol or "y-websocket",
        guarded=home is not None,
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
