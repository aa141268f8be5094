"""Replicas meeting in memory: links that carry updates between workspaces in one process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crdtspace.model.replica import Replica


def sync(a: Replica, b: Replica) -> None:
    """Exchange by state vector until both replicas hold everything the other has, and each
    has reported what it has seen (for the commit gate)."""
    b.apply_update(a.update_since(b.state()))
    a.apply_update(b.update_since(a.state()))
    if a.report() | b.report():
        b.apply_update(a.update_since(b.state()))
        a.apply_update(b.update_since(a.state()))


@dataclass
class Link:
    """A live two-way in-memory connection: each local update is delivered to the other side
    at once (or queued while the link is paused)."""

    a: Replica
    b: Replica
    paused: bool = False
    queue: list[tuple[Replica, bytes]] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stops.append(self.a.subscribe(lambda u: self._carry(self.b, u)))
        self._stops.append(self.b.subscribe(lambda u: self._carry(self.a, u)))

    def _carry(self, target: Replica, update: bytes) -> None:
        if self.paused:
            self.queue.append((target, update))
        else:
            target.apply_update(update)

    def pause(self) -> None:
        """Partition the replicas: updates wait in the queue."""
        self.paused = True

    def resume(self) -> None:
        """Heal the partition: queued updates are delivered, then both sides catch up."""
        self.paused = False
        queued, self.queue = self.queue, []
        for target, update in queued:
            target.apply_update(update)
        sync(self.a, self.b)

    def close(self) -> None:
        for stop in self._stops:
            stop()
        self._stops.clear()


def connect(a: Replica, b: Replica) -> Link:
    """Bring two replicas up to date and keep them so."""
    sync(a, b)
    return Link(a, b)
