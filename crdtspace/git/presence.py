"""Which replicas the commit gate waits for: live, behind, silent, finished, exchanged, forgotten.

Every replica that ever edited is listed in the document (`Document.replicas()`); the gate's
convergence check asks, for each, whether a commit now could leave out edits it holds or is
about to make. How each one is judged (`replicas`), first match:

- **this**: the replica running the gate.
- **forgotten**: someone ran `crdtspace replicas forget` on it (`forget`: a record in the
  document's ``reports`` map, so every replica agrees), and nothing of it arrived since.
- **session**: an earlier session of this durable workspace (its edits are in the local log).
- **connected** (awareness, `Connected`): judged by the state vector it publishes now; behind
  while it has not seen every edit.
- **finished**: it closed cleanly (`Replica.finish`: its last report says ``done``). The gate
  only needs its edits here (its final clock for its own client id against this workspace's
  state), never waits for it to catch up. A finished replica never edits again: its awareness
  may linger (a relay such as Hocuspocus with Redis does not always pass a farewell on), the
  report says it is gone.
- **exchanged**: its edits came through a git state exchange (`gitstate` pull, or a push that
  merged the remote's state) and nothing more of it arrived since: covered by what was merged.
- otherwise by its last report: **live** when it has seen every edit; **behind** when it has
  not; **silent** when it never reported, or it is a networked replica that should show in
  awareness and does not. One behind or silent blocks the gate until `silent_after` seconds
  (`SILENT_AFTER`) have passed since it was last heard of (the newest of: the time in its
  report, an update bringing its edits to this process, its awareness while connected, else
  when this workspace first noticed it); then it is silent and the gate goes on without it.

Edits a replica made that the workspace lacks (another replica's report, a peer's awareness or
its own final report show more of it than is here) are named: they cannot be committed anyway.
Listed too, never blocking: the forks that applied writes from older versions (their edits are
in the replica that made them) and connected peers that never edited.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from crdtspace.errors import DocumentError
from crdtspace.model.logentry import decode_state

if TYPE_CHECKING:
    from crdtspace.model.replica import Replica

__all__ = [
    "FORGET_PREFIX",
    "SILENT_AFTER",
    "STATES",
    "Connected",
    "Presence",
    "connected_peers",
    "forget",
    "replicas",
]

SILENT_AFTER = 120.0
"""Seconds after which a replica not heard of stops blocking the gate (it is silent)."""
FORGET_PREFIX = "forget:"
"""Key prefix of a forget record in the document's ``reports`` map (then the client id)."""
STATES = (
    "this",
    "live",
    "behind",
    "silent",
    "finished",
    "exchanged",
    "session",
    "forgotten",
    "fork",
)
"""What `Presence.state` can be."""


@dataclass(frozen=True)
class Connected:
    """A peer seen connected now (its awareness): client id, agent, published state vector."""

    client: int
    agent: str
    state: Mapping[int, int]


@dataclass(frozen=True)
class Presence:
    """One replica as the gate sees it."""

    client: int
    agent: str
    state: str
    """One of `STATES`."""
    blocking: bool
    """Whether the gate waits for it (refuses without --allow-behind)."""
    last_heard: float | None
    """Wall-clock seconds it was last heard of (None: never, as far as this workspace knows)."""
    quiet: float | None
    """Seconds since then, when the survey was made."""
    detail: str
    """Why it is in that state, in a few words."""
    connected: bool = False
    unseen: str = ""
    """Edits it made that this workspace lacks, said in words ("" when none are known)."""
    gave_up: bool = False
    """Silent for longer than `silent_after` while behind: the gate goes on without it."""
    of: int | None = None
    """A fork's replica."""
    noticed: bool = False
    """Never heard of here: `last_heard` is when this workspace first noticed it."""

    @property
    def label(self) -> str:
        """How the gate names it: `agent (client id, state, ...)`."""
        if self.connected:
            return f"{self.agent} (connected, {self.state})"
        parts = [f"{self.client:x}", self.state]
        if self.state == "finished" and self.blocking:
            parts.append("its last edits are not here yet")
        if self.state in ("behind", "silent") or self.blocking:
            parts.append(_heard_phrase(self.quiet, self.noticed))
        if self.unseen:
            parts.append(self.unseen)
        return f"{self.agent} ({', '.join(parts)})"


@dataclass(frozen=True)
class _Report:
    seen: dict[int, int]
    at: float | None
    made: int
    done: bool
    networked: bool


def replicas(
    ws: Replica,
    *,
    silent_after: float = SILENT_AFTER,
    connected: Iterable[Connected] | None = None,
    now: float | None = None,
) -> list[Presence]:
    """Every replica known to `ws` and how the gate judges it (see the module docstring), by
    client id; `connected`: peers seen connected by whoever runs the gate, besides those `ws`
    sees itself (a networked replica's awareness)."""
    now = time.time() if now is None else now
    document = ws.document
    needed = document.needed_state()
    have = dict(decode_state(ws.state()))
    reports = _reports(document.reports_map)
    forgotten = _forgotten(document.reports_map)
    sessions = ws.local_sessions()
    exchanged = ws.exchanged()
    heard = ws.heard()
    peers, sees_presence = connected_peers(ws, connected)
    lacking = _lacking(needed, have, reports, peers)
    known = document.replicas()
    judge = _Judge(
        ws, now, silent_after, needed, have, reports, heard, peers, sees_presence, lacking
    )
    out: list[Presence] = []
    for client, agent in sorted(known.items()):
        if client == ws.client_id:
            out.append(Presence(client, agent, "this", False, now, 0.0, "the one asking"))
        elif client in forgotten and have.get(client, 0) <= forgotten[client]:
            out.append(judge.plain(client, agent, "forgotten", "forgotten: not waited for"))
        elif client in sessions:
            detail = "an earlier session of this workspace: its edits are in the local log"
            out.append(judge.plain(client, agent, "session", detail))
        elif client in peers and not (client in reports and reports[client].done):
            out.append(judge.connected(peers[client]))
        else:
            out.append(judge.other(client, agent, exchanged.get(client)))
    for client, peer in sorted(peers.items()):
        if client not in known and client != ws.client_id:
            out.append(judge.connected(peer, edited=False))
    out.extend(_forks(document.agents, judge))
    return out


def connected_peers(
    ws: Replica, extra: Iterable[Connected] | None = None
) -> tuple[dict[int, Connected], bool]:
    """The peers seen connected now, by client id: those a networked replica sees in its
    awareness (`NetworkReplica.peers()`) and `extra`; and whether anyone could see them (a
    replica with no view of presence takes nobody as gone)."""
    found: dict[int, Connected] = {}
    sees = extra is not None
    provider = getattr(ws, "peers", None)
    if callable(provider):
        sees = True
        for peer in provider():
            client, agent = getattr(peer, "client", None), getattr(peer, "agent", None)
            state = getattr(peer, "state", None)
            if isinstance(client, int) and isinstance(agent, str) and isinstance(state, dict):
                found[client] = Connected(client, agent, dict(state))
    for peer in extra or ():
        if peer.client != ws.client_id:
            found.setdefault(peer.client, peer)
    return found, sees


def forget(ws: Replica, ref: str) -> Presence:
    """Record in the document that the gate no longer waits for the replica `ref` names (its
    client id in hex, as listed, or in decimal, or its agent's name when only one replica has
    it), until more of its edits arrive; returns that replica as it was judged before."""
    known = ws.document.replicas()
    listed = [p for p in replicas(ws) if p.client in known and p.state != "fork"]
    chosen = _find(listed, ref)
    if chosen.client == ws.client_id:
        raise DocumentError(
            f"{chosen.agent} ({chosen.client:x}) is the replica asking: it cannot forget itself."
        )
    have = dict(decode_state(ws.state())).get(chosen.client, 0)
    with ws.transaction("forget replica"):
        ws.document.reports_map[f"{FORGET_PREFIX}{chosen.client}"] = {
            "agent": chosen.agent,
            "by": ws.agent,
            "at": time.time(),
            "upto": have,
        }
    return chosen


# -- judging ------------------------------------------------------------------------------


class _Judge:
    """What `replicas` knows, and how it judges one replica."""

    def __init__(
        self,
        ws: Replica,
        now: float,
        silent_after: float,
        needed: dict[int, int],
        have: dict[int, int],
        reports: dict[int, _Report],
        heard: dict[int, float],
        peers: dict[int, Connected],
        sees_presence: bool,
        lacking: dict[int, str],
    ) -> None:
        self.ws = ws
        self.now = now
        self.silent_after = max(0.0, silent_after)
        self.needed = needed
        self.have = have
        self.reports = reports
        self.heard = heard
        self.peers = peers
        self.sees_presence = sees_presence
        self.lacking = lacking
        self.by_agent = {p.agent: p for p in peers.values()}

    def last_heard(self, client: int) -> float | None:
        report = self.reports.get(client)
        times = [t for t in (report.at if report else None, self.heard.get(client)) if t]
        return max(times) if times else None

    def quiet(self, last: float | None) -> float | None:
        return None if last is None else max(0.0, self.now - last)

    def plain(self, client: int, agent: str, state: str, detail: str) -> Presence:
        last = self.last_heard(client)
        return Presence(client, agent, state, False, last, self.quiet(last), detail)

    def connected(self, peer: Connected, *, edited: bool = True) -> Presence:
        missing = [c for c, k in self.needed.items() if peer.state.get(c, 0) < k]
        state = "behind" if missing else "live"
        detail = (
            f"connected; has not seen the edits of {len(missing)} replica(s)"
            if missing
            else "connected, has seen every edit"
        )
        if not edited:
            detail += " (never edited)"
        return Presence(
            peer.client, peer.agent, state, bool(missing), self.now, 0.0, detail, connected=True
        )

    def other(self, client: int, agent: str, exchanged: int | None) -> Presence:
        report = self.reports.get(client)
        unseen = self.lacking.get(client, "")
        last = self.last_heard(client)
        have = self.have.get(client, 0)
        if report is not None and report.done:
            here = (
                have >= report.made
                and self.needed.get(client, 0) >= report.seen.get(client, 0)
                and not unseen
            )
            if here:
                detail = "closed cleanly; all its edits are here"
                return Presence(client, agent, "finished", False, last, self.quiet(last), detail)
            return self._pending(
                client, agent, "finished", "closed cleanly; not all its edits are here yet", unseen
            )
        if exchanged is not None and have <= exchanged:
            detail = "its edits came through a git state exchange (pull/push)"
            return Presence(
                client, agent, "exchanged", False, last, self.quiet(last), detail, unseen=unseen
            )
        peer = self.by_agent.get(agent)
        if peer is not None and peer.state.get(client, 0) >= have:
            detail = f"its agent is connected again ({peer.client:x}), holding all its edits"
            return Presence(client, agent, "live", False, last, self.quiet(last), detail)
        up_to_date = report is not None and all(
            report.seen.get(c, 0) >= k for c, k in self.needed.items() if c != client
        )
        gone = report is not None and report.networked and self.sees_presence
        if report is None:
            word, detail = "silent", "never reported what it has seen"
        elif gone:
            word, detail = "silent", "a networked replica no longer connected"
        elif up_to_date:
            word, detail = "live", "has seen every edit"
        else:
            word, detail = "behind", "has not seen every edit"
        if not up_to_date:
            if report is not None and gone:
                detail += ", and it had not seen every edit"
            return self._pending(client, agent, word, detail, unseen)
        if unseen:
            return self._pending(client, agent, word, detail, unseen)
        quiet = self.quiet(last)
        if word == "live" and (quiet is None or quiet > self.silent_after):
            word = "silent"
        return Presence(client, agent, word, False, last, quiet, detail)

    def _pending(self, client: int, agent: str, word: str, detail: str, unseen: str) -> Presence:
        """One the gate would wait for: it blocks until `silent_after` since last heard of."""
        last = self.last_heard(client)
        noticed = last is None
        if last is None:
            last = self.ws.first_noticed([client], self.now)[client]
            detail += "; never heard of here, counted from when it was first noticed"
        quiet = self.quiet(last)
        if quiet is not None and quiet <= self.silent_after:
            return Presence(
                client, agent, word, True, last, quiet, detail, unseen=unseen, noticed=noticed
            )
        detail += f"; silent for over {_duration(self.silent_after)}: not waited for"
        return Presence(
            client,
            agent,
            "silent",
            False,
            last,
            quiet,
            detail,
            unseen=unseen,
            gave_up=True,
            noticed=noticed,
        )


# -- reading the document -------------------------------------------------------------------


def _reports(reports_map: Any) -> dict[int, _Report]:
    out: dict[int, _Report] = {}
    for key, value in reports_map.items():
        if not isinstance(value, dict):
            continue
        try:
            client = int(key)
            seen = {int(c): int(k) for c, k in value.get("seen", [])}
        except (TypeError, ValueError):
            continue
        at = value.get("at")
        made = value.get("made")
        out[client] = _Report(
            seen,
            float(at) if _number(at) else None,
            int(made) if _number(made) else 0,
            value.get("done") is True,
            value.get("net") is True,
        )
    return out


def _forgotten(reports_map: Any) -> dict[int, int]:
    """Forget records: client id -> its clock here when it was forgotten."""
    out: dict[int, int] = {}
    for key, value in reports_map.items():
        if not str(key).startswith(FORGET_PREFIX) or not isinstance(value, dict):
            continue
        try:
            client = int(str(key)[len(FORGET_PREFIX) :])
        except ValueError:
            continue
        upto = value.get("upto")
        out[client] = max(out.get(client, 0), int(upto) if _number(upto) else 0)
    return out


def _forks(agents: Any, judge: _Judge) -> list[Presence]:
    out = []
    for key, value in agents.items():
        if not isinstance(value, dict) or "of" not in value:
            continue
        try:
            client, of = int(key), int(value["of"])
        except (TypeError, ValueError):
            continue
        name = str(value.get("name", ""))
        detail = f"applied a write from an older version for {of:x}; its edits are that one's"
        out.append(
            Presence(client, name, "fork", False, judge.last_heard(client), None, detail, of=of)
        )
    return sorted(out, key=lambda p: p.client)


def _lacking(
    needed: dict[int, int],
    have: dict[int, int],
    reports: dict[int, _Report],
    peers: dict[int, Connected],
) -> dict[int, str]:
    """Replicas with edits known elsewhere that are not here: client id -> what is known."""
    out: dict[int, str] = {}
    for client in {c for r in reports.values() for c in r.seen} | set(reports):
        seen_elsewhere = max((r.seen.get(client, 0) for r in reports.values()), default=0)
        own = reports.get(client)
        if seen_elsewhere > needed.get(client, 0):
            out[client] = "made edits others have seen and this workspace lacks"
        elif own is not None and own.made > have.get(client, 0):
            out[client] = "made edits this workspace lacks"
    for peer in peers.values():
        for client, clock in peer.state.items():
            if client not in peers and client not in out and clock > have.get(client, 0):
                out[client] = f"made edits {peer.agent} holds and this workspace lacks"
    return {c: f"{why}: they cannot be in a commit from here" for c, why in out.items()}


def _find(listed: list[Presence], ref: str) -> Presence:
    text = ref.strip()
    for base in (16, 10):
        try:
            number = int(text, base)
        except ValueError:
            continue
        match = [p for p in listed if p.client == number]
        if match:
            return match[0]
    named = [p for p in listed if p.agent == text]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(f"{p.client:x}" for p in named)
        raise DocumentError(
            f"{len(named)} replicas are named {text!r} ({ids}).", hint="give its client id"
        )
    raise DocumentError(
        f"No replica {text!r} is known here.", hint="`crdtspace replicas` lists them"
    )


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def _heard_phrase(quiet: float | None, noticed: bool = False) -> str:
    if quiet is None:
        return "never heard of"
    said = "never heard of, first noticed" if noticed else "last heard"
    return f"{said} {_duration(round(quiet))} ago"
