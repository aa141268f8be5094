"""The CRDT document: its schema, deterministic import of a commit, and rendering.

::

    files  : Map  path -> Array[node id]      normally one root; two = both sides added the path
    nodes  : Map  node id -> Map
               kind, name, parent (container id, "" for a root), path and mode (roots only;
               mode only when not 100644)
               text                           a leaf's exact source
               head, body: Array[id], tail    a container
               log: Array                     edit log entries {id, agent, parents, op,
                                              sv, name, edits, base, to}, newest first
                                              (see LogEntry)
    gitonly: Map  path -> {reason, blob, mode}  files kept in git only (binary, huge, ...)
    agents : Map  client id -> {name}
    meta   : Map  base (commit), format
    edited : Map  node id -> true             nodes with log entries since the base commit
    resolutions: Map  "<conflict>/<entry>" -> entry   who resolved which conflict how
    reports: Map  client id -> {agent, seen}  the edits each replica last said it had seen

A node renders where its ``parent`` says: after a concurrent move + move the id sits in two
bodies, and the one its (last-writer-wins) parent names is the place it renders, once.

Readers never trust the shape: a peer reaching a replica through a plain Yjs server can send
any well-formed update (a node that is its own parent, a container without its head, numbers
where ids belong, a string where a node map belongs). A node whose own map breaks the schema
is no node to the readers (`has_node` is false, it renders as nothing), body and file entries
that are not ids of such nodes are skipped, every walk of the tree is iterative and renders a
node it reaches twice once; `malformed()` lists what was skipped (the gate refuses to commit
it, `crdtspace conflicts` shows it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, ReadTransaction, Snapshot, Text, Transaction
from pycrdt._pycrdt import Array as _CoreArray
from pycrdt._pycrdt import Map as _CoreMap
from pycrdt._pycrdt import Text as _CoreText

from crdtspace.errors import NodeNotFound
from crdtspace.git.gitio import TrackedFile
from crdtspace.model.languages import profile_for, profiles
from crdtspace.model.segment import Seg, segment_file

FORMAT = 2
"""2: the import records the snapshot of the imported state (`meta["base_version"]`)."""
IMPORT_BATCH = 64
"""Files per import transaction: huge pycrdt transactions are slow, tiny ones waste time."""


TextEdit = tuple[str, int, str, str]
"""One recorded change of a node text: (part, char offset, old text, new text)."""


@dataclass(frozen=True)
class LogEntry:
    """One edit of one node: who, what, and which entries it had seen (happened-before).

    `edits` are the node's text changes in this entry, in order, each against the text the
    previous one left; `base` holds the node's texts before them when the entry does not follow
    exactly one other (a first edit, a create, or an edit that merged concurrent heads), so the
    text after any entry can be rebuilt (see `history`). `state` is the replica's state
    vector when the entry was written: entry b had seen entry a iff
    ``b.state[a.client] > a.state[a.client]`` (for any two nodes, not just one log). `name` is
    the node's name after the entry; `to` the container a move put it in.
    """

    id: str
    agent: str
    parents: tuple[str, ...]
    op: str
    description: str = ""
    state: tuple[tuple[int, int], ...] = ()
    name: str = ""
    edits: tuple[TextEdit, ...] = ()
    base: tuple[tuple[str, str], ...] | None = None
    to: str = ""

    @property
    def client(self) -> int:
        return int(self.id.partition(".")[0], 16)

    def clock(self, client: int) -> int:
        for c, k in self.state:
            if c == client:
                return k
        return 0

    def saw(self, other: LogEntry) -> bool:
        """Whether this entry's writer had seen `other` (happened-before, across nodes)."""
        if other.id in self.parents:
            return True
        client = other.client
        return self.clock(client) > other.clock(client) > 0 or (
            client == self.client and self.id != other.id and _counter(self) > _counter(other)
        )

    @classmethod
    def from_value(cls, value: Any) -> LogEntry:
        base = value.get("base")
        return cls(
            id=str(value["id"]),
            agent=str(value["agent"]),
            parents=tuple(str(p) for p in value.get("parents", ())),
            op=str(value.get("op", "edit")),
            description=str(value.get("desc", "")),
            state=tuple((int(c), int(k)) for c, k in value.get("sv", ())),
            name=str(value.get("name", "")),
            edits=tuple((str(p), int(o), str(a), str(b)) for p, o, a, b in value.get("edits", ())),
            base=None if base is None else tuple((str(p), str(t)) for p, t in base),
            to=str(value.get("to", "")),
        )

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "id": self.id,
            "agent": self.agent,
            "parents": list(self.parents),
            "op": self.op,
        }
        if self.description:
            value["desc"] = self.description
        if self.state:
            value["sv"] = [list(pair) for pair in self.state]
        if self.name:
            value["name"] = self.name
        if self.edits:
            value["edits"] = [list(e) for e in self.edits]
        if self.base is not None:
            value["base"] = [list(pair) for pair in self.base]
        if self.to:
            value["to"] = self.to
        return value


def _counter(entry: LogEntry) -> int:
    try:
        return int(entry.id.partition(".")[2])
    except ValueError:
        return 0


def decode_state(state: bytes) -> tuple[tuple[int, int], ...]:
    """A yrs state vector (varint count, then client/clock varint pairs), sorted by client."""
    values: list[int] = []
    value = shift = 0
    for byte in state:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(value)
            value = shift = 0
    pairs = values[1:]
    return tuple(sorted(zip(pairs[0::2], pairs[1::2], strict=False)))


class Document:
    """Typed access to one workspace's pycrdt Doc."""

    def __init__(self, doc: Doc[Any]) -> None:
        self.doc = doc
        self.files: Map[Any] = doc.get("files", type=Map)
        self.nodes: Map[Any] = doc.get("nodes", type=Map)
        self.gitonly: Map[Any] = doc.get("gitonly", type=Map)
        self.agents: Map[Any] = doc.get("agents", type=Map)
        self.meta: Map[Any] = doc.get("meta", type=Map)
        # Nodes edited since the base commit (keys only): the conflict layer looks at these,
        # not at every node of the workspace.
        self.edited: Map[Any] = doc.get("edited", type=Map)
        # Conflict resolutions, one key per resolution: "<conflict id>/<entry id>" -> entry.
        self.resolutions: Map[Any] = doc.get("resolutions", type=Map)
        # What each replica last said it had seen (client id -> {agent, seen}); see report().
        self.reports_map: Map[Any] = doc.get("reports", type=Map)
        self._edited_known: set[str] = set()
        self._strays: dict[str, list[str]] | None = None
        self._needed: dict[str, tuple[int, dict[int, int]]] = {}
        self._heads: dict[str, tuple[str, ...]] = {}
        # Local read caches: pycrdt map lookups cost microseconds each, and a keystroke must
        # not pay for the whole file. Node maps are never replaced once created, so their
        # wrappers stay valid; parents change only by our own moves or by remote updates.
        # A node in _parent_cache has the schema's shape (checked since the last remote
        # update, or created here); a remote update empties it and _broken (forget_caches).
        self._node_cache: dict[str, Map[Any]] = {}
        self._parent_cache: dict[str, str] = {}
        self._log_cache: dict[str, Array[Any]] = {}
        self._broken: dict[str, str] = {}

    # -- reading -------------------------------------------------------------------------

    def node(self, nid: str) -> Map[Any]:
        """A node's map, which has the schema's shape (else NodeNotFound: it reads as nothing)."""
        if nid in self._parent_cache:
            node = self._node_cache.get(nid)
            if node is not None:
                return node
        reason = self.problem(nid)
        if reason:
            raise NodeNotFound(f"There is no node {nid!r} in the workspace ({reason}).")
        return self._node_cache[nid]

    def has_node(self, nid: Any) -> bool:
        """Whether `nid` names a node of the schema's shape."""
        return type(nid) is str and (nid in self._parent_cache or not self.problem(nid))

    def problem(self, nid: Any) -> str:
        """Why `nid` is no node of the schema's shape ("no such node" when absent; "" when it
        is one: then its map and parent are cached until the next remote update)."""
        if type(nid) is not str:
            return "not a node id"
        known = self._broken.get(nid)
        if known is not None:
            return known
        try:
            found = self._shape(nid)
        except (AttributeError, TypeError):  # pragma: no cover - pycrdt changed
            found = self._shape_slow(nid)
        if isinstance(found, str):
            if found != "no such node":
                self._broken[nid] = found
            self._node_cache.pop(nid, None)
            self._log_cache.pop(nid, None)
            return found
        node, parent = found
        self._log_cache.pop(nid, None)  # (a peer may have put another map there)
        self._node_cache[nid] = node
        self._parent_cache[nid] = parent
        return ""

    def _shape(self, nid: str) -> str | tuple[Map[Any], str]:
        """The node's map and parent, or what is wrong with it, read through pycrdt's core
        (about 3 µs; `_shape_slow` is the same through the public API, 5x slower)."""
        with self.doc.transaction() as txn:
            t: Any = txn._txn
            try:
                raw: Any = self.nodes.integrated.get(t, nid)
            except ValueError:
                return "no such node"
            if type(raw) is not _CoreMap:
                return "not a map"
            found: Any = raw  # (pycrdt's stubs lack the core map's keys())
            keys = found.keys(t)
            get = found.get
            for key in ("kind", "name", "parent"):
                if key not in keys or type(get(t, key)) is not str:
                    return f"no {key}"
            for key in ("path", "mode"):
                if key in keys and type(get(t, key)) is not str:
                    return f"a {key} that is not a string"
            if "log" not in keys or type(get(t, "log")) is not _CoreArray:
                return "no log"
            if "text" in keys:
                if "body" in keys:
                    return "both a text and a body"
                if type(get(t, "text")) is not _CoreText:
                    return "a text that is not a Text"
            else:
                for key, kind in (("head", _CoreText), ("tail", _CoreText), ("body", _CoreArray)):
                    if key not in keys or type(get(t, key)) is not kind:
                        return f"no {key}"
            return Map(_doc=self.doc, _integrated=raw), str(get(t, "parent"))

    def _shape_slow(self, nid: str) -> str | tuple[Map[Any], str]:  # pragma: no cover
        node = self.nodes.get(nid)
        if node is None:
            return "no such node"
        if not isinstance(node, Map):
            return "not a map"
        for key in ("kind", "name", "parent"):
            if not isinstance(node.get(key), str):
                return f"no {key}"
        for key in ("path", "mode"):
            if key in node and not isinstance(node[key], str):
                return f"a {key} that is not a string"
        if not isinstance(node.get("log"), Array):
            return "no log"
        if "text" in node:
            if "body" in node:
                return "both a text and a body"
            if not isinstance(node["text"], Text):
                return "a text that is not a Text"
        else:
            for key, kind in (("head", Text), ("tail", Text), ("body", Array)):
                if not isinstance(node.get(key), kind):
                    return f"no {key}"
        return node, str(node["parent"])

    def parent(self, nid: str) -> str:
        """The container a node renders in ("" for a file's root)."""
        parent = self._parent_cache.get(nid)
        if parent is None:
            self.node(nid)
            parent = self._parent_cache[nid]
        return parent

    def set_parent(self, nid: str, parent: str) -> None:
        self.node(nid)["parent"] = parent
        self._parent_cache[nid] = parent

    def paths(self) -> list[str]:
        return sorted(self.files.keys())

    def roots(self, path: str) -> list[str]:
        try:
            roots = self.files[path]  # (a peer may have set it to anything, None too)
        except (KeyError, RuntimeError):
            raise NodeNotFound(
                f"There is no file {path!r} in the workspace.",
                hint="`crdtspace status` lists the files",
            ) from None
        strays = self._stray_roots().get(path, ())
        listed = [r for r in ids_in(roots) if type(r) is str]
        return [r for r in dict.fromkeys([*listed, *strays]) if self.has_node(r)]

    def listed(self, path: str) -> list[str]:
        """The ids `files[path]` lists (none when it is not a list of ids)."""
        return [r for r in ids_in(self.files.get(path)) if type(r) is str]

    def _stray_roots(self) -> dict[str, list[str]]:
        """Roots of files two replicas created at one path at once, beyond the listed one.

        Each side sets ``files[path]`` to its own root list and the map keeps one (last writer
        wins); the other side's root is still a node with that path, so it is found here (among
        the nodes edited since the base) and rendered after the listed one: nothing is lost,
        and the conflict layer reports the add-add."""
        if self._strays is not None:
            return self._strays
        strays: dict[str, list[str]] = {}
        for nid in sorted(self.edited.keys()):
            if not self.has_node(nid) or self.parent(nid):
                continue
            path = self.node(nid).get("path")
            if not path:
                continue
            path = str(path)
            if path not in self.files or nid in self.listed(path):
                continue
            if any(e.op == "delete" for e in self.log(nid)):
                continue
            strays.setdefault(path, []).append(nid)
        self._strays = strays
        return strays

    def mode(self, path: str) -> str:
        """A file's git mode ("100644" unless the import recorded another)."""
        roots = self.roots(path)
        return str(self.node(roots[0]).get("mode", "100644")) if roots else "100644"

    def is_container(self, nid: str) -> bool:
        return "body" in self.node(nid)

    def children(self, nid: str) -> list[str]:
        """The ids a container renders, in order: each once, and only where its parent says
        (entries that are no node of the schema's shape are skipped; none for a leaf)."""
        node = self.node(nid)
        if "body" not in node:
            return []
        seen: dict[str, None] = {}
        parents = self._parent_cache
        for child in read_list(node["body"]):
            if (
                type(child) is str
                and child not in seen
                and (child in parents or self.has_node(child))
                and parents[child] == nid
            ):
                seen[child] = None
        return list(seen)

    def take_out(self, container: str, nid: str) -> None:
        """Remove every occurrence of `nid` from a container's body (after a concurrent move +
        move it may be there twice)."""
        body = self.node(container)["body"]
        for index in reversed([i for i, c in enumerate(read_list(body)) if c == nid]):
            del body[index]

    def texts(self, nid: str) -> dict[str, str]:
        """A node's own texts by part ("text" for a leaf, "head" and "tail" for a container)
        and its "name": the shape the edit log records (see LogEntry, crdtspace.model.history)."""
        node = self.node(nid)
        parts = ("text",) if "text" in node else ("head", "tail")
        out = {part: str(node[part]) for part in parts}
        out["name"] = str(node.get("name", ""))
        return out

    def render_node(self, nid: str) -> str:
        out: list[str] = []
        self.render_into(nid, out, set())
        return "".join(out)

    def render_into(self, nid: str, out: list[str], seen: set[str]) -> None:
        """Append a node's text (pre-order, without recursion) to `out`; a node in `seen` (or
        reached twice) renders as nothing."""
        stack: list[Any] = [nid]  # node ids to open, and tails (Texts) to append
        while stack:
            item = stack.pop()
            if type(item) is not str:
                out.append(str(item))
                continue
            if item in seen:
                continue
            seen.add(item)
            node = self.node(item)
            if "text" in node:
                out.append(str(node["text"]))
                continue
            out.append(str(node["head"]))
            stack.append(node["tail"])
            children = self.children(item)
            children.reverse()
            stack.extend(children)

    def render(self, path: str) -> str:
        out: list[str] = []
        seen: set[str] = set()
        for root in self.roots(path):
            self.render_into(root, out, seen)
        return "".join(out)

    def path_of(self, nid: str) -> str | None:
        """The file a node renders in (None when it is detached: deleted)."""
        seen: set[str] = set()
        while nid not in seen:
            seen.add(nid)
            if not self.has_node(nid):
                return None
            parent = self.parent(nid)
            if not parent:
                path = self.node(nid).get("path")
                if not path:
                    return None
                path = str(path)
                if path in self.files and (
                    nid in self.listed(path) or nid in self._stray_roots().get(path, ())
                ):
                    return path
                return None
            if not self.has_node(parent) or nid not in self.children(parent):
                return None
            nid = parent
        return None

    def malformed(self, paths: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """What readers skip in the given files (every file by default): (node id, or the
        path for a files entry, and why), sorted. Files entries that are no list of ids, ids
        that name no node of the schema's shape, nodes a walk reaches twice, and nodes in a
        body whose parent chain is a cycle or reaches no node (they render nowhere)."""
        out: set[tuple[str, str]] = set()
        for path in sorted(self.files.keys() if paths is None else paths):
            if path not in self.files:
                continue
            value = self.files[path]
            if not isinstance(value, Array):
                out.add((path, "its files entry is not a list of node ids"))
            for root in ids_in(value):
                if not self.has_node(root):
                    out.add((path, f"lists {_short(root)}, which is no node: {self._why(root)}"))
            seen: set[str] = set()
            stack = list(reversed(self.roots(path)))
            while stack:
                nid = stack.pop()
                if nid in seen:
                    out.add((nid, "reached twice (a cycle)"))
                    continue
                seen.add(nid)
                node = self.node(nid)
                if "body" not in node:
                    continue
                children = self.children(nid)
                for child in read_list(node["body"]):
                    if not self.has_node(child):
                        why = self._why(child)
                        out.add((nid, f"holds {_short(child)}, which is no node: {why}"))
                    elif self.parent(child) != nid and (lost := self._lost(child)):
                        out.add((child, lost))
                children.reverse()
                stack.extend(children)
        for path, value in self.gitonly.items():
            fields = ("blob", "mode", "reason")
            if not isinstance(value, Map) or not all(isinstance(value.get(k), str) for k in fields):
                out.add((str(path), "its git-only entry has no blob, mode and reason"))
        return sorted(out)

    def _lost(self, nid: str) -> str:
        """Why a node's parent chain leads to no file's root ("" when it does, or ends at a
        root that is detached: deleted)."""
        seen: set[str] = set()
        while nid not in seen:
            seen.add(nid)
            if not self.has_node(nid):
                return f"its parent chain reaches {_short(nid)}, which is no node"
            nid = self.parent(nid)
            if not nid:
                return ""
        return "its parents form a cycle"

    def _why(self, nid: Any) -> str:
        return self.problem(nid) or "a node"

    # -- the edit log --------------------------------------------------------------------

    def log(self, nid: str) -> list[LogEntry]:
        # Stored newest first (see append_log); returned oldest first. An entry that does not
        # have the shape of one (a damaged or hostile peer's update) is left out, not fatal.
        out = []
        for value in reversed(read_list(self.node(nid)["log"])):
            try:
                out.append(LogEntry.from_value(value))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        return out

    def heads(self, nid: str) -> tuple[str, ...]:
        """Entries of the node's log no other entry has seen: more than one = concurrent edits.

        Cached until a remote update arrives (only those, and our own appends, change logs)."""
        cached = self._heads.get(nid)
        if cached is not None:
            return cached
        entries = self.log(nid)
        seen = {p for e in entries for p in e.parents}
        heads = tuple(sorted(e.id for e in entries if e.id not in seen))
        self._heads[nid] = heads
        return heads

    def append_log(self, nid: str, entry: LogEntry) -> None:
        # Prepended: a node's log items interleave (by clock) with its text's, so yrs cannot
        # squash them, and inserting at the end walks every item (O(n) per edit of a node
        # typed into for a long time); inserting at 0 is O(1).
        log = self._log_cache.get(nid)
        if log is None:
            log = self._log_cache[nid] = self.node(nid)["log"]
        log.insert(0, entry.to_value())
        self._heads[nid] = (entry.id,)
        if entry.op in ("create", "delete"):
            self._strays = None
        self.mark_edited(nid)

    def mark_edited(self, nid: str) -> None:
        if nid not in self._edited_known:
            if nid not in self.edited:
                self.edited[nid] = True
            self._edited_known.add(nid)

    def edited_nodes(self) -> list[str]:
        return list(self.edited.keys())

    # -- replicas and what they have seen ----------------------------------------------------

    def replicas(self) -> dict[int, str]:
        """Every replica that ever edited: client id -> agent name. (The forks that apply a
        write from an older version, `versions`, are not replicas: their edits are in
        the replica that made them.)"""
        out = {}
        for key, value in self.agents.items():
            try:
                if "of" in value:
                    continue
                out[int(key)] = str(value["name"])
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def needed_state(self) -> dict[int, int]:
        """Per client, one past the newest clock of its log entries this replica holds: a
        replica has seen every edit here iff what it reports is at least this everywhere."""
        needed: dict[int, int] = {}
        for nid in self.edited_nodes():
            if not self.has_node(nid):
                continue
            for client, clock in self._needed_by(nid).items():
                if clock > needed.get(client, 0):
                    needed[client] = clock
        return needed

    def _needed_by(self, nid: str) -> dict[int, int]:
        # A log only grows: its clocks are read again only when its length changed.
        length = len(self.node(nid)["log"])
        held = self._needed.get(nid)
        if held is not None and held[0] == length:
            return held[1]
        found: dict[int, int] = {}
        for entry in self.log(nid):
            client = entry.client
            found[client] = max(found.get(client, 0), entry.clock(client) + 1)
        self._needed[nid] = (length, found)
        return found

    def reports(self) -> dict[int, dict[int, int]]:
        """What each replica last reported having seen (client id -> needed_state it had)."""
        out: dict[int, dict[int, int]] = {}
        for key, value in self.reports_map.items():
            try:
                out[int(key)] = {int(c): int(k) for c, k in value["seen"]}
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def gitonly_entries(self) -> dict[str, tuple[str, str]]:
        """Files kept in git only: path -> (blob sha, mode)."""
        out = {}
        for path, value in self.gitonly.items():
            try:
                out[str(path)] = (str(value["blob"]), str(value["mode"]))
            except (KeyError, TypeError):
                continue  # not the shape of an entry (see `malformed`)
        return out

    def forget_caches(self) -> None:
        """Called after remote updates: cached heads and parents may be stale."""
        self._heads.clear()
        self._parent_cache.clear()
        self._broken.clear()
        self._strays = None

    # -- creating nodes ------------------------------------------------------------------

    def add_seg(self, seg: Seg, parent: str, new_id: Callable[[Seg, str], str]) -> str:
        """Create the nodes of a segment tree (pre-order); returns the top node's id.

        `new_id(seg, key_path)` names each node; key_path is its position in the tree
        ("", "0", "0/3", ...), which makes imported ids deterministic.
        """
        return self._add_core(seg, parent, new_id)[0]

    def _add_core(
        self, seg: Seg, parent: str, new_id: Callable[[Seg, str], str]
    ) -> tuple[str, Any | None]:
        """`add_seg` through pycrdt's Rust core; returns the top id and its core map (or None).

        pycrdt's Python layer costs about 30 µs per node (a transaction context, type checks
        and a wrapper per value); an import creates ~90k nodes. The core calls made here are
        exactly those pycrdt makes for `_add_slow`, in the same order, so both write the same
        bytes (tested). Any failure to reach the core (pycrdt changed) takes the slow path.
        """
        with self.doc.transaction() as txn:
            core = _core(self.nodes, txn)
            if core is None:  # pragma: no cover - pycrdt changed
                return self._add_slow(seg, parent, "", new_id), None
            nodes, core_txn = core
            return self._add_fast(seg, parent, "", new_id, nodes, core_txn)

    def _add_fast(
        self,
        seg: Seg,
        parent: str,
        key: str,
        new_id: Callable[[Seg, str], str],
        nodes: Any,
        txn: Any,
    ) -> tuple[str, Any]:
        nid = new_id(seg, key)
        self._parent_cache[nid] = parent
        if seg.text is not None:
            node = nodes.insert_map_prelim(txn, nid)
            node.insert(txn, "kind", seg.kind)
            node.insert(txn, "name", seg.name)
            node.insert(txn, "parent", parent)
            node.insert_text_prelim(txn, "text").insert(txn, 0, seg.text)
            node.insert_array_prelim(txn, "log")
            return nid, node
        prefix = f"{key}/" if key else ""
        child_ids = [
            self._add_fast(child, nid, f"{prefix}{i}", new_id, nodes, txn)[0]
            for i, child in enumerate(seg.children)
        ]
        node = nodes.insert_map_prelim(txn, nid)
        node.insert(txn, "kind", seg.kind)
        node.insert(txn, "name", seg.name)
        node.insert(txn, "parent", parent)
        node.insert_text_prelim(txn, "head").insert(txn, 0, seg.head)
        node.insert_text_prelim(txn, "tail").insert(txn, 0, seg.tail)
        node.insert_array_prelim(txn, "log")
        body = node.insert_array_prelim(txn, "body")
        for i, child_id in enumerate(child_ids):
            body.insert(txn, i, child_id)
        return nid, node

    def _add_slow(self, seg: Seg, parent: str, key: str, new_id: Callable[[Seg, str], str]) -> str:
        """`add_seg` through pycrdt's public API: the reference the fast path must equal."""
        nid = new_id(seg, key)
        self._parent_cache[nid] = parent
        fields: dict[str, Any] = {"kind": seg.kind, "name": seg.name, "parent": parent}
        if seg.text is not None:
            fields["text"] = Text(seg.text)
            fields["log"] = Array()
            self.nodes[nid] = Map(fields)
            return nid
        fields["head"] = Text(seg.head)
        fields["tail"] = Text(seg.tail)
        fields["log"] = Array()
        prefix = f"{key}/" if key else ""
        child_ids = [
            self._add_slow(child, nid, f"{prefix}{i}", new_id)
            for i, child in enumerate(seg.children)
        ]
        fields["body"] = Array(child_ids)
        self.nodes[nid] = Map(fields)
        return nid


def _core(shared: Map[Any] | Array[Any], txn: Transaction) -> tuple[Any, Any] | None:
    """A shared type's Rust object and the transaction's, or None if pycrdt's internals moved."""
    if isinstance(txn, ReadTransaction):
        return None
    core_txn = getattr(txn, "_txn", None)
    core = getattr(shared, "_integrated", None)
    needed = ("insert", "insert_map_prelim", "insert_text_prelim", "insert_array_prelim")
    if core_txn is None or core is None or not all(hasattr(core, m) for m in needed):
        return None
    return core, core_txn


def ids_in(value: Any) -> list[Any]:
    """The items of a files entry or body: an Array's, a plain list's (as a peer may write it),
    else none."""
    if isinstance(value, Array):
        return read_list(value)
    if isinstance(value, list | tuple):
        return list(value)
    return []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_list(array: Array[Any]) -> list[Any]:
    """An Array's items as a list, read in one call.

    Iterating a pycrdt Array costs one Rust call per item (about 4 µs); a body of 300 units is
    read at every re-key. The integrated array's to_json reads it in one call (20x faster). It
    is reached through pycrdt's private transaction handle, so any failure takes the slow path.
    """
    try:
        with array.doc.transaction() as txn:
            return json.loads(array.integrated.to_json(txn._txn))  # type: ignore[no-any-return]
    except (AttributeError, TypeError, ValueError, RecursionError):  # pragma: no cover
        return list(array)  # (pycrdt changed, or a peer nested lists too deep for json)


def import_client_id(commit: str) -> int:
    """The fixed client id of an import: every replica importing `commit` writes the same bytes.

    The document format and every grammar's name@version are part of it: replicas that would
    cut the commit differently (another grammar version) must not share a client id, or yrs
    would take their different contents for the same items and they would silently diverge.
    With different ids they merge as two imports, visibly (every file twice)."""
    cuts = ",".join(sorted(p.key for p in profiles().values()))
    digest = hashlib.blake2b(f"{commit}\0{FORMAT}\0{cuts}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") & ((1 << 53) - 1) or 1


def import_id(commit: str, path: str, key: str, grammar: str) -> str:
    digest = hashlib.blake2b(f"{commit}\0{path}\0{key}\0{grammar}".encode(), digest_size=8)
    return digest.hexdigest()


def import_commit(
    commit: str,
    files: Sequence[TrackedFile],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Import a commit's tracked files into a fresh doc; returns its update (deterministic)."""
    doc: Doc[Any] = Doc(client_id=import_client_id(commit), skip_gc=True)
    document = Document(doc)
    with doc.transaction(origin="import"):
        document.meta["base"] = commit
        document.meta["format"] = FORMAT
    for start in range(0, len(files), IMPORT_BATCH):
        batch = files[start : start + IMPORT_BATCH]
        with doc.transaction(origin="import"):
            for tracked in batch:
                _import_file(document, commit, tracked)
        if progress is not None:
            progress(min(start + IMPORT_BATCH, len(files)), len(files))
    # What a write with no known base starts from (versions): the commit as imported.
    # (Taken outside any transaction: yrs would wait for itself.)
    imported = bytes(Snapshot.from_doc(doc).encode())
    with doc.transaction(origin="import"):
        document.meta["base_version"] = imported
    return doc.get_update()


def _import_file(document: Document, commit: str, tracked: TrackedFile) -> None:
    if tracked.text is None:
        # A Map, not a plain dict: a dict becomes a yrs Any map whose encoding follows a
        # HashMap's random order, which would make imports differ byte for byte.
        document.gitonly[tracked.path] = Map(
            {
                "reason": tracked.git_only_reason or "not text",
                "blob": tracked.blob,
                "mode": tracked.mode,
            }
        )
        return
    cut = segment_file(tracked.path, tracked.text)
    profile = profile_for(tracked.path) if cut.language else None
    grammar = profile.key if profile is not None else "text"
    root, root_map = document._add_core(
        cut.root, "", lambda seg, key: import_id(commit, tracked.path, key, grammar)
    )
    with document.doc.transaction() as txn:
        files = _core(document.files, txn)
        if root_map is None or files is None:  # pragma: no cover - pycrdt changed
            document.nodes[root]["path"] = tracked.path
            if tracked.mode != "100644":
                document.nodes[root]["mode"] = tracked.mode
            document.files[tracked.path] = Array([root])
            return
        # The same core calls as the public-API lines above (tested byte for byte).
        files_map, core_txn = files
        root_map.insert(core_txn, "path", tracked.path)
        if tracked.mode != "100644":
            root_map.insert(core_txn, "mode", tracked.mode)
        files_map.insert_array_prelim(core_txn, tracked.path).insert(core_txn, 0, root)
