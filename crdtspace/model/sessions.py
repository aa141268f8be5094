"""What a replica tells the gate: what it has seen, its earlier sessions, who edited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crdtspace.model.core import SESSIONS_FILE
from crdtspace.model.recorded import Recorded
from crdtspace.model.versions import snapshot

if TYPE_CHECKING:
    pass


class Sessions(Recorded):
    """Part of `Replica` (see `ReplicaCore`)."""

    def report(self) -> bool:
        """Tell the other replicas which edits this one has seen (for the commit gate's
        convergence check). Written only when it changed, so replicas reporting to each other
        settle. Returns whether a report was written."""
        key = str(self.client_id)
        if key not in self.document.agents:
            return False  # a replica that never edited holds nothing the gate could miss
        seen = sorted(self.document.needed_state().items())
        old = self.document.reports_map.get(key)
        if old is not None and [tuple(p) for p in old.get("seen", [])] == seen:
            return False
        value = {"agent": self.agent, "seen": [list(p) for p in seen]}
        with self.transaction("report"):
            self.document.reports_map[key] = value
        return True

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
        done: dict[int, int] = {}
        for pair in self.document.meta.get("committed", []) or []:
            try:  # (a peer's malformed value counts as nothing committed)
                client, clock = pair
                done[int(client)] = int(clock)
            except (TypeError, ValueError):
                continue
        names: set[str] = set()
        for nid in self.document.edited_nodes():
            if not self.document.has_node(nid):
                continue
            for entry in self.document.log(nid):
                if entry.clock(entry.client) >= done.get(entry.client, 0):
                    names.add(entry.agent)
        return sorted(names)

    def committed(self, commit: str, *, state: bytes | None = None) -> None:
        """Record that the current state is now commit `commit` of the branch (the new base);
        `state`: the snapshot of what was committed (`crdtspace.model.versions.snapshot`, taken when
        the files were rendered; default now), the base of writes with no known base."""
        needed = self.document.needed_state()
        if state is None:
            self.flush()
            state = snapshot(self.doc)
        with self.transaction("commit"):
            self.document.meta["base_version"] = state
            self.document.meta["base"] = commit
            self.document.meta["committed"] = [[c, k] for c, k in sorted(needed.items())]
