"""Conflicts: where a merge is not what the agents meant, computed as values from the doc.

A CRDT always merges. This module says where the merge is suspect, as a pure function of the
document (its node logs and texts): every replica that holds the same updates reports the same
conflicts, in the same order, with the same ids. Concurrency is happened-before from the logs
(`LogEntry.saw`), never wall-clock time.

Three categories:

- ``conflict``: concurrent intents that do not fit together. Structural (``overlap``,
  ``delete-edit``, ``add-add``, ``move-move``, ``syntax``) from one node's log; semantic
  (``dangling-reference``, ``signature-mismatch``, ``duplicate-definition``,
  ``import-removed``) from the symbols of the merged files (`crdtspace.conflicts.semantics`).
- ``notice``: concurrent edits merged cleanly that a person may want to look at (``merged``:
  non-overlapping edits of one node, as git would merge them; ``identical``: both sides made
  the same change).
- ``broken``: one side broke code on its own (deleted a function its untouched callers use);
  not a merge conflict, but the commit gate refuses it too.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from crdtspace.model.document import Document
from crdtspace.model.history import (
    Branch,
    History,
    Texts,
    branches,
    changed,
    concurrent,
    creation,
    overlapping,
    same_texts,
)
from crdtspace.model.languages import profile_for, settings
from crdtspace.model.layout import FileLayout
from crdtspace.model.logentry import LogEntry

CONFLICT = "conflict"
NOTICE = "notice"
BROKEN = "broken"
CERTAIN = "certain"
POSSIBLE = "possible"


@dataclass(frozen=True)
class Place:
    """A node a conflict is about: its file, key, qualified name and lines (0 when detached)."""

    path: str
    key: str
    name: str
    start_line: int
    end_line: int

    def __str__(self) -> str:
        where = f"{self.path}:{self.start_line}" if self.start_line else self.path
        return f"{where} {self.name}" if self.name else where


@dataclass(frozen=True)
class Side:
    """One side of a conflict: an agent, the node it acted on and its newest entry there.

    `action` says what taking this side does: ``text`` (the node gets the texts it had after
    `entry`), ``delete`` (the node is deleted), ``keep`` (a deleted node comes back with this
    side's texts), ``place`` (the node goes to the container `detail`), ``drop`` (another node,
    `detail`, is deleted), ``revert`` (the other sides' changes to this node are undone)."""

    agent: str
    node: str
    entry: str
    action: str
    detail: str = ""


@dataclass(frozen=True)
class Conflict:
    """One finding: a conflict, a notice or a single-side breakage."""

    id: str
    kind: str
    category: str
    severity: str
    places: tuple[Place, ...]
    agents: tuple[str, ...]
    message: str
    resolutions: tuple[str, ...]
    sides: tuple[Side, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """Everything the conflict layer says about one state of the document."""

    conflicts: tuple[Conflict, ...] = ()
    notices: tuple[Conflict, ...] = ()
    broken: tuple[Conflict, ...] = ()

    def __iter__(self) -> Iterator[Conflict]:
        yield from self.conflicts
        yield from self.notices
        yield from self.broken

    def find(self, conflict_id: str) -> Conflict | None:
        """A finding by id, or by an unambiguous prefix of it."""
        matches = [c for c in self if c.id == conflict_id]
        if not matches:
            matches = [c for c in self if c.id.startswith(conflict_id)]
        return matches[0] if len(matches) == 1 else None


def conflict_id(kind: str, parts: Iterable[str]) -> str:
    """A stable id: the same on every replica for the same conflict."""
    digest = hashlib.blake2b("\0".join([kind, *sorted(parts)]).encode(), digest_size=5)
    return digest.hexdigest()


def named_first(a: LogEntry, b: LogEntry) -> bool:
    """Whether a message names `a`'s side before `b`'s: by agent name, then entry id.

    Entry ids embed the writer's client id (random for most replicas), so their order must not
    decide a message's wording: "alice and bob" on every replica and in every run, never
    "bob and alice" on some. (The id only breaks ties between one agent's own entries, whose
    wording is the same either way.)"""
    return (a.agent, a.id) <= (b.agent, b.id)


def make(
    kind: str,
    category: str,
    places: Iterable[Place],
    sides: Iterable[Side],
    message: str,
    *,
    severity: str = CERTAIN,
    resolutions: Iterable[str] | None = None,
    key: Iterable[str] = (),
) -> Conflict:
    """A finding with its id, sorted places and agents, and default resolutions."""
    sides = tuple(sorted(set(sides), key=lambda s: (s.agent, s.node, s.entry)))
    places = tuple(sorted(set(places), key=lambda p: (p.path, p.start_line, p.key)))
    agents = tuple(sorted({s.agent for s in sides}))
    if resolutions is None:
        resolutions = (*(f"take {a}" for a in agents), "edit")
    ident = conflict_id(kind, [*(p.key for p in places), *(s.entry for s in sides), *key])
    return Conflict(
        ident, kind, category, severity, places, agents, message, tuple(resolutions), sides
    )


@functools.cache
def profile_value(language: str, key: str) -> object:
    """A setting of a language's profile.toml read by the conflict layer (None if absent):
    ``package_scope`` (true: files of one directory share one scope: Go, Java), ``overloads``
    ("signatures": several bodies with different parameters, Java; "declarations": bodiless
    overload signatures before one body, TypeScript)."""
    found = settings().get(language)
    return found[1].get(key) if found is not None else None


def profile_flag(language: str, key: str) -> bool:
    return bool(profile_value(language, key))


def overloads_allowed(language: str, texts: list[str], signatures: list[object]) -> bool:
    """Whether same-name functions with these texts and signatures may coexist as overloads."""
    style = profile_value(language, "overloads")
    if style == "signatures":
        return len(set(signatures)) == len(signatures)
    if style == "declarations":
        return sum(1 for t in texts if "{" in t) <= 1
    return False


# -- the analysis context -------------------------------------------------------------------


@dataclass
class Context:
    """What one analysis reads, memoised: logs, texts after entries, file layouts."""

    document: Document
    history: History = field(init=False)
    _layouts: dict[str, FileLayout] = field(default_factory=dict)
    _homes: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.history = History(self.document)

    def layout(self, path: str) -> FileLayout:
        layout = self._layouts.get(path)
        if layout is None:
            layout = self._layouts[path] = FileLayout.build(self.document, path)
        return layout

    def home(self, nid: str) -> str | None:
        """The file a node belongs to, even when it was deleted (by its parent chain)."""
        if nid in self._homes:
            return self._homes[nid]
        current, seen, path = nid, set(), None
        while current and current not in seen and self.document.has_node(current):
            seen.add(current)
            node = self.document.node(current)
            parent = str(node.get("parent", ""))
            if not parent:
                found = node.get("path")
                path = str(found) if found else None
                break
            current = parent
        self._homes[nid] = path
        return path

    def place(self, nid: str) -> Place:
        path = self.home(nid) or ""
        if path and path in self.document.files:
            layout = self.layout(path)
            span = layout.spans.get(nid)
            if span is not None:
                first, last = layout.lines(nid)
                return Place(path, nid, span.qualname or span.name, first, last)
        return Place(path, nid, self.qualname(nid), 0, 0)

    def qualname(self, nid: str) -> str:
        """A node's qualified name from its parent chain (works for deleted nodes too)."""
        names: list[str] = []
        current, seen = nid, set()
        while current and current not in seen and self.document.has_node(current):
            seen.add(current)
            node = self.document.node(current)
            parent = str(node.get("parent", ""))
            if not parent:
                break
            if node.get("name"):
                names.append(str(node["name"]))
            current = parent
        return ".".join(reversed(names))

    def ancestors(self, nid: str) -> list[str]:
        """The containers a node sits in by its parent chain, innermost first."""
        out: list[str] = []
        current = self.document.parent(nid) if self.document.has_node(nid) else ""
        while current and current not in out and self.document.has_node(current):
            out.append(current)
            current = self.document.parent(current)
        return out

    def edited(self) -> list[str]:
        """Every node with a log entry, sorted (only these can be in a conflict)."""
        return sorted(nid for nid in self.document.edited_nodes() if self.document.has_node(nid))


# -- structural conflicts of one node -------------------------------------------------------


def node_findings(ctx: Context, nid: str) -> list[Conflict]:
    """Structural conflicts and notices of one node, from its log's concurrent heads."""
    log = ctx.history.node_log(nid)
    if len(log.heads) < 2:
        return []
    fork, sides = branches(log, ctx.history)
    out: list[Conflict] = []
    for a, b in itertools.combinations(sides, 2):
        found = _pair(ctx, nid, fork, a, b)
        if found is not None:
            out.append(found)
    return _one_overlap(ctx, nid, out)


def _one_overlap(ctx: Context, nid: str, found: list[Conflict]) -> list[Conflict]:
    """`found` with the overlaps of one node made one (three agents who changed one line are
    one conflict of three sides, as its block of markers is one, not three pairs)."""
    overlaps = [c for c in found if c.kind == "overlap"]
    if len(overlaps) < 2:
        return found
    sides = {s for c in overlaps for s in c.sides}
    place = ctx.place(nid)
    agents = sorted({s.agent for s in sides})
    names = ", ".join(agents[:-1]) + f" and {agents[-1]}" if len(agents) > 1 else agents[0]
    one = make(
        "overlap",
        CONFLICT,
        [place],
        sides,
        f"{names} changed the same lines of {place.name or place.path}.",
    )
    return [c for c in found if c.kind != "overlap"] + [one]


def _pair(ctx: Context, nid: str, fork: Texts, a: Branch, b: Branch) -> Conflict | None:
    if not named_first(a.head, b.head):
        a, b = b, a  # messages name the sides by agent, never by (random) entry-id order
    place = ctx.place(nid)
    label = place.name or place.path
    if a.deleted != b.deleted:
        gone, kept = (a, b) if a.deleted else (b, a)
        if not changed(fork, kept.after) and kept.moved_to is None:
            return None
        return make(
            "delete-edit",
            CONFLICT,
            [place],
            [
                Side(gone.agent, nid, gone.head.id, "delete"),
                Side(kept.agent, nid, kept.head.id, "keep"),
            ],
            f"{gone.agent} deleted {label} while {kept.agent} "
            + ("edited it." if changed(fork, kept.after) else "moved it."),
        )
    if a.deleted and b.deleted:
        return None
    if a.moved_to is not None and b.moved_to is not None and _moved_apart(ctx, nid, a, b):
        return make(
            "move-move",
            CONFLICT,
            [place],
            [
                Side(a.agent, nid, a.head.id, "place", a.moved_to),
                Side(b.agent, nid, b.head.id, "place", b.moved_to),
            ],
            f"{a.agent} and {b.agent} moved {label} to different places; it renders where "
            f"{_where(ctx, ctx.document.parent(nid))} and the other side put it in "
            f"{_where(ctx, _other(ctx, nid, a, b))}.",
        )
    return _text_finding(ctx, nid, place, fork, a, b)


def _moved_apart(ctx: Context, nid: str, a: Branch, b: Branch) -> bool:
    if a.moved_to != b.moved_to:
        return True
    parent = a.moved_to or ""
    if not ctx.document.has_node(parent) or not ctx.document.is_container(parent):
        return False
    body = list(ctx.document.node(parent)["body"])
    return body.count(nid) > 1


def _other(ctx: Context, nid: str, a: Branch, b: Branch) -> str:
    current = ctx.document.parent(nid)
    return (b.moved_to if a.moved_to == current else a.moved_to) or ""


def _where(ctx: Context, container: str) -> str:
    if not container or not ctx.document.has_node(container):
        return "(nowhere)"
    place = ctx.place(container)
    return place.name or place.path


def _text_finding(
    ctx: Context, nid: str, place: Place, fork: Texts, a: Branch, b: Branch
) -> Conflict | None:
    if not changed(fork, a.after) or not changed(fork, b.after):
        return None
    label = place.name or place.path
    sides = [Side(a.agent, nid, a.head.id, "text"), Side(b.agent, nid, b.head.id, "text")]
    if same_texts(a.after, b.after):
        return make(
            "identical",
            NOTICE,
            [place],
            sides,
            f"{a.agent} and {b.agent} made the same change to {label}.",
            resolutions=(),
        )
    if overlapping(fork, a.after, b.after):
        return make(
            "overlap",
            CONFLICT,
            [place],
            sides,
            f"{a.agent} and {b.agent} changed the same lines of {label}.",
        )
    return make(
        "merged",
        NOTICE,
        [place],
        sides,
        f"{a.agent} and {b.agent} changed different lines of {label}; both are kept.",
        resolutions=(),
    )


# -- add-add: two nodes created concurrently with one name in one container -----------------


def add_add(ctx: Context, created: Iterable[str]) -> list[Conflict]:
    """Same-kind, same-name units both sides added to one container; same new file paths."""
    out: list[Conflict] = []
    containers = sorted({ctx.document.parent(n) for n in created if ctx.document.parent(n)})
    for container in containers:
        if not ctx.document.has_node(container):
            continue
        groups: dict[tuple[str, str], list[str]] = {}
        for child in ctx.document.children(container):
            node = ctx.document.node(child)
            if node["name"]:
                groups.setdefault((str(node["kind"]), str(node["name"])), []).append(child)
        for (_kind, name), nodes in sorted(groups.items()):
            out.extend(_added_twice(ctx, nodes, name))
    new_roots = [n for n in created if not ctx.document.parent(n)]
    for path in sorted({p for p in (ctx.home(n) for n in new_roots) if p}):
        roots = ctx.document.roots(path) if path in ctx.document.files else []
        if len(roots) > 1:
            out.extend(_added_twice(ctx, roots, path))
    return out


def _overloads(ctx: Context, x: str, y: str) -> bool:
    """Two same-name functions with different parameters, where the language allows that."""
    from crdtspace.conflicts import symbols

    path = ctx.home(x) or ""
    profile = profile_for(path)
    if profile is None or not profile_value(profile.name, "overloads"):
        return False
    texts = [ctx.document.render_node(nid) for nid in (x, y)]
    found: list[object] = []
    for text in texts:
        try:
            fragment = symbols.fragment_symbols(profile.name, text, references=False)
        except ValueError:  # no symbols query for this language: cannot tell overloads apart
            return False
        found.append(frozenset(d.signature for d in fragment.definitions if d.signature))
    return overloads_allowed(profile.name, texts, found)


def _added_twice(ctx: Context, nodes: list[str], label: str) -> list[Conflict]:
    out: list[Conflict] = []
    for x, y in itertools.combinations(nodes, 2):
        cx, cy = creation(ctx.history, x), creation(ctx.history, y)
        if cx is None or cy is None or not concurrent(cx, cy) or _overloads(ctx, x, y):
            continue
        if not named_first(cx, cy):
            (x, cx), (y, cy) = (y, cy), (x, cx)
        sides = [Side(cx.agent, x, cx.id, "drop", y), Side(cy.agent, y, cy.id, "drop", x)]
        places = [ctx.place(x), ctx.place(y)]
        if ctx.document.render_node(x) == ctx.document.render_node(y):
            out.append(
                make(
                    "identical",
                    NOTICE,
                    places,
                    sides,
                    f"{cx.agent} and {cy.agent} both added the same {label}.",
                    resolutions=(),
                )
            )
            continue
        out.append(
            make(
                "add-add",
                CONFLICT,
                places,
                sides,
                f"{cx.agent} and {cy.agent} both added {label} (different code).",
            )
        )
    return out


# -- a container deleted while something inside it was edited ------------------------------


def deleted_around(ctx: Context, edited: Iterable[str]) -> list[Conflict]:
    """delete-edit for a deleted container (a class, a whole file) whose inner node the other
    side edited concurrently: the edit is no longer rendered anywhere."""
    edited = list(edited)
    deletes: dict[str, list[LogEntry]] = {}
    for nid in edited:
        found = [e for e in ctx.history.node_log(nid).entries.values() if e.op == "delete"]
        if found:
            deletes[nid] = found
    if not deletes:
        return []
    out: list[Conflict] = []
    for nid in edited:
        holders = [a for a in ctx.ancestors(nid) if a in deletes]
        if not holders or nid in deletes:
            continue
        entries = ctx.history.node_log(nid).entries.values()
        for holder in holders:
            for gone in deletes[holder]:
                racing = [
                    e for e in entries if e.edits and concurrent(e, gone) and e.agent != gone.agent
                ]
                if not racing or ctx.document.path_of(holder) is not None:
                    continue
                # named by agent, not by (random) entry-id order, when several sides raced
                editor = min(racing, key=lambda e: (e.agent, e.id))
                label = ctx.place(holder).name or ctx.place(holder).path
                out.append(
                    make(
                        "delete-edit",
                        CONFLICT,
                        [ctx.place(holder), ctx.place(nid)],
                        [
                            Side(gone.agent, holder, gone.id, "delete"),
                            Side(editor.agent, holder, gone.id, "keep"),
                        ],
                        f"{gone.agent} deleted {label} while {editor.agent} edited "
                        f"{ctx.place(nid).name or 'something'} inside it.",
                    )
                )
    return out
