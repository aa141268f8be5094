"""A replica reached through a plain Yjs server may receive any well-formed update, whatever it
does to the document's schema: every reader (render, outline, status, the conflict analysis,
the gate) still finishes, without RecursionError, KeyError, TypeError or AttributeError. What
is broken reads as nothing, is listed by `Document.malformed` and `conflicts`, and the gate
refuses to commit it."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import git as gitpython
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from crdtspace import Workspace
from crdtspace.errors import CrdtspaceError
from crdtspace.git import gate
from crdtspace.model.materialize import has_markers
from crdtspace.model.versions import new_doc
from crdtspace.testing import make_repo

APP = "def f():\n    return 1\n\n\nclass Box:\n    def put(self, x):\n        return x\n"
FILES = {"pkg/app.py": APP, "README.md": "# r\n", "notes.txt": "one\ntwo\n"}
Edit = Callable[[Doc[Any]], None]


# -- helpers -------------------------------------------------------------------------------


def hostile(ws: Workspace, edit: Edit) -> bytes:
    """The update a peer makes by editing a copy of `ws`'s doc with pycrdt directly."""
    doc = new_doc()
    doc.apply_update(ws.update_since())
    before = doc.get_state()
    with doc.transaction():
        edit(doc)
    return bytes(doc.get_update(before))


def nodes_of(doc: Doc[Any]) -> Map[Any]:
    nodes: Map[Any] = doc.get("nodes", type=Map)
    return nodes


def root_of(doc: Doc[Any], path: str) -> str:
    return str(doc.get("files", type=Map)[path][0])


def function_of(doc: Doc[Any]) -> str:
    """`def f` of pkg/app.py (a leaf)."""
    return str(nodes_of(doc)[root_of(doc, "pkg/app.py")]["body"][0])


def box_of(doc: Doc[Any]) -> str:
    """`class Box` of pkg/app.py (a container)."""
    return str(nodes_of(doc)[root_of(doc, "pkg/app.py")]["body"][1])


def mark(doc: Doc[Any], *nids: str) -> None:
    """Mark nodes edited, so the analysis looks at them and the gate renders their file."""
    edited = doc.get("edited", type=Map)
    for nid in nids:
        edited[nid] = True


def container(parent: str, body: list[Any], head: str = "(", tail: str = ")") -> Map[Any]:
    return Map(
        {
            "kind": "block",
            "name": "",
            "parent": parent,
            "head": Text(head),
            "tail": Text(tail),
            "body": Array(body),
            "log": Array(),
        }
    )


def read_everything(ws: Workspace) -> None:
    """Every reader; only crdtspace's own errors may come out (caught here per reader)."""
    calls: list[Callable[[], object]] = [ws.render_all, ws.status, ws.analysis, ws.conflicts]
    for path in ws.paths():
        calls += [partial(reader, path) for reader in (ws.render, ws.outline, ws.read, ws.log)]
    calls.append(lambda: ws.document.malformed())
    for call in calls:
        with contextlib.suppress(CrdtspaceError):
            call()


def received(ws: Workspace, update: bytes) -> Workspace:
    """A fresh replica holding `ws`'s state and the hostile update."""
    doc = new_doc()
    doc.apply_update(ws.update_since())
    fresh = Workspace(doc, agent="reader")
    fresh.apply_update(update)
    return fresh


def gate_steps(ws: Workspace, repo: Path) -> tuple[dict[str, tuple[bool, str]], list[str]]:
    """The gate's checks that read the document, on any replica with the repository, and the
    files it would commit from the document."""
    with gitpython.Repo(repo) as handle:
        base = handle.commit(str(ws.document.meta.get("base", "")))
        snap = gate.snapshot(ws, handle, base)
        report = gate.GateReport()
        gate.check_conflicts(ws, report, sorted(snap.changed))
        gate.check_syntax(base, snap.changed, report)
    return {s.name: (s.ok, s.detail) for s in report.steps}, sorted(snap.changed)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


# -- each named case -----------------------------------------------------------------------


def own_parent(doc: Doc[Any]) -> None:
    nid = box_of(doc)
    node = nodes_of(doc)[nid]
    node["parent"] = nid
    node["body"].append(nid)
    mark(doc, nid)


def two_node_cycle(doc: Doc[Any]) -> None:
    nodes = nodes_of(doc)
    a = box_of(doc)
    nodes["cycle-b"] = container(a, [a])
    nodes[a]["body"].append("cycle-b")
    nodes[a]["parent"] = "cycle-b"
    mark(doc, a, "cycle-b")


def deep_nesting(doc: Doc[Any], depth: int = 5000) -> None:
    nodes = nodes_of(doc)
    top = box_of(doc)
    parent = top
    for i in range(depth):
        nid = f"deep-{i}"
        nodes[nid] = container(parent, [])
        nodes[parent]["body"].append(nid)
        parent = nid
    mark(doc, parent)


def container_without_head(doc: Doc[Any]) -> None:
    nid = box_of(doc)
    del nodes_of(doc)[nid]["head"]
    mark(doc, nid)


def files_of_junk(doc: Doc[Any]) -> None:
    doc.get("files", type=Map)["junk.py"] = [1, 2.5, None]
    doc.get("files", type=Map)["README.md"] = "not a list"


def node_is_a_string(doc: Doc[Any]) -> None:
    nid = box_of(doc)
    nodes_of(doc)[nid] = "x"
    mark(doc, nid)


def body_entry_not_a_string(doc: Doc[Any]) -> None:
    nid = box_of(doc)
    nodes_of(doc)[nid]["body"].append(7)
    nodes_of(doc)[nid]["body"].append([1, [2]])
    mark(doc, nid)


def body_names_no_node(doc: Doc[Any]) -> None:
    nid = box_of(doc)
    nodes_of(doc)[nid]["body"].append("no-such-node")
    mark(doc, nid)


def text_is_a_number(doc: Doc[Any]) -> None:
    leaf = function_of(doc)
    nodes_of(doc)[leaf]["text"] = 5
    mark(doc, leaf)


CASES = {
    "own parent": own_parent,
    "two-node cycle": two_node_cycle,
    "5,000 levels": deep_nesting,
    "container without head": container_without_head,
    "files of junk": files_of_junk,
    "node is a string": node_is_a_string,
    "body entry not a string": body_entry_not_a_string,
    "body names no node": body_names_no_node,
    "text is a number": text_is_a_number,
}
MALFORMED = set(CASES) - {"5,000 levels"}  # (deep, but each node has its shape)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_named_case_reads_and_the_gate_refuses(repo: Path, case: str) -> None:
    with Workspace.init(repo, agent="lead") as home:
        update = hostile(home, CASES[case])
        home.apply_update(update)
        began = time.monotonic()
        read_everything(home)
        fresh = received(home, update)
        read_everything(fresh)
        assert time.monotonic() - began < 30
        assert home.render_all() == fresh.render_all()
        # the other files read as they were imported
        assert home.render("notes.txt") == FILES["notes.txt"]
        problems = home.document.malformed()
        if case in MALFORMED:
            assert problems, case
            broken = [c for c in home.analysis().broken if c.kind == "malformed"]
            if case != "files of junk":  # (no edited node there: conflicts does not look)
                assert broken, case
        report = home.commit("hostile", run_check=False)
        steps = {s.name: s for s in report.steps}
        if case in MALFORMED:
            assert not report.ok
            assert not steps["conflicts"].ok
            assert "malformed" in steps["conflicts"].detail
        else:
            assert report.ok, report.steps


def test_a_node_reached_twice_renders_once(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="lead")
    before = ws.render("pkg/app.py")

    def root_inside_its_function(doc: Doc[Any]) -> None:
        root, function = root_of(doc, "pkg/app.py"), box_of(doc)
        nodes_of(doc)[root]["parent"] = function
        nodes_of(doc)[function]["body"].append(root)

    ws.apply_update(hostile(ws, root_inside_its_function))
    assert ws.render("pkg/app.py") == before
    assert [e.qualname for e in ws.outline("pkg/app.py")] == ["f", "Box", "Box.put"]
    assert any("twice" in why for _, why in ws.document.malformed())


def test_a_cycle_of_parents_reads_as_nothing_and_is_listed(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="lead")
    ws.apply_update(hostile(ws, two_node_cycle))
    assert "def f" in ws.render("pkg/app.py")
    assert "class Box" not in ws.render("pkg/app.py")
    assert any("cycle" in why for _, why in ws.document.malformed())


def test_a_broken_node_reads_as_nothing(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="lead")
    ws.apply_update(hostile(ws, container_without_head))
    text = ws.render("pkg/app.py")
    assert "def f" in text
    assert "class Box" not in text
    assert [e.name for e in ws.outline("pkg/app.py")] == ["f"]
    (where, _why), *_ = [p for p in ws.document.malformed() if "no head" in p[1]]
    assert where == "pkg/app.py" or where in ws.document.nodes


def test_a_log_entry_with_an_infinite_number_is_left_out(repo: Path) -> None:
    # (a number yrs holds as a float: int() of an infinite one raised OverflowError, which no
    # reader caught, from every merge and read that decoded the log)
    ws = Workspace.from_commit(repo, agent="alice")
    nid = next(e.key for e in ws.outline("pkg/app.py") if e.qualname == "f")
    ws.replace(nid, "def f():\n    return 2\n")
    assert len(ws.document.log(nid)) == 1  # (decoded and held: the new item is read alone)

    def infinite(doc: Doc[Any]) -> None:
        log = nodes_of(doc)[nid]["log"]
        newest = dict(log[0])
        for i, field in enumerate(("sv", "edits", "squashed")):
            value: Any = {
                "sv": [[1, float("inf")]],
                "edits": [["text", float("-inf"), "", "x"]],
                "squashed": {"eve": float("inf")},
            }[field]
            log.insert(0, {**newest, "id": f"99.{i}", "parents": [newest["id"]], field: value})

    update = hostile(ws, infinite)
    ws.apply_update(update)
    assert [e.id for e in ws.document.log(nid)] == [ws.document.log(nid)[0].id]
    read_everything(ws)
    fresh = received(ws, update)  # (decodes the whole log)
    assert fresh.document.log(nid) == ws.document.log(nid)
    assert fresh.render("pkg/app.py") == ws.render("pkg/app.py")
    read_everything(fresh)


def test_deep_nesting_renders_every_level(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="lead")
    ws.apply_update(hostile(ws, lambda doc: deep_nesting(doc, 3000)))
    text = ws.render("pkg/app.py")
    assert "(" * 3000 + ")" * 3000 in text
    assert len(ws.outline("pkg/app.py")) > 3000
    assert ws.document.malformed() == []


def test_files_entries_of_junk(repo: Path) -> None:
    ws = Workspace.from_commit(repo, agent="lead")
    ws.apply_update(hostile(ws, files_of_junk))
    assert ws.render("junk.py") == ""
    assert ws.render("README.md") == ""
    assert ws.status().files == len(ws.paths())
    found = dict(ws.document.malformed())
    assert "README.md" in found
    assert "junk.py" in found
    steps, changed = gate_steps(ws, repo)
    assert "junk.py" in changed
    assert not steps["conflicts"][0]
    assert "junk.py" in steps["conflicts"][1]


def test_what_is_malformed_reads_the_same_on_every_replica(repo: Path) -> None:
    """A map a peer put where an id belongs comes out of yrs with its keys in another order
    on each replica: what `malformed` (and so the conflict layer) says of it does not."""
    ws = Workspace.from_commit(repo, agent="lead")
    update = hostile(
        ws, lambda doc: nodes_of(doc)[box_of(doc)]["body"].append(dict.fromkeys("abcdef", 0))
    )
    said = {tuple(received(ws, update).document.malformed()) for _ in range(5)}
    assert len(said) == 1
    [(_, why)] = said.pop()
    assert "{'a': 0, 'b': 0, 'c': 0" in why


# -- any shape -----------------------------------------------------------------------------

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=2)
    ),
    max_leaves=5,
)
KEYS = ("kind", "name", "parent", "path", "mode", "text", "head", "tail", "body", "log")


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """A few schema-breaking changes, as data: applied by `apply_edits` to the ids it finds."""
    op = st.one_of(
        st.tuples(st.just("replace"), st.integers(0, 99), JUNK),
        st.tuples(st.just("delete key"), st.integers(0, 99), st.sampled_from(KEYS)),
        st.tuples(
            st.just("set key"),
            st.integers(0, 99),
            st.sampled_from(KEYS),
            st.one_of(JUNK, st.sampled_from(["text", "array", "map", "id"])),
        ),
        st.tuples(st.just("parent"), st.integers(0, 99), st.integers(0, 99)),
        st.tuples(st.just("body"), st.integers(0, 99), st.one_of(JUNK, st.integers(0, 99))),
        st.tuples(st.just("files"), st.sampled_from([*sorted(FILES), "new.py"]), JUNK),
        st.tuples(st.just("files ids"), st.sampled_from(sorted(FILES)), st.integers(0, 99)),
        st.tuples(st.just("nest"), st.integers(0, 99), st.integers(1, 2500), st.booleans()),
        st.tuples(st.just("log"), st.integers(0, 99), JUNK, st.integers(0, 99)),
        st.tuples(st.just("drop"), st.integers(0, 99)),
        st.tuples(
            st.just("side"),
            st.sampled_from(["gitonly", "agents", "resolutions", "reports"]),
            st.text(max_size=3),
            JUNK,
        ),
    )
    return draw(st.lists(op, min_size=1, max_size=6))


def shaped(state: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    """The update a peer holding `state` makes by doing `ops` to its doc with pycrdt."""
    return peer_update(state, lambda doc: apply_edits(doc, ops))


def peer_update(state: bytes, change: Callable[[Doc[Any]], None]) -> bytes:
    """The update a peer holding `state` makes by `change` to its doc, in one transaction."""
    doc = new_doc()
    doc.apply_update(state)
    start = doc.get_state()
    with doc.transaction():
        change(doc)
    return bytes(doc.get_update(start))


def apply_edits(doc: Doc[Any], ops: list[tuple[Any, ...]]) -> None:
    nodes = nodes_of(doc)
    files = doc.get("files", type=Map)
    ids = sorted(nodes.keys())

    def pick(i: int) -> str:
        return ids[i % len(ids)]

    def shared(kind: str) -> Any:
        if kind == "text":
            return Text("t")
        return Array(["x"]) if kind == "array" else Map()

    for op in ops:
        name, *args = op
        node = nodes.get(pick(args[0])) if name not in ("files", "files ids", "side") else None
        if name == "replace":
            nodes[pick(args[0])] = args[1]
        elif name == "delete key" and isinstance(node, Map) and args[1] in node:
            del node[args[1]]
        elif name == "set key" and isinstance(node, Map):
            value = args[2]
            if value in ("text", "array", "map"):
                value = shared(value)
            elif value == "id":
                value = pick(args[0] + 1)
            node[args[1]] = value
        elif name == "parent" and isinstance(node, Map):
            node["parent"] = pick(args[1])  # (itself, a leaf, a descendant: a cycle...)
            target = nodes.get(pick(args[1]))
            if isinstance(target, Map) and isinstance(target.get("body"), Array):
                target["body"].append(pick(args[0]))
        elif name == "body" and isinstance(node, Map) and isinstance(node.get("body"), Array):
            entry = pick(args[1]) if isinstance(args[1], int) and args[1] >= 0 else args[1]
            node["body"].append(entry)
        elif name == "files":
            files[args[0]] = args[1]
        elif name == "files ids":
            files[args[0]] = Array([pick(args[1]), pick(args[1] + 1)])
        elif name == "nest" and isinstance(node, Map) and isinstance(node.get("body"), Array):
            top, depth, cyclic = pick(args[0]), args[1], args[2]
            parent = top
            for i in range(depth):
                nid = f"nest-{len(ids)}-{i}"
                nodes[nid] = container(parent, [top] if cyclic and i == depth - 1 else [])
                nodes[parent]["body"].append(nid)
                parent = nid
            if cyclic:
                nodes[top]["parent"] = parent
            mark(doc, parent)
        elif name == "log" and isinstance(node, Map) and isinstance(node.get("log"), Array):
            entry = args[1]
            if isinstance(entry, dict):
                entry = {"id": "1.1", "agent": "x", "parents": ["1.1"], **entry}
            node["log"].insert(0, entry)
            mark(doc, pick(args[0]), pick(args[2]))
        elif name == "drop" and pick(args[0]) in nodes:
            del nodes[pick(args[0])]
        elif name == "side":
            doc.get(args[0], type=Map)[args[1]] = args[2]
        if name != "side" and name != "files":
            mark(doc, pick(args[0]) if isinstance(args[0], int) else ids[0])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    root = make_repo(tmp_path_factory.mktemp("robust") / "repo", FILES)
    ws = Workspace.from_commit(root, agent="lead")
    ws.write("pkg/app.py", APP.replace("return 1", "return 2"))  # an edited node, a log entry
    return root, ws.update_since()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=edits())
def test_any_shape_leaves_every_reader_working(base: tuple[Path, bytes], ops: list[Any]) -> None:
    root, update = base
    hostile_update = shaped(update, ops)
    replica = new_doc()
    replica.apply_update(update)
    ws = Workspace(replica, agent="reader", root=root)
    began = time.monotonic()
    try:
        ws.apply_update(hostile_update)
    except CrdtspaceError:
        return
    read_everything(ws)
    steps, changed = gate_steps(ws, root)
    if ws.document.malformed(changed):
        # what the gate would commit from the document holds something malformed: refused
        assert not steps["conflicts"][0]
    assert time.monotonic() - began < 60


# -- replicas agree after a hostile peer (invariant 2) --------------------------------------

REWRITE = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 99), st.integers(0, 99)),
    *(
        st.tuples(
            st.just(kind),
            st.integers(0, 99),
            st.integers(0, 99),
            st.integers(0, 99),
            st.sampled_from(["keep", "first", "none", "all"]),
        )
        for kind in ("replace", "insert")
    ),
    st.tuples(st.just("relog"), st.integers(0, 99), st.randoms(use_true_random=False)),
)


@st.composite
def rewrites(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """A peer rewriting the history in nodes' logs, as data (`apply_rewrites`): an entry
    deleted, replaced or put in anywhere (its parents kept, cut to the first, dropped or made
    every entry of the log), or the log replaced by a new Array of its entries reordered."""
    return draw(st.lists(REWRITE, min_size=1, max_size=4))


def apply_rewrites(doc: Doc[Any], ops: list[tuple[Any, ...]]) -> None:
    nodes = nodes_of(doc)
    logged = sorted(nid for nid in nodes if _log_items(nodes, nid))
    for serial, op in enumerate(ops):
        if not logged:
            return
        name, which, *args = op
        nid = logged[which % len(logged)]
        items = _log_items(nodes, nid)
        if not items:  # (emptied by an op before)
            continue
        log = nodes[nid]["log"]
        if name == "delete":
            del log[args[0] % len(items)]
        elif name == "replace":
            at = args[0] % len(items)
            entry = {"id": f"ffff.{serial}", **_forged(items, args[1], args[2])}
            del log[at]
            log.insert(at, entry)
        elif name == "insert":
            entry = {**_forged(items, args[1], args[2]), "id": f"ffff.{serial}"}
            log.insert(args[0] % (len(items) + 1), entry)
        elif name == "relog":
            copied = [dict(i) if isinstance(i, dict) else i for i in items]
            args[0].shuffle(copied)
            nodes[nid]["log"] = Array(copied)


def _forged(items: list[Any], index: int, parents: str) -> dict[str, Any]:
    """A copy of one of the log's entries by mallory, its parents kept, cut to the first,
    dropped or made every entry of the log."""
    entries = [i for i in items if isinstance(i, dict)]
    entry = dict(entries[index % len(entries)]) if entries else {}
    found = [str(p) for p in entry.get("parents", [])]
    every = [str(e["id"]) for e in entries if "id" in e]
    entry["parents"] = {"keep": found, "first": found[:1], "none": [], "all": every}[parents]
    entry["agent"] = "mallory"
    return entry


def _log_items(nodes: Map[Any], nid: str) -> list[Any]:
    node = nodes.get(nid)
    log = node.get("log") if isinstance(node, Map) else None
    return list(log) if isinstance(log, Array) else []


def rewritten(state: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    """The update a peer holding `state` makes by rewriting logs (`apply_rewrites`)."""
    return peer_update(state, lambda doc: apply_rewrites(doc, ops))


Peer = Callable[[bytes, list[tuple[Any, ...]]], bytes]
LINES = {"f": "return 1", "Box.put": "return x"}


def _edit_a_line(ws: Workspace, name: str, mark: str) -> None:
    """`ws`'s agent changes one line of a unit (every agent the same line: overlaps)."""
    with contextlib.suppress(CrdtspaceError):  # (a file or node a peer broke is refused)
        found = [e for e in ws.outline("pkg/app.py") if e.qualname == name]
        if not found:  # (a peer broke it)
            return
        text = ws.read(found[0].key)
        if has_markers(text) or LINES[name] not in text:
            return
        ws.replace(found[0].key, text.replace(LINES[name], f"{LINES[name]}  # {mark}", 1))


def _resolve_one(ws: Workspace, rnd: random.Random) -> None:
    conflicts = [c for c in ws.conflicts() if c.kind == "overlap" and c.sides]
    if conflicts:
        conflict = rnd.choice(conflicts)
        with contextlib.suppress(CrdtspaceError):
            ws.resolve_conflict(conflict.id, take=rnd.choice(conflict.sides).agent)


def _same_logs_as(ws: Workspace, fresh: Workspace) -> None:
    """`ws`'s decoded logs (its caches) are those of `fresh` (decoded from nothing)."""
    for nid in ws.document.edited_nodes():
        if not ws.document.has_node(nid):
            assert not fresh.document.has_node(nid)
            continue
        assert ws.document.log(nid) == fresh.document.log(nid), nid
        assert ws.document.heads(nid) == fresh.document.heads(nid), nid
        mine, theirs = ws.document.log_entries(nid), fresh.document.log_entries(nid)
        assert mine.creation == theirs.creation, nid


def _fresh_replica(ws: Workspace, root: Path) -> Workspace:
    doc = new_doc()
    doc.apply_update(ws.update_since())
    return Workspace(doc, agent="fresh", root=root)


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("agree") / "repo", FILES)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 2**32),
    steps=st.integers(4, 24),
    peers=st.lists(
        st.tuples(st.just(rewritten), rewrites()) | st.tuples(st.just(shaped), edits()),
        min_size=1,
        max_size=3,
    ),
)
def test_conflicts_converge_after_a_hostile_peer(
    shared_repo: Path, seed: int, steps: int, peers: list[tuple[Peer, list[tuple[Any, ...]]]]
) -> None:
    """Three replicas change the same lines (overlaps), resolve some, read their conflicts
    as they go (so their caches hold what they read), and a hostile peer rewrites logs or
    breaks the schema in between; updates reach replicas in random samples, shuffled and
    duplicated. Each replica's decoded logs are always those of a fresh decode, and at the
    end every replica renders the same bytes and reports the same conflicts as a replica that
    took the final state in one update. (An update one replica refuses, every one refuses.)"""
    rnd = random.Random(seed)
    workspaces = [Workspace.from_commit(shared_repo, agent=f"agent{i}") for i in range(3)]
    sent: list[bytes] = []
    for ws in workspaces:
        ws.subscribe(sent.append)
    refused: list[set[int]] = [set() for _ in workspaces]

    def deliver(index: int, update_index: int) -> None:
        try:
            workspaces[index].apply_update(sent[update_index])
        except CrdtspaceError:
            refused[index].add(update_index)

    hostile_at = sorted(rnd.sample(range(steps), k=min(len(peers), steps)))
    for step in range(steps):
        actor = rnd.choice(workspaces)
        if step in hostile_at:
            make, ops = peers[hostile_at.index(step)]
            sent.append(make(actor.update_since(), ops))
            deliver(workspaces.index(actor), len(sent) - 1)
        elif rnd.random() < 0.15:
            _resolve_one(actor, rnd)
        else:
            _edit_a_line(actor, rnd.choice(sorted(LINES)), f"{actor.agent} {step}")
        if rnd.random() < 0.5 and sent:
            target = rnd.randrange(len(workspaces))
            for index in rnd.choices(range(len(sent)), k=rnd.randint(1, len(sent))):
                deliver(target, index)
            workspaces[target].analysis()  # (read as it goes: incremental from here)
            _same_logs_as(workspaces[target], _fresh_replica(workspaces[target], shared_repo))
    delivered = -1
    for _ in range(6):  # until merging writes nothing more (folds of identical changes)
        if delivered == len(sent):
            break
        delivered = len(sent)
        for target in range(len(workspaces)):
            batch = list(range(len(sent))) + rnd.sample(range(len(sent)), k=len(sent) // 2)
            rnd.shuffle(batch)
            for index in batch:
                deliver(target, index)
            workspaces[target].flush()
    assert delivered == len(sent), "replicas kept writing after merging"
    assert all(r == refused[0] for r in refused)
    fresh = _fresh_replica(workspaces[0], shared_repo)
    for ws in workspaces:
        _same_logs_as(ws, fresh)
    rendered = fresh.render_all()
    assert all(ws.render_all() == rendered for ws in workspaces)
    expected = fresh.analysis()
    for ws in workspaces:
        assert ws.analysis() == expected
