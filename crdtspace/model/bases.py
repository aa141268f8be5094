"""Writes from a version: every write is applied from the version its writer read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from crdtspace.errors import DocumentError
from crdtspace.model.reads import Reads
from crdtspace.model.versions import VersionError, fork, snapshot

if TYPE_CHECKING:
    from crdtspace.model.replica import Replica

_T = TypeVar("_T")


class Bases(Reads):
    """Part of `Replica` (see `ReplicaCore`)."""

    def commit_version(self) -> str:
        """The version of the last commit this workspace imported or made."""
        snap = self.document.meta.get("base_version")
        if snap is None:
            raise VersionError(
                "This workspace records no version of its base commit (it predates versions).",
                hint="give the write the version it was made from (show --json prints it)",
            )
        return self.versions.add(bytes(snap))

    def base_of(self, path: str, base: str | None = None, agent: str | None = None) -> str:
        """The version a write of `path` by `agent` is made from: `base` if given, else the
        agent's last read of the file (or its last write), else the current state (an
        in-memory replica: its agent has seen what it holds) or the last commit (a durable,
        shared workspace: git's view), as `unread_base` says. When the agent's last read of the
        file expired (`VersionStore.expire`), a `VersionError`: any other base could revert
        what others wrote since that read."""
        if base is not None:
            self.versions.get(base)  # an unknown version is an error, never a guess
            return base.strip()
        self.versions.refuse_expired(agent or self.agent, path)
        tracked = self.versions.last_read(agent or self.agent, path)
        if tracked is not None and tracked in self.versions:
            return tracked
        if self.unread_base == "commit":
            return self.commit_version()
        return self.version()

    def _from_base(
        self,
        path: str,
        base: str | None,
        agent: str | None,
        edit: Callable[[Replica], _T],
    ) -> _T:
        """Run `edit` as `agent`'s edit made from the version `base_of` gives: here when that
        is the current state, else on a fork restored to it, merged back as a concurrent edit
        (see `crdtspace.model.versions`). Afterwards the agent's last read of `path` is what it
        wrote (its base plus its change, without what it had not seen)."""
        who = agent or self.agent
        self._settle_reads()
        if self._depth:
            if base is not None and base != self._version:
                raise DocumentError(
                    "A write from an older version cannot be part of a transaction.",
                    hint="write it outside the transaction",
                )
            with self.acting_as(who):
                return edit(cast("Replica", self))
        if (
            base is None
            and self.unread_base == "current"
            and self.versions.last_read(who, path) is None
            and self.versions.expired_read(who, path) is None
        ):  # nothing to be based on but the current state: no version needed
            with self.acting_as(who):
                return edit(cast("Replica", self))
        vid = self.base_of(path, base, who)
        if vid == self.version():
            with self.acting_as(who):
                result = edit(cast("Replica", self))
            self.versions.note_read(who, path, self.version())
            return result
        forked = self.fork_at(vid, agent=who)
        try:
            result = edit(forked)
        except BaseException:
            forked.close()
            raise
        written = self.merge_fork(forked)
        self.versions.note_read(who, path, written)
        return result

    def fork_at(self, version: str, *, agent: str | None = None) -> Replica:
        """An in-memory workspace restored to `version`, edited by `agent`: what is done there
        is merged back by `merge_fork` as edits made from that version (a writer's stale read,
        a run of commits made in git from the base commit)."""
        from crdtspace.model.replica import Replica  # (the whole replica: this is a part)

        forked = Replica(
            fork(self.doc, self.versions.get(version)),
            agent=agent or self.agent,
            root=self.root,
            fork_of=self.client_id,
        )
        forked._fork_start = forked.doc.get_state()
        return forked

    def merge_fork(self, forked: Replica) -> str:
        """Merge what was done on a fork (see `fork_at`) and close it; returns the version of
        the fork's final state (its base plus its edits, none of what happened since)."""
        try:
            update = forked.update_since(forked._fork_start)
            written = self.versions.add(snapshot(forked.doc))
        finally:
            forked.close()
        self.adopt(update)
        return written
