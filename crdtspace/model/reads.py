"""Reading a replica: files and nodes as text with their version, outlines, logs, status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crdtspace.errors import DocumentError, NodeNotFound
from crdtspace.model import materialize
from crdtspace.model.core import ReplicaCore
from crdtspace.model.languages import profile_for
from crdtspace.model.layout import FileLayout
from crdtspace.model.logentry import LogEntry
from crdtspace.model.paths import safe_relpath
from crdtspace.model.segment import TEXT_KIND

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class OutlineEntry:
    """One node of a file's outline."""

    key: str
    kind: str
    name: str
    qualname: str
    depth: int
    start_line: int
    end_line: int
    last_editor: str
    container: bool


class Reading(str):
    """A text as read, and the version it was read at: give `reading.version` back as the
    `base` of a write made from it (see `crdtspace.model.versions`). The version is taken when first
    asked for, or before the document next changes, whichever comes first: reads that no
    write follows cost no snapshot."""

    _version: Callable[[], str]

    def __new__(cls, text: str, version: Callable[[], str]) -> Reading:
        reading = super().__new__(cls, text)
        reading._version = version
        return reading

    @property
    def version(self) -> str:
        return self._version()


class Outline(list[OutlineEntry]):
    """A file's outline, and the version it was read at (as for `Reading`)."""

    def __init__(self, entries: list[OutlineEntry], version: Callable[[], str]) -> None:
        super().__init__(entries)
        self._version = version

    @property
    def version(self) -> str:
        return self._version()


@dataclass(frozen=True)
class GitOnlyFile:
    path: str
    reason: str


@dataclass(frozen=True)
class Status:
    """What a workspace holds."""

    base: str
    agent: str
    files: int
    structured: int
    plain_text: list[str]
    unparsed: list[str]
    git_only: list[GitOnlyFile]
    agents: list[str]
    nodes: int
    state_dir: str | None


class Reads(ReplicaCore):
    """Part of `Replica` (see `ReplicaCore`)."""

    _where_kept: tuple[tuple[str, int], tuple[str, str | None]] = (("", -1), ("", None))

    def paths(self) -> list[str]:
        return self.document.paths()

    def git_only(self) -> list[GitOnlyFile]:
        return [
            GitOnlyFile(path, _field(self.document.gitonly.get(path), "reason"))
            for path in sorted(self.document.gitonly.keys())
        ]

    def render(self, path: str, *, agent: str | None = None) -> Reading:
        """A file's text, with its version (noted as `agent`'s last read of the file). A node
        in an open overlap shows both sides and their base (`crdtspace.model.materialize`)."""
        path = self._path(path)
        views = materialize.in_file(self.document, path)
        text = materialize.render(self.document, path, views)
        return Reading(text, self._noted(path, agent))

    def render_all(self) -> dict[str, str]:
        """Every file's text (not noted as anybody's read)."""
        return {path: self.document.render(path) for path in self.paths()}

    def read(self, ref: str, *, agent: str | None = None) -> Reading:
        """A file's text (`path`) or a node's (`path::key`, `path::Qual.name`, or a bare key),
        with its version (noted as `agent`'s last read of the file)."""
        path, nid = self.resolve(ref)
        views = materialize.in_file(self.document, path)
        if nid is None:
            text = materialize.render(self.document, path, views)
        else:
            text = materialize.render_node(self.document, nid, views)
        return Reading(text, self._noted(path, agent))

    def overlap_sides(self, nid: str) -> materialize.Sides | None:
        """A node's base and sides when it is in an open overlap (for `conflicts --json`)."""
        return materialize.overlapped(self.document, nid)

    def _unmaterialized(self, path: str, text: str) -> str:
        """A writer's text with the overlap views it gave back unchanged put back as the
        merged nodes; a text that still holds conflict markers in such a file (a whole block,
        or any line of one) is refused."""
        with self.document.doc.transaction():  # (one for its reads: each would open one)
            views = materialize.in_file(self.document, path)
        if not views:
            return text
        text = materialize.unmaterialize(self.document, text, views)
        if materialize.has_markers(text, allowed=self.document.render(path)):
            raise DocumentError(
                f"The text for {path!r} still holds conflict markers.",
                hint="keep one side, or write the lines as they should be, without the markers",
            )
        return text

    def resolve(self, ref: str) -> tuple[str, str | None]:
        """(path, node id or None for the whole file) for a reference."""
        self.flush()
        if "::" in ref:
            path, _, name = ref.partition("::")
            path = self._path(path)
            if name in self.document.nodes and self.document.path_of(name) == path:
                return path, name
            found = self._named(path, name) if name else None
            if found is not None:
                return path, found
            for entry in self._outline_entries(path) if not name else ():
                if entry.qualname == name:
                    return path, entry.key
            raise NodeNotFound(
                f"There is no node {name!r} in {path!r}.",
                hint=f"`crdtspace outline {path}` lists them",
            )
        kind, path_of = self._where(ref)
        if kind == "file":
            return ref, None
        if kind == "node":
            if path_of is None:
                raise NodeNotFound(f"The node {ref!r} was deleted.")
            return path_of, ref
        return self._path(ref), None

    def _where(self, ref: str) -> tuple[str, str | None]:
        """What a reference without "::" names: ("file", ref), ("node", its file or None when
        it is detached) or ("", None). Outside transactions, the last answer is kept until the
        document changes (`_changes`): a write asks twice, for its base's file and to
        resolve, and each answer costs a node's walk up to its file."""
        key = (ref, self._changes)
        if self._depth == 0 and self._where_kept[0] == key:
            return self._where_kept[1]
        document = self.document
        with document.doc.transaction():  # (one for the reads below, each would open one)
            if ref in document.files:
                where: tuple[str, str | None] = ("file", ref)
            elif ref in document.nodes:
                where = ("node", document.path_of(ref))
            else:
                where = ("", None)
        if self._depth == 0:
            self._where_kept = (key, where)
        return where

    def _named(self, path: str, name: str) -> str | None:
        """The first node, in file order, whose qualified name is `name`: found by the nodes'
        names alone, with the rule of `FileLayout` (a container's children are named after it
        unless it is the file or unnamed), rendering no text."""
        document = self.document
        seen: set[str] = set()
        stack: list[tuple[str, int, str]] = [(r, 0, "") for r in reversed(document.roots(path))]
        while stack:
            nid, depth, prefix = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            node = document.node(nid)
            own = str(node["name"])
            qualname = f"{prefix}.{own}" if prefix and own else own
            if depth and qualname == name:
                return nid
            if "text" in node:
                continue
            children = document.children(nid)
            children.reverse()
            stack.extend((child, depth + 1, qualname if depth else "") for child in children)
        return None

    def _path(self, path: str) -> str:
        if path in self.document.files:
            return path
        relative = safe_relpath(self.root, path)
        if relative in self.document.files:
            return relative
        if relative in self.document.gitonly:
            reason = _field(self.document.gitonly.get(relative), "reason")
            raise DocumentError(f"{relative!r} is kept in git only: {reason}.")
        raise NodeNotFound(
            f"There is no file {relative!r} in the workspace.", hint="`crdtspace status` lists them"
        )

    def outline(self, path: str, *, agent: str | None = None) -> Outline:
        """Every node of a file, in order, with its line range and last editor; with its
        version (noted as `agent`'s last read of the file)."""
        path = self._path(path)
        entries = self._outline_entries(path)
        return Outline(entries, self._noted(path, agent))

    def _outline_entries(self, path: str) -> list[OutlineEntry]:
        self.flush()
        path = self._path(path)
        layout = FileLayout.build(self.document, path)  # (iterative: any depth, any cycle)
        out: list[OutlineEntry] = []
        for nid in layout.order:
            span = layout.spans[nid]
            if not span.depth and span.kind != TEXT_KIND:
                continue
            text = layout.text[span.start : span.end]
            start = layout.line(span.start + len(text) - len(text.lstrip()))
            end = max(start, layout.line(span.start + len(text.rstrip("\r\n"))))
            out.append(
                OutlineEntry(
                    nid,
                    span.kind,
                    span.name,
                    span.qualname if span.depth else "",
                    span.depth,
                    start,
                    end,
                    self.last_editor(nid),
                    span.container,
                )
            )
        return out

    def last_editor(self, nid: str) -> str:
        heads = set(self.document.heads(nid))
        if not heads:
            return "(base)"
        agents = sorted({e.agent for e in self.document.log(nid) if e.id in heads})
        return ", ".join(agents)

    def log(self, ref: str) -> list[tuple[str, LogEntry]]:
        """(node id, entry) for a node, or for every node of a file in outline order."""
        path, nid = self.resolve(ref)
        ids = [nid] if nid is not None else [e.key for e in self._outline_entries(path)]
        return [(i, entry) for i in ids for entry in self.document.log(i)]

    def heads(self, nid: str) -> tuple[str, ...]:
        return self.document.heads(nid)

    def status(self) -> Status:
        self.flush()
        plain: list[str] = []
        unparsed: list[str] = []
        structured = 0
        for path in self.paths():
            roots = self.document.roots(path)
            kinds = [self.document.node(r)["kind"] for r in roots]
            if TEXT_KIND in kinds:
                (unparsed if profile_for(path) else plain).append(path)
            else:
                structured += 1
        nodes = len(self.document.nodes)
        agents = sorted({_field(v, "name") for v in self.document.agents.values()} - {""})
        return Status(
            base=str(self.document.meta.get("base", "")),
            agent=self.agent,
            files=len(self.paths()),
            structured=structured,
            plain_text=plain,
            unparsed=unparsed,
            git_only=self.git_only(),
            agents=agents,
            nodes=nodes,
            state_dir=str(self._log.path.parent) if self._log is not None else None,
        )

    def edits_since_commit(self) -> Iterator[tuple[str | None, str]]:
        """(the file, or None for a node no longer in one; the agent) of every log entry made
        since the last commit through the gate (or the import)."""
        done: dict[int, int] = {}
        for pair in self.document.meta.get("committed", []) or []:
            try:  # (a peer's malformed value counts as nothing committed)
                client, clock = pair
                done[int(client)] = int(clock)
            except (TypeError, ValueError):
                continue
        for nid in self.document.edited_nodes():
            if not self.document.has_node(nid):
                continue
            path = self.document.path_of(nid)
            for entry in self.document.log(nid):
                if entry.clock(entry.client) >= done.get(entry.client, 0):
                    yield path, entry.agent

    def changed_files(self) -> dict[str, list[str]]:
        """The files with edits since the last commit through the gate (or the import), and
        the agents who made them."""
        by_path: dict[str, set[str]] = {}
        for path, agent in self.edits_since_commit():
            if path is not None:
                by_path.setdefault(path, set()).add(agent)
        return {path: sorted(agents) for path, agents in sorted(by_path.items())}

    def _path_of_ref(self, ref: str) -> str:
        """The file a reference names, even when the node it names is gone or renamed now."""
        if "::" in ref:
            return self._new_path(ref.partition("::")[0])
        kind, path = self._where(ref)
        if kind == "file":
            return ref
        if kind == "node":
            if path is None:
                raise NodeNotFound(
                    f"The node {ref!r} was deleted.",
                    hint="name it with its file (PATH::KEY) to write from a version that had it",
                )
            return path
        return self._new_path(ref)

    def _new_path(self, path: str) -> str:
        if path in self.document.files:
            return path
        if self.root is not None:
            return safe_relpath(self.root, path)
        if path.startswith(("/", "../")) or "/../" in path or path.startswith(".git/"):
            raise DocumentError(f"The path {path!r} is outside the repository.")
        return path


def _field(value: Any, key: str) -> str:
    """A text field of a small map (an agent, a git-only entry); "" when the entry has no such
    field or is not a map (a peer's update may hold any shape)."""
    try:
        found = value.get(key)
    except (AttributeError, TypeError):
        return ""
    return found if isinstance(found, str) else ""
