"""The whole conflict analysis of a document state, incremental across calls.

`Analyzer.analyse()` runs the structural checks (`findings`) on every node edited
since the base commit, the semantic checks (`semantics`) on the files holding them,
and the syntax check on files where concurrent edits met. Results are a pure function of the
document: the same on every replica holding the same updates.

Incremental: a node whose log has no concurrent heads is not looked at again until its log
changes (nodes with concurrent heads are, at every analysis: their findings name places); a
file's semantic and syntax findings are kept until one of its nodes' logs changes (or a name it
uses is removed elsewhere). So after one edit only that node and its file are analysed again.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crdtspace.conflicts.findings import (
    BROKEN,
    CONFLICT,
    NOTICE,
    Analysis,
    Conflict,
    Context,
    Place,
    Side,
    add_add,
    deleted_around,
    make,
    node_findings,
)
from crdtspace.model.document import Document
from crdtspace.model.history import branches, concurrent, creation
from crdtspace.model.languages import profile_for
from crdtspace.model.logentry import LogEntry
from crdtspace.model.replica import Replica

if TYPE_CHECKING:  # (imported where the semantic checks run: the merge driver often skips them)
    from crdtspace.conflicts.documentsymbols import WordIndex

ORDER = {CONFLICT: 0, BROKEN: 1, NOTICE: 2}
Version = tuple[int, int]
"""A node's decoded log's version (`NodeEntries.version`)."""
_ANALYZERS: weakref.WeakKeyDictionary[Replica, Analyzer] = weakref.WeakKeyDictionary()


def analysis_of(replica: Replica) -> Analysis:
    """Conflicts, notices and single-side breakage of a replica's current state: incremental,
    with one `Analyzer` kept per replica (`Workspace.analysis()` is this)."""
    with getattr(replica, "lock", nullcontext()):  # (a networked replica's, taken by others)
        replica.flush()
        analyzer = _ANALYZERS.get(replica)
        if analyzer is None or analyzer.document is not replica.document:
            analyzer = _ANALYZERS[replica] = Analyzer(replica.document)
        return analyzer.analyse()


def has_analyzer(replica: Replica) -> bool:
    """Whether `analysis_of(replica)` ran on this replica (its next call is incremental)."""
    analyzer = _ANALYZERS.get(replica)
    return analyzer is not None and analyzer.document is replica.document


@dataclass
class Analyzer:
    """Analyses one document again and again, re-doing only what changed."""

    document: Document
    _quiet: dict[str, Version] = field(default_factory=dict)
    """Nodes whose log had fewer than two heads at this version: no structural finding, as
    long as the log stays as it was. (A node with concurrent heads is looked at again at
    every analysis: its findings name its place, its name and its containers, which edits of
    other nodes change.)"""
    _semantic: dict[str, tuple[tuple[tuple[str, Version], ...], list[Conflict]]] = field(
        default_factory=dict
    )
    _removed: frozenset[str] = frozenset()
    _memo: dict[tuple[str, Version], bool] = field(default_factory=dict)
    _words: WordIndex | None = None
    _malformed: tuple[object, list[Conflict]] = ((), [])
    semantic: bool = True
    """False: the semantic checks are left out (the merge driver, when its cheap check shows
    they cannot find anything: `crdtspace.git.mergecheck`); the syntax check still runs."""

    def analyse(self) -> Analysis:
        ctx = Context(self.document)
        edited = ctx.edited()
        # (a log's version, not its length: a peer may replace entries, or the whole log)
        versions = {nid: ctx.history.entries(nid).version for nid in edited}
        found: list[Conflict] = []
        for nid in edited:
            if self._quiet.get(nid) == versions[nid]:
                continue
            found.extend(node_findings(ctx, nid))
            if len(ctx.history.node_log(nid).heads) < 2:
                self._quiet[nid] = versions[nid]
            else:
                self._quiet.pop(nid, None)
        created = [n for n in edited if creation(ctx.history, n) is not None]
        found.extend(add_add(ctx, created))
        found.extend(deleted_around(ctx, edited))
        found.extend(self._semantics(ctx, edited, versions))
        found.extend(resolution_races(self.document))
        found.extend(self._broken_shapes(ctx, edited))
        return collect(found)

    def _broken_shapes(self, ctx: Context, edited: list[str]) -> list[Conflict]:
        """`malformed` findings in the files holding edited nodes (the files a commit renders
        from the document; every file when an edited node is broken or its parent chain leads
        nowhere: only a peer's update that broke the schema does that), kept until the document
        changes."""
        document = self.document
        homes = {ctx.home(n) for n in edited}
        if None in homes or len(edited) < len(document.edited):  # (edited: the sound ones)
            homes = set(document.files.keys())
        paths = sorted(p for p in homes if p is not None and p in document.files)
        key = (bytes(self.document.doc.get_state()), tuple(paths))
        if self._malformed[0] != key:
            self._malformed = (key, malformed(self.document, paths))
        return self._malformed[1]

    def _semantics(
        self, ctx: Context, edited: list[str], versions: dict[str, Version]
    ) -> list[Conflict]:
        by_file: dict[str, list[str]] = {}
        for nid in edited:
            path = ctx.home(nid)
            if path:
                by_file.setdefault(path, []).append(nid)
        if not self.semantic:
            return syntax(ctx, by_file)
        from crdtspace.conflicts.documentsymbols import WordIndex
        from crdtspace.conflicts.semantics import Semantics

        if self._words is None:
            self._words = WordIndex()
        semantics = Semantics(ctx, edited, self._memo, self._words)
        removed = frozenset(semantics.removals)
        if removed != self._removed:
            # A name was removed or came back: any file may hold a use of it.
            self._semantic.clear()
            self._removed = removed
            return [*semantics.findings(), *syntax(ctx, by_file)]
        out: list[Conflict] = []
        stale = [p for p in sorted(by_file) if self._key(p, by_file, versions) != self._held(p)]
        if stale:
            fresh = semantics.findings()
            for path in stale:
                mine = [c for c in fresh if any(pl.path == path for pl in c.places)]
                mine.extend(syntax(ctx, {path: by_file[path]}))
                self._semantic[path] = (self._key(path, by_file, versions), mine)
        for path in sorted(by_file):
            held = self._semantic.get(path)
            if held is not None:
                out.extend(held[1])
        return out

    def _key(
        self, path: str, by_file: dict[str, list[str]], versions: dict[str, Version]
    ) -> tuple[tuple[str, Version], ...]:
        return tuple((n, versions[n]) for n in sorted(by_file[path]))

    def _held(self, path: str) -> tuple[tuple[str, Version], ...] | None:
        held = self._semantic.get(path)
        return held[0] if held else None


def collect(found: Iterable[Conflict]) -> Analysis:
    """Deduplicated by id and sorted: the same order on every replica."""
    unique = {c.id: c for c in found}
    ordered = sorted(
        unique.values(),
        key=lambda c: (ORDER[c.category], c.places[0].path if c.places else "", c.kind, c.id),
    )
    return Analysis(
        conflicts=tuple(c for c in ordered if c.category == CONFLICT),
        notices=tuple(c for c in ordered if c.category == NOTICE),
        broken=tuple(c for c in ordered if c.category == BROKEN),
    )


def analyse(document: Document) -> Analysis:
    """One full analysis (no cache)."""
    return Analyzer(document).analyse()


# -- syntax: a merged file that no longer parses though each side did ----------------------


def syntax(ctx: Context, by_file: dict[str, list[str]]) -> list[Conflict]:
    out = []
    for path, nodes in sorted(by_file.items()):
        profile = profile_for(path)
        if profile is None or path not in ctx.document.files:
            continue
        merged = [n for n in nodes if len(ctx.history.node_log(n).heads) > 1]
        if not merged:
            continue
        layout = ctx.layout(path)
        if profile.parses(layout.text):
            continue
        for nid in merged:
            if nid not in layout.spans:
                continue
            _, sides = branches(ctx.history.node_log(nid), ctx.history)
            if all(profile.parses(layout.replaced(nid, s.after)) for s in sides):
                out.append(
                    make(
                        "syntax",
                        CONFLICT,
                        [ctx.place(nid)],
                        [Side(s.agent, nid, s.head.id, "text") for s in sides],
                        f"{path} does not parse after merging the edits of "
                        f"{' and '.join(sorted({s.agent for s in sides}))} to "
                        f"{ctx.place(nid).name or 'it'}, though each parses alone.",
                    )
                )
    return out


# -- shapes a peer broke -------------------------------------------------------------------


def malformed(document: Document, paths: Iterable[str]) -> list[Conflict]:
    """What readers of these files skip because a peer's update broke the document's schema
    (`Document.malformed`): each a ``malformed`` finding (broken: the gate refuses it)."""
    paths = sorted(set(paths))
    out = []
    for where, why in document.malformed(paths):
        path = where if where in paths else document.path_of(where) or ""
        key = "" if where == path else where
        label = f"{path}: node {key}" if key else path
        out.append(
            make(
                "malformed",
                BROKEN,
                [Place(path, key, "", 0, 0)],
                [],
                f"{label} does not have the document's shape ({why}): what it holds reads "
                "as nothing. Write the file again (or remove it) to replace it.",
                resolutions=("edit",),
                key=[path, why],
            )
        )
    return out


# -- resolutions racing each other ---------------------------------------------------------


def resolution_races(document: Document) -> list[Conflict]:
    """Two replicas resolved one conflict differently without seeing each other's choice."""
    out = []
    by_conflict: dict[str, list[LogEntry]] = {}
    for key in sorted(document.resolutions.keys()):
        cid = key.partition("/")[0]
        try:
            entry = LogEntry.from_value(document.resolutions[key])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # not the shape of a resolution (a damaged or hostile update)
        by_conflict.setdefault(cid, []).append(entry)
    for cid, entries in sorted(by_conflict.items()):
        for a in entries:
            for b in entries:
                if a.id < b.id and a.description != b.description and concurrent(a, b):
                    # named by agent and choice, never by (random) entry-id order
                    first, second = sorted((a, b), key=lambda e: (e.agent, e.description, e.id))
                    out.append(
                        make(
                            "resolve-resolve",
                            CONFLICT,
                            [],
                            [Side(a.agent, "", a.id, "text"), Side(b.agent, "", b.id, "text")],
                            f"{first.agent} ({first.description}) and {second.agent} "
                            f"({second.description}) resolved conflict {cid} differently "
                            "at the same time.",
                            resolutions=("edit",),
                            key=[cid],
                        )
                    )
    return out
