"""The CRDT document: its schema, and typed access to it (reading, rendering, the edit log).

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
    reports: Map  client id -> {agent, seen, at, made, done, net}  what each replica last said
                  it had seen, when, its own last clock, whether it finished, whether it is
                  networked; "forget:<client>" -> {at}: a replica the gate no longer waits for
    claims : Map  "<path>::<node>|<agent>" -> {agent, path, node, until, note}  claims held
                  in the document (see `crdtspace.model.claims`)

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

import json
from collections.abc import Iterable
from functools import partial
from typing import Any

from pycrdt import Array, Doc, Map, Text
from pycrdt._pycrdt import Array as _CoreArray
from pycrdt._pycrdt import Map as _CoreMap
from pycrdt._pycrdt import MapEvent as _CoreMapEvent
from pycrdt._pycrdt import Text as _CoreText

from crdtspace.errors import NodeNotFound
from crdtspace.model.collect import DeleteCheck
from crdtspace.model.logcache import LogCache, NodeEntries, read_list
from crdtspace.model.logentry import LogEntry
from crdtspace.model.nodebuild import NodeBuilder

__all__ = ["ROOTS", "Document", "ids_in", "read_list"]

ROOTS = (
    *("files", "nodes", "gitonly", "agents", "meta"),
    *("edited", "resolutions", "reports", "claims"),
)
"""The document's roots, every one a Map (the schema above; ``claims``: see
`crdtspace.model.claims`)."""


class Document(NodeBuilder):
    """Typed access to one workspace's pycrdt Doc (creating nodes: `NodeBuilder`)."""

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
        self.edited_changes = 0
        """Transactions that changed `edited` so far (its length costs what it holds in yrs:
        a merge asks this instead whether nodes became edited)."""
        try:
            self._edited_watch: Any = self.edited.integrated.observe(self._edited_changed)
        except AttributeError:  # pragma: no cover  (pycrdt changed: its public observer)
            self._edited_watch = self.edited.observe(self._edited_changed)
        # Conflict resolutions, one key per resolution: "<conflict id>/<entry id>" -> entry.
        self.resolutions: Map[Any] = doc.get("resolutions", type=Map)
        # What each replica last said it had seen (client id -> {agent, seen}); see report().
        self.reports_map: Map[Any] = doc.get("reports", type=Map)
        self._edited_known: set[str] = set()
        self._strays: dict[str, list[str]] | None = None
        self._needed: dict[str, tuple[NodeEntries, int, dict[int, int]]] = {}
        # Each log entry decoded once (see crdtspace.model.logcache); a decoded log read
        # first after a remote update is checked against its newest item (`log_entries`).
        self.logs = LogCache()
        self._remote_updates = 0  # (`forget_caches` calls)
        self._read_after: dict[str, int] = {}  # node -> `_remote_updates` at its log's last read
        self._rewritten: set[Any] = set()  # (see `take_rewritten`)
        self._deletes = DeleteCheck(doc)  # (see `receive`)
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
            self._log_cache.pop(nid, None)
            found = self._shape_slow(nid)
        if isinstance(found, str):
            if found != "no such node":
                self._broken[nid] = found
            self._node_cache.pop(nid, None)
            self._log_cache.pop(nid, None)
            return found
        node, parent = found  # (`_shape` cached the log it found: a peer may have put another)
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
            log = get(t, "log") if "log" in keys else None
            if type(log) is not _CoreArray:
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
            self._log_cache[nid] = Array(_doc=self.doc, _integrated=log)  # (as node["log"])
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
        with self.doc.transaction():  # (one for the reads below, each of which would open one)
            return self._path_of(nid)

    def _path_of(self, nid: str) -> str | None:
        seen: set[str] = set()
        while nid not in seen:
            seen.add(nid)
            if not self.has_node(nid):
                return None
            parent = self.parent(nid)
            if not parent:
                path, listed = self._root_listing(nid)
                if path and (nid in listed or nid in self._stray_roots().get(path, ())):
                    return path
                return None
            if not self.has_node(parent) or nid not in self.children(parent):
                return None
            nid = parent
        return None

    def _root_listing(self, nid: str) -> tuple[str, list[str]]:
        """A root node's path ("" if none, or no file has it) and the ids its files entry
        lists (`listed`), read through pycrdt's core in one transaction (a node's path is
        asked for at every write: the public API's reads cost 4x more); `nid` has the
        schema's shape (`has_node`)."""
        try:
            with self.doc.transaction() as txn:
                t: Any = txn._txn
                node: Any = self.nodes.integrated.get(t, nid)
                path = node.get(t, "path") if node.has(t, "path") else ""
                if not path or not self.files.integrated.has(t, path):
                    return "", []
                entry: Any = self.files.integrated.get(t, path)
                if type(entry) is _CoreArray:
                    ids = json.loads(entry.to_json(t))
                else:
                    ids = list(entry) if isinstance(entry, list | tuple) else []
        except (AttributeError, TypeError, ValueError, RecursionError):  # pragma: no cover
            path = self.node(nid).get("path")  # (pycrdt changed, or a list nested too deep)
            if not path or str(path) not in self.files:
                return "", []
            path = str(path)
            return path, self.listed(path)
        return str(path), [r for r in ids if type(r) is str]

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
        """A node's entries, oldest first. An item that does not have the shape of an entry
        (a damaged or hostile peer's update) is left out, not fatal."""
        return self.log_entries(nid).oldest_first()

    def log_entries(self, nid: str) -> NodeEntries:
        """A node's decoded log (`LogCache`: entries decoded once, heads, creation)."""
        seen, now = self._read_after.get(nid, -1), self._remote_updates
        if seen != now:
            self._read_after[nid] = now
        return self.logs.get(nid, self._log_array(nid), verify=seen != now)

    def _log_array(self, nid: str) -> Array[Any]:
        log = self._log_cache.get(nid)
        if log is None:
            log = self._log_cache[nid] = self.node(nid)["log"]
        return log

    def heads(self, nid: str) -> tuple[str, ...]:
        """Entries of the node's log no other entry has seen: more than one = concurrent edits."""
        return self.log_entries(nid).heads

    def append_log(self, nid: str, entry: LogEntry) -> None:
        # Prepended: a node's log items interleave (by clock) with its text's, so yrs cannot
        # squash them, and inserting at the end walks every item (O(n) per edit of a node
        # typed into for a long time); inserting at 0 is O(1).
        log = self._log_array(nid)
        log.insert(0, entry.to_value())
        self.logs.appended(nid, len(log), entry)
        if entry.op in ("create", "delete"):
            self._strays = None
        self.mark_edited(nid)

    def mark_edited(self, nid: str) -> None:
        if nid not in self._edited_known:
            if nid not in self.edited:
                self.edited[nid] = True
            self._edited_known.add(nid)

    def _edited_changed(self, _event: Any) -> None:
        self.edited_changes += 1

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
        # A log only grows: only the entries that arrived since the last call are read.
        held = self.log_entries(nid)
        known = self._needed.get(nid)
        if known is None or known[0] is not held:
            known = (held, 0, {})
        _, done, found = known
        for entry in held.arrivals[done:]:
            client = entry.client
            found[client] = max(found.get(client, 0), entry.clock(client) + 1)
        self._needed[nid] = (held, len(held.arrivals), found)
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

    def receive(self, updates: Iterable[bytes] = ()) -> Receiving:
        """Around the merge of remote `updates`, until the returned watch is closed: the logs
        it changed other than by adding entries (items deleted or replaced, the log or the
        node map itself replaced: a peer that rewrote history, or a squash) are forgotten, so
        their next read decodes them whole, as a fresh replica would. (The log cache reads
        only new items: it cannot see an item replaced behind the ones it checks.) Whether a
        log lost items is asked of yrs's event only when the updates delete anything at all
        (`DeleteCheck`, asked here, before the merge): yrs works out an array event's changes
        over the whole array (0.5 ms at 10,000 entries)."""
        listed = list(updates)
        deletes = not listed or any(map(self._deletes.deletes, listed))
        return Receiving(self, deletes)

    def _received(self, damaged: set[Any], every: bool) -> None:
        if every or _EVERY in damaged:
            self.logs.clear()
            self._log_cache.clear()
            self._rewritten.add(_EVERY)
            return
        for nid in damaged:
            self.logs.forget(nid)
            self._log_cache.pop(nid, None)
        self._rewritten |= damaged

    def take_rewritten(self) -> tuple[set[str], bool]:
        """The nodes whose log remote updates changed other than by adding entries since the
        last call (`receiving`), and whether that may be every node: an observer of a log (the
        fold's `LogWatch`) may be watching an Array a peer replaced."""
        rewritten, self._rewritten = self._rewritten, set()
        every = _EVERY in rewritten
        return {n for n in rewritten if isinstance(n, str)}, every

    def forget_caches(self) -> None:
        """Called after remote updates: cached parents may be stale, and decoded logs are
        checked once against their newest item (a peer may have put another map there): each
        when it is next read (a set of every decoded log, made at every merge, cost what the
        document held)."""
        self._remote_updates += 1
        self._parent_cache.clear()
        self._broken.clear()
        self._strays = None


class Receiving:
    """`Document.receive`'s watch of yrs's events while remote updates merge."""

    def __init__(self, document: Document, deletes: bool) -> None:
        self._document = document
        self._damaged: set[Any] = set()
        callback = partial(_log_damage, self._damaged, deletes)
        try:
            self._subscription: Any = document.nodes.integrated.observe_deep(callback)
        except AttributeError:  # pragma: no cover  (pycrdt changed: forget every log)
            self._subscription = None

    def close(self) -> None:
        """Stop watching; forget the logs the merge changed other than by adding entries."""
        if self._subscription is not None:
            self._subscription.drop()
        self._document._received(self._damaged, self._subscription is None)


_EVERY = object()
"""In `receiving`'s damaged nodes: an event could not be read (every log is forgotten)."""


def _log_damage(damaged: set[Any], deletes: bool, events: list[Any]) -> None:
    """Note in `damaged` the nodes whose log these events (yrs's own, of the nodes map, deep)
    changed other than by inserting items: a node added, replaced or deleted, its log key
    set, items of its log deleted, or something inside an item changed."""
    try:
        for event in events:
            path = event.path
            if not path:  # the nodes map itself
                damaged.update(str(key) for key in event.keys)
            elif len(path) == 1:
                a_map = type(event) is _CoreMapEvent  # (a node map's keys, not a text's)
                if a_map and "log" in event.keys:
                    damaged.add(str(path[0]))
            elif path[1] == "log" and (len(path) > 2 or _lost_items(event, deletes)):
                damaged.add(str(path[0]))
    except Exception:  # (raised into yrs it would be lost: every log is read again)
        damaged.add(_EVERY)


def _lost_items(event: Any, deletes: bool) -> bool:
    """Whether a log's array event deleted items (read only when something was deleted)."""
    return deletes and any("delete" in change for change in event.delta)


def _ordered(value: Any) -> Any:
    """`value` with the keys of its dicts sorted: a map inside an Array's item comes out of
    yrs in no fixed order (each replica its own), and what is said of it must not differ."""
    if isinstance(value, dict):
        return {k: _ordered(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_ordered(v) for v in value]
    return value


def ids_in(value: Any) -> list[Any]:
    """The items of a files entry or body: an Array's, a plain list's (as a peer may write it),
    else none."""
    if isinstance(value, Array):
        return read_list(value)
    if isinstance(value, list | tuple):
        return list(value)
    return []


def _short(value: Any) -> str:
    text = repr(_ordered(value))
    return text if len(text) <= 40 else text[:37] + "..."
