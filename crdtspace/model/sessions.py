"""What a replica tells the gate: what it has seen and when, that it finished, who edited."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from crdtspace.errors import CrdtspaceError
from crdtspace.model.core import SESSIONS_FILE
from crdtspace.model.logentry import decode_state
from crdtspace.model.recorded import Recorded

PRESENCE_FILE = "presence.json"
"""In a durable workspace's folder: what this workspace alone knows of other replicas (when it
first noticed one it never heard from, whose edits came through a git state exchange)."""


class Sessions(Recorded):
    """Part of `Replica` (see `ReplicaCore`)."""

    networked: ClassVar[bool] = False
    """Whether this kind of replica shows its presence in awareness while it is connected (a
    `crdtspace.live.netreplica.NetworkReplica`): its reports say so, and the gate takes one
    that is not connected any more as silent."""

    _finished: bool = False
    _heard_at: dict[int, float] | None = None
    _state_read: tuple[bytes, dict[int, int]] | None = None
    _state_before: tuple[bytes, float] | None = None
    """The state vector before the merge whose follow-up is due, and when it was merged."""
    _presence_memory: dict[str, dict[str, float]] | None = None

    # -- reports -----------------------------------------------------------------------------

    def report(self, *, done: bool = False, refresh: float | None = None) -> bool:
        """Tell the other replicas which edits this one has seen (for the commit gate's
        convergence check), and when (`at`, wall-clock seconds). Written only when it changed,
        so replicas reporting to each other settle; with `refresh`, also when the last one is
        older than that many seconds (a live replica saying it is still there). `done`: this
        replica is finished (it is closing): the gate will never wait for it to catch up, only
        for its edits (`made`: its own clock when it reported) to be here. Returns whether a
        report was written."""
        key = str(self.client_id)
        if key not in self.document.agents:
            return False  # a replica that never edited holds nothing the gate could miss
        seen = sorted(self.document.needed_state().items())
        old = self.document.reports_map.get(key)
        now = time.time()
        if old is not None and _same_report(old, seen, done, self.networked):
            at = old.get("at") if isinstance(old, dict) else None
            if refresh is None or (isinstance(at, int | float) and now - at < refresh):
                return False
        made = dict(decode_state(self.state())).get(self.client_id, 0)
        value: dict[str, Any] = {
            "agent": self.agent,
            "seen": [list(p) for p in seen],
            "at": now,
            "made": made,
        }
        if done:
            value["done"] = True
        if self.networked:
            value["net"] = True
        with self.transaction("report"):
            self.document.reports_map[key] = value
        return True

    def finish(self) -> bool:
        """Record in the document that this replica is finished (`report(done=True)`), once:
        `close()` does it. A write's fork, a replica that never edited, and a session of a
        durable workspace (its edits are in the workspace's log, and the gate knows it by the
        `sessions` file; elsewhere, by the git exchange that carried them) record nothing.
        Returns whether the record was written (then it goes to the replica's listeners and
        log like any update)."""
        durable_session = self._log is not None and self.root is not None and not self.networked
        if self._finished or self._fork_of is not None or durable_session:
            return False
        self._finished = True
        try:
            self.flush()
            return self.report(done=True)
        except CrdtspaceError:  # (a log that cannot be written: closing goes on)
            return False

    def close(self) -> None:
        """Say this replica is finished (`finish`), then close it."""
        if not self._kept_open:
            self.finish()
        super().close()

    # -- when replicas were heard of --------------------------------------------------------

    def _merge_update(self, update: bytes) -> None:
        """Merge a remote update (see `ReplicaCore.apply_update`); its follow-up notes when
        replicas whose edits it brings were heard of (`heard`): those whose clocks in this
        replica's state vector it moved (held-back updates it let in included; this replica's
        own edits, its folds, not)."""
        self._follow_merge()  # (the last merge's, with the state it left)
        first = self._heard_at is None
        if first:
            self._heard_at = {}
        # (a first sync brings every replica at once: that says nothing of when)
        self._state_before = None if first else (bytes(self.doc.get_state()), time.time())
        super()._merge_update(update)

    def _follow_merge(self) -> None:
        if not self._merge_due:
            return
        noted, self._state_before = self._state_before, None
        super()._follow_merge()
        if noted is None or self._heard_at is None:
            return
        before, now = noted
        after = bytes(self.doc.get_state())
        if after == before:
            return
        old = self._clocks(before)
        own = self.client_id
        for client, clock in self._clocks(after).items():
            if clock > old.get(client, 0) and client != own:
                self._heard_at[client] = now

    def _clocks(self, state: bytes) -> dict[int, int]:
        """A state vector's clocks by client (the last one read is kept: a merge's state
        before is most often the one the previous merge left)."""
        held = self._state_read
        if held is not None and held[0] == state:
            return held[1]
        clocks = dict(decode_state(state))
        self._state_read = (state, clocks)
        return clocks

    def heard(self) -> dict[int, float]:
        """When updates bringing new edits of each replica last arrived here, in this process
        (client id -> wall-clock seconds); the first remote update is not counted."""
        return dict(self._heard_at or {})

    def first_noticed(self, clients: Iterable[int], now: float | None = None) -> dict[int, float]:
        """When this workspace first noticed each of `clients` (asked about it here), kept in
        the durable workspace's folder (`PRESENCE_FILE`): for a replica never heard from
        otherwise, the time its silence is counted from. Unknown ones are noted as `now`."""
        wanted = list(clients)
        memory = self._presence()
        noticed = memory.setdefault("noticed", {})
        stamp = time.time() if now is None else now
        added = False
        for client in wanted:
            if f"{client:x}" not in noticed:
                noticed[f"{client:x}"] = stamp
                added = True
        if added:
            self._keep_presence(memory)
        return {c: noticed[f"{c:x}"] for c in wanted}

    def exchanged(self) -> dict[int, int]:
        """Replicas whose edits came here through a git state exchange (`gitstate` pull, or a
        push that merged the remote's state first): client id -> its clock in what was merged."""
        out: dict[int, int] = {}
        for key, clock in self._presence().get("exchanged", {}).items():
            with contextlib.suppress(ValueError):
                out[int(key, 16)] = int(clock)
        return out

    def note_exchanged(self, clocks: Mapping[int, int]) -> None:
        """Remember that the edits of these replicas, up to these clocks, came through a git
        state exchange (see `exchanged`)."""
        if not clocks:
            return
        memory = self._presence()
        known = memory.setdefault("exchanged", {})
        for client, clock in clocks.items():
            key = f"{client:x}"
            known[key] = max(float(clock), float(known.get(key, 0)))
        self._keep_presence(memory)

    def _presence(self) -> dict[str, dict[str, float]]:
        if self._presence_memory is not None:
            return self._presence_memory
        memory: dict[str, dict[str, float]] = {}
        if self._log is not None:
            try:
                raw = json.loads((self._log.path.parent / PRESENCE_FILE).read_text("utf-8"))
            except (OSError, ValueError):
                raw = {}
            if isinstance(raw, dict):
                for part in ("noticed", "exchanged"):
                    value = raw.get(part)
                    if isinstance(value, dict):
                        memory[part] = {
                            str(k): float(v)
                            for k, v in value.items()
                            if isinstance(v, int | float) and not isinstance(v, bool)
                        }
        self._presence_memory = memory
        return memory

    def _keep_presence(self, memory: dict[str, dict[str, float]]) -> None:
        self._presence_memory = memory
        if self._log is None:
            return
        path = self._log.path.parent / PRESENCE_FILE
        scratch = path.with_name(f".{PRESENCE_FILE}.{os.getpid()}")
        with contextlib.suppress(OSError):  # (a note for the gate, never worth failing over)
            scratch.write_text(json.dumps(memory, sort_keys=True), encoding="utf-8")
            os.replace(scratch, path)

    # -- sessions and contributors ------------------------------------------------------------

    def local_sessions(self) -> set[int]:
        """Client ids of earlier sessions of this durable workspace on this machine (each
        `open` is a new client): their edits are all in the local log, so the gate never waits
        for them to catch up."""
        if self._log is None:
            return set()
        path = self._log.path.parent / SESSIONS_FILE
        try:
            lines = path.read_text(encoding="ascii").split()
        except OSError:
            return set()
        return {int(x, 16) for x in lines if all(c in "0123456789abcdef" for c in x)}

    def contributors(self) -> list[str]:
        """Agents with edits since the last commit through the gate (or since the import)."""
        return sorted({agent for _, agent in self.edits_since_commit()})

    def committed(self, commit: str, *, state: bytes | None = None) -> None:
        """Record that the current state is now commit `commit` of the branch (the new base);
        `state`: the snapshot of what was committed (`crdtspace.model.versions.snapshot`, taken when
        the files were rendered; default now), the base of writes with no known base."""
        needed = self.document.needed_state()
        if state is None:
            self.flush()
            state = self._snapshot()
        with self.transaction("commit"):
            self.document.meta["base_version"] = state
            self.document.meta["base"] = commit
            self.document.meta["committed"] = [[c, k] for c, k in sorted(needed.items())]


def _same_report(old: Any, seen: list[tuple[int, int]], done: bool, networked: bool) -> bool:
    """Whether the report `old` says what a new one would (the time aside)."""
    if not isinstance(old, dict):
        return False
    try:
        pairs = [(int(c), int(k)) for c, k in old.get("seen", [])]
    except (TypeError, ValueError):
        return False
    return pairs == seen and bool(old.get("done")) == done and bool(old.get("net")) == networked
