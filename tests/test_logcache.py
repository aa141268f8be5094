"""The decoded log cache: a merge decodes only the entries it brought, whatever the log's
length, and what the cache holds is what a fresh decode of the same document reads."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Map

from crdtspace import Workspace
from crdtspace.model.document import Document
from crdtspace.model.folding import LogWatch, duplicate_units, identical_folds
from crdtspace.model.history import History
from crdtspace.model.logentry import LogEntry
from crdtspace.model.versions import new_doc
from crdtspace.testing import make_repo

SOURCE = "import os\n\n\ndef parse(line):\n    return line.split()\n\n\ndef other():\n    pass\n"
AT = SOURCE.index("return") + len("return ")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("logcache") / "repo", {"app.py": SOURCE})


def _key(ws: Workspace, name: str) -> str:
    return next(e.key for e in ws.outline("app.py") if e.qualname == name)


def _typed(ws: Workspace, text: str, at: int = AT) -> None:
    """One splice, sealed: one log entry."""
    ws.splice("app.py", at, 0, text)
    ws.flush()


def _fresh(ws: Workspace) -> Document:
    """A document decoded from nothing, holding what `ws` holds."""
    doc = new_doc()
    doc.apply_update(ws.update_since())
    return Document(doc)


@pytest.mark.parametrize("length", [10, 300])
def test_a_merge_decodes_only_the_entries_it_brings(repo: Path, length: int) -> None:
    a = Workspace.from_commit(repo, agent="alice")
    b = Workspace.from_commit(repo, agent="bob")
    nid = _key(a, "parse")
    for _ in range(length):
        _typed(a, "x")
    b.apply_update(a.update_since(b.state()))
    assert len(b.document.log(nid)) == length
    for _ in range(5):
        before = b.document.logs.decoded
        _typed(a, "y")
        b.apply_update(a.update_since(b.state()))
        assert b.document.logs.decoded - before == 1  # the new entry, not the log
    assert b.render("app.py") == a.render("app.py")


def test_own_entries_are_never_decoded(repo: Path) -> None:
    a = Workspace.from_commit(repo, agent="alice")
    nid = _key(a, "parse")
    _typed(a, "x")
    a.document.log(nid)
    before = a.document.logs.decoded
    for _ in range(20):
        _typed(a, "x")
    assert len(a.document.log(nid)) == 21
    assert a.document.logs.decoded == before


def test_texts_after_a_new_head_cost_its_own_edits(repo: Path) -> None:
    # The fold rebuilds the new head's texts from its parent's, kept from the last merge: the
    # chain behind it is not walked again.
    a = Workspace.from_commit(repo, agent="alice")
    b = Workspace.from_commit(repo, agent="bob")
    nid = _key(a, "parse")
    for _ in range(50):
        _typed(a, "x")
    b.apply_update(a.update_since(b.state()))
    _typed(a, "y")
    b.apply_update(a.update_since(b.state()))
    head = b.document.heads(nid)[0]
    assert head in b.document.log_entries(nid).after
    parent = b.document.log_entries(nid).by_id[head].parents[0]
    assert parent in b.document.log_entries(nid).after


def _deliver_all(workspaces: list[Workspace], sent: list[bytes]) -> None:
    """Every replica gets every update. A merge can write updates of its own (folding
    identical concurrent changes): those too, until none is written ("the same updates")."""
    while True:
        known = len(sent)
        for ws in workspaces:
            for update in list(sent):
                ws.apply_update(update)
        if len(sent) == known:
            break


def _same_as_fresh(ws: Workspace) -> None:
    fresh = _fresh(ws)
    history, fresh_history = History(ws.document), History(fresh)
    for nid in ws.document.edited_nodes():
        if not ws.document.has_node(nid):
            continue
        assert ws.document.log(nid) == fresh.log(nid)
        assert ws.document.heads(nid) == fresh.heads(nid)
        entries = ws.document.log_entries(nid)
        assert entries.creation == fresh.log_entries(nid).creation
        for eid in entries.by_id:
            assert history.after(nid, eid) == fresh_history.after(nid, eid)


_REPLAYS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Property tests that replay seeded runs of several replicas (a module-wide repo)."""


@settings(_REPLAYS, max_examples=30)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    steps=st.integers(min_value=1, max_value=40),
)
def test_cached_logs_converge_with_a_fresh_decode(repo: Path, seed: int, steps: int) -> None:
    """Three replicas type into the same two functions and exchange random samples of their
    updates, shuffled and duplicated: each replica's cached logs, heads and texts are those of
    a fresh decode, every replica ends with the same bytes and conflicts, and the log names
    every typist."""
    rnd = random.Random(seed)
    workspaces = [Workspace.from_commit(repo, agent=f"agent{i}") for i in range(3)]
    sent: list[bytes] = []
    for ws in workspaces:
        ws.subscribe(sent.append)
    typists: set[str] = set()
    for _ in range(steps):
        actor = rnd.choice(workspaces)
        text = actor.document.render("app.py")  # an editor splices the merged text itself
        word = text.find(rnd.choice(["return ", "pass"]))
        at = word + rnd.randint(0, 3) if word >= 0 else rnd.randint(0, len(text))
        _typed(actor, rnd.choice(["a", "bc", " ", "é"]), at)
        typists.add(actor.agent)
        if rnd.random() < 0.5 and sent:
            target = rnd.choice(workspaces)
            for update in rnd.choices(sent, k=rnd.randint(1, len(sent))):
                target.apply_update(update)
            _same_as_fresh(target)
    for ws in workspaces:
        batch = sent + rnd.sample(sent, k=len(sent) // 2)
        rnd.shuffle(batch)
        for update in batch:
            ws.apply_update(update)
    _deliver_all(workspaces, sent)
    for ws in workspaces:
        _same_as_fresh(ws)
    rendered = [ws.render_all() for ws in workspaces]
    assert all(r == rendered[0] for r in rendered)
    analyses = [ws.analysis() for ws in workspaces]
    assert all(a == analyses[0] for a in analyses)
    agents = {
        e.agent
        for nid in workspaces[0].document.edited_nodes()
        for e in workspaces[0].document.log(nid)
    }
    assert typists <= agents


@pytest.mark.parametrize("added", [0, 1])
def test_a_peer_that_replaces_the_newest_entry_is_read_anew(repo: Path, added: int) -> None:
    """A peer deletes the newest entry of a log and puts another in its place (`added` more
    besides): the log's length tells nothing (or too little), yet the replica reads what a
    fresh decode does."""
    a = Workspace.from_commit(repo, agent="alice")
    nid = _key(a, "parse")
    for _ in range(3):
        _typed(a, "x")
    a.document.log(nid)  # (decoded and held)
    peer = new_doc()
    peer.apply_update(a.update_since())
    state = peer.get_state()
    log = Document(peer).node(nid)["log"]
    newest = dict(log[0])
    with peer.transaction():
        del log[0]
        log.insert(0, {**newest, "id": "99.1", "agent": "mallory"})
        for i in range(added):
            log.insert(0, {**newest, "id": f"99.{i + 2}", "parents": ["99.1"], "agent": "eve"})
    a.apply_update(peer.get_update(state))
    assert "mallory" in {e.agent for e in a.document.log(nid)}
    _same_as_fresh(a)


def _rewritten(ws: Workspace, nid: str, rewrite: Callable[[Array[Any]], None]) -> bytes:
    """The update of a peer that rewrites the node's log with pycrdt (one transaction)."""
    peer = new_doc()
    peer.apply_update(ws.update_since())
    state = peer.get_state()
    with peer.transaction():
        rewrite(Document(peer).node(nid)["log"])
    return bytes(peer.get_update(state))


def _merged_then_edited(repo: Path) -> tuple[Workspace, str]:
    """alice and bob change one line of parse at once (an overlap), alice resolves it by
    taking her side and edits parse again: one head, no conflict. Returns a third replica
    holding all of it, its conflicts read (so its caches hold that log), and parse's key."""
    a = Workspace.from_commit(repo, agent="alice")
    b = Workspace.from_commit(repo, agent="bob")
    nid = _key(a, "parse")
    text = a.read(nid)
    a.replace(nid, text.replace("line.split()", "line.split(',')"))
    b.replace(nid, text.replace("line.split()", "line.split(';')"))
    b.apply_update(a.update_since(b.state()))
    a.apply_update(b.update_since(a.state()))
    [overlap] = a.conflicts()
    a.resolve_conflict(overlap.id, take="alice")
    a.replace(nid, a.read(nid) + "    # checked\n")
    c = Workspace.from_commit(repo, agent="carol")
    c.apply_update(a.update_since(c.state()))
    c.apply_update(b.update_since(c.state()))
    assert len(c.document.heads(nid)) == 1
    assert c.conflicts() == []
    return c, nid


def test_a_peer_that_replaces_an_older_entry_is_read_anew(repo: Path) -> None:
    """A peer replaces an entry behind the newest (the merge of an overlap, by one that has
    seen only one side): the log's length and newest item are what they were, yet the replica
    reads the log as a fresh decode does, and reports the overlap a fresh replica reports."""
    c, nid = _merged_then_edited(repo)
    items = list(c.document.node(nid)["log"])
    at = next(i for i, item in enumerate(items) if len(item["parents"]) == 2)
    assert at > 0  # (not the newest: that one is checked after every merge)
    merge = items[at]

    def unmerge(log: Array[Any]) -> None:
        del log[at]
        log.insert(at, {**merge, "parents": merge["parents"][:1], "agent": "mallory"})

    update = _rewritten(c, nid, unmerge)
    c.apply_update(update)
    _same_as_fresh(c)
    assert len(c.document.heads(nid)) == 2
    fresh = Workspace(_fresh(c).doc, agent="fresh")
    assert [x.kind for x in fresh.conflicts()] == ["overlap"]
    assert c.conflicts() == fresh.conflicts()


def test_a_peer_that_replaces_a_whole_log_is_read_anew(repo: Path) -> None:
    """A peer puts a new Array in a node's `log` holding the same entries but the merge (as
    above): same length, same newest item, another Array."""
    c, nid = _merged_then_edited(repo)
    node = Document(c.doc).node(nid)
    items = list(node["log"])

    def relog(log: Array[Any]) -> None:
        kept = [{**i, "parents": i["parents"][:1]} if len(i["parents"]) == 2 else i for i in items]
        log.doc.get("nodes", type=Map)[nid]["log"] = Array(kept)

    c.apply_update(_rewritten(c, nid, relog))
    _same_as_fresh(c)
    fresh = Workspace(_fresh(c).doc, agent="fresh")
    assert [x.kind for x in fresh.conflicts()] == ["overlap"]
    assert c.conflicts() == fresh.conflicts()


@pytest.mark.parametrize("length", [20, 296])
def test_an_entry_replaced_deep_in_a_log_is_read_anew(repo: Path, length: int) -> None:
    """A peer replaces one entry far behind the newest in one transaction (deleted, and one
    like it put in its place), in a short log and in a long one (a log's array events are
    read only when the update deletes something): the replica reads it."""
    a = Workspace.from_commit(repo, agent="alice")
    nid = _key(a, "parse")
    for _ in range(length):
        _typed(a, "x")
    c = Workspace.from_commit(repo, agent="carol")
    c.apply_update(a.update_since(c.state()))
    assert len(c.document.log(nid)) == length  # (decoded: the cache holds it)
    at = length - 5

    def replace_one(log: Array[Any]) -> None:
        item = dict(log[at])
        del log[at]
        log.insert(at, {**item, "agent": "mallory"})

    c.apply_update(_rewritten(c, nid, replace_one))
    assert "mallory" in {e.agent for e in c.document.log(nid)}
    _same_as_fresh(c)


def test_a_log_a_peer_replaced_is_watched_anew(repo: Path) -> None:
    """The fold watches each edited node's log Array for new entries (`LogWatch`); after a peer
    put another Array in a node's `log`, entries added to that one are seen too (the old Array
    is no longer the node's)."""
    c, nid = _merged_then_edited(repo)
    items = list(c.document.node(nid)["log"])

    def relog(log: Array[Any]) -> None:
        log.doc.get("nodes", type=Map)[nid]["log"] = Array(items)

    c.apply_update(_rewritten(c, nid, relog))
    newest = dict(c.document.node(nid)["log"][0])

    def add(log: Array[Any]) -> None:
        log.insert(0, {**newest, "id": "77.1", "parents": [newest["id"]], "agent": "eve"})

    reported: list[list[str]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            LogWatch, "grown", lambda w, d: reported.append(_REAL_GROWN(w, d)) or reported[-1]
        )
        c.apply_update(_rewritten(c, nid, add))
    assert reported
    assert nid in reported[-1]
    assert "eve" in {e.agent for e in c.document.log(nid)}


def _entry_one_field_at_a_time(value: Any) -> LogEntry:
    """`LogEntry.from_value` as it was written first: every field converted on its own."""
    base = value.get("base")
    return LogEntry(
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
        squashed=tuple(
            sorted((str(a), int(n)) for a, n in dict(value.get("squashed") or {}).items())
        ),
    )


_ATOMS = st.one_of(
    st.text(max_size=4), st.integers(-3, 3), st.floats(allow_nan=False), st.none(), st.booleans()
)
_JSON = st.recursive(
    _ATOMS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)
_FIELDS = ("id", "agent", "parents", "op", "desc", "sv", "name", "edits", "base", "to", "squashed")


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.fixed_dictionaries(
            {"id": st.text(max_size=5), "agent": st.text(max_size=5)},
            optional={
                "parents": st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
                "sv": st.lists(st.tuples(st.integers(0, 9), st.floats(0, 9)), max_size=3),
                "edits": st.lists(
                    st.tuples(st.text(max_size=2), st.integers(0, 9), st.text(), st.text()),
                    max_size=2,
                ),
                "base": st.lists(st.tuples(st.text(max_size=3), st.text()), max_size=2),
                "squashed": st.dictionaries(st.text(max_size=3), st.integers(0, 9)),
            },
        ),
        st.dictionaries(st.sampled_from(_FIELDS), _JSON),
    )
)
def test_an_entry_is_read_as_its_fields_converted_one_at_a_time(value: dict[str, Any]) -> None:
    """Any item, well formed or a hostile peer's: the entry read, or the failure, is the one
    converting each field on its own gives (every replica reads the same entry)."""
    failures = (KeyError, TypeError, ValueError, AttributeError, OverflowError)
    try:
        expected: LogEntry | type[BaseException] = _entry_one_field_at_a_time(value)
    except failures as exc:
        expected = type(exc)
    try:
        got: LogEntry | type[BaseException] = LogEntry.from_value(value)
    except failures as exc:
        got = type(exc)
    assert got == expected
    if isinstance(got, LogEntry):
        assert {f: type(getattr(got, f)) for f in vars(got)} == {
            f: type(getattr(expected, f)) for f in vars(expected)
        }


_PARSE_TEXTS = [
    "def parse(line):\n    return line.split()\n",
    "def parse(line):\n    return line.strip()\n",
    "def parse(line):\n    return None\n",
]
_EXTRA = "\n\ndef extra():\n    pass\n"
_REAL_GROWN = LogWatch.grown


@settings(_REPLAYS, max_examples=25)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    steps=st.integers(min_value=1, max_value=25),
)
def test_the_folds_fast_path_reports_what_the_full_path_does(
    repo: Path, seed: int, steps: int
) -> None:
    """At every fold, the nodes the observers report (`LogWatch.grown`) are those whose log's
    length changed since the last fold, asked of every edited node; and the folds and the
    duplicate units found from them, with the cached logs, are those found from every such
    node of a document decoded afresh. Three replicas make identical and different edits and
    add identical units, and exchange random samples of their updates."""
    lengths: dict[int, dict[str, int]] = {}
    folds_checked = [0]

    def grown(watch: LogWatch, document: Document) -> list[str]:
        fast = _REAL_GROWN(watch, document)
        seen = lengths.setdefault(id(watch), {})
        full = []
        for nid in document.edited_nodes():
            if document.has_node(nid):
                length = len(document.node(nid)["log"])
                if seen.get(nid) != length:
                    full.append(nid)
                    seen[nid] = length
        assert fast == sorted(full)
        fresh = new_doc()
        fresh.apply_update(document.doc.get_update())
        again = Document(fresh)
        history, fresh_history = History(document), History(again)
        assert identical_folds(document, fast, history) == identical_folds(
            again, sorted(full), fresh_history
        )
        assert duplicate_units(document, fast, history) == duplicate_units(
            again, sorted(full), fresh_history
        )
        folds_checked[0] += 1
        return fast

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LogWatch, "grown", grown)
        _fold_with_three_replicas(repo, random.Random(seed), steps, folds_checked)


def _fold_with_three_replicas(
    repo: Path, rnd: random.Random, steps: int, folds_checked: list[int]
) -> None:
    workspaces = [Workspace.from_commit(repo, agent=f"agent{i}") for i in range(3)]
    sent: list[bytes] = []
    for ws in workspaces:
        ws.subscribe(sent.append)
    for _ in range(steps):
        actor = rnd.choice(workspaces)
        if rnd.random() < 0.7:
            actor.replace("app.py::parse", rnd.choice(_PARSE_TEXTS), base=actor.version())
        else:
            root = actor.document.roots("app.py")[0]
            actor.insert(root, _key(actor, "other"), _EXTRA, base=actor.version())
        if rnd.random() < 0.6 and sent:
            target = rnd.choice(workspaces)
            for update in rnd.sample(sent, k=rnd.randint(1, len(sent))):
                target.apply_update(update)
    _deliver_all(workspaces, sent)
    assert folds_checked[0] > 0 or not sent
    rendered = [ws.render_all() for ws in workspaces]
    assert all(r == rendered[0] for r in rendered)
