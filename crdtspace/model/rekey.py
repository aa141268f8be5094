"""Re-keying: a new text for (part of) a file becomes node operations on the existing tree.

The new text is segmented; its units are matched to existing nodes (kind+name, then identical
text, then similarity; leftovers across containers by kind+name, so a function moved into or out
of a class is a move); then the tree is brought to the new shape with the fewest operations:
char edits inside matched nodes, moves for reordered ones, creates and deletes for the rest.
Only the replica that made an edit re-keys it; merging remote updates never re-segments.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pycrdt import Array

from crdtspace.model.document import Document, read_list
from crdtspace.model.languages import Budget, Profile, profile_for
from crdtspace.model.segment import Seg, segment_file, segment_module
from crdtspace.model.textedit import common_prefix, common_suffix, diff, set_text
from crdtspace.model.textmap import FileIndex, Piece, Record

SIMILARITY = 0.55
"""Below this difflib ratio two units are different units, not one edited unit."""
LINE_SIMILARITY = 4000
"""A block of changed lines bigger than this (both sides) counts as wholly different when
measuring similarity, rather than being compared character by character."""
MAX_CANDIDATES = 24
"""Units compared by similarity per new unit (the nearest by position)."""

Touch = Callable[[str, str], None]
"""Records that a node was edited: (node id, op), op in create/edit/move/delete."""


@dataclass(frozen=True)
class Keep:
    """In a desired child list: this existing node, exactly as it is."""

    id: str


Desired = Seg | Keep


@dataclass
class Result:
    """What a re-key did, by node id."""

    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    first: int = 0
    """Of a re-key of top-level slots: the first and last slot it covered, before it."""
    last: int = -1
    reshaped: bool = False
    """Whether node texts or the tree changed: a FileIndex of those slots is out of date."""

    @property
    def structural(self) -> bool:
        return bool(self.created or self.deleted or self.moved)


class Rekeyer:
    """Brings one container's subtree to a desired segment tree."""

    def __init__(
        self,
        document: Document,
        touch: Touch,
        new_id: Callable[[], str],
        record: Record | None = None,
    ) -> None:
        self.doc = document
        self.touch = touch
        self.record = record
        self.new_id = new_id
        self.match: dict[int, str] = {}  # id(seg) -> node id
        self.parent_of: dict[int, str] = {}  # id(seg) of a planned container child -> container
        self.orphans: dict[str, str] = {}  # unmatched old node -> its container
        self.fresh: list[Seg] = []
        self.result = Result()
        self._text_cache: dict[str, str] = {}

    def run(self, container: str, desired: Seg) -> Result:
        self._plan(container, desired)
        self._match_leftovers()
        self._detach(container)
        self._apply(container, desired)
        return self.result

    # -- planning (no writes) ------------------------------------------------------------

    def _plan(self, container: str, seg: Seg) -> None:
        kept = {c.id for c in seg.children if isinstance(c, Keep)}
        old = [c for c in self.doc.children(container) if c not in kept]
        new = [c for c in seg.children if isinstance(c, Seg)]
        pairs = self._match_children(old, new)
        matched_old = set(pairs.values())
        for child in new:
            self.parent_of[id(child)] = container
            if id(child) in pairs:
                nid = pairs[id(child)]
                self.match[id(child)] = nid
                if child.is_container:
                    self._plan(nid, child)
            else:
                self.fresh.append(child)
        for nid in old:
            if nid not in matched_old:
                self.orphans[nid] = container

    def _match_children(self, old: list[str], new: list[Seg]) -> dict[int, str]:
        pairs: dict[int, str] = {}
        free_old = list(old)
        free_new = list(new)
        self._pair_namesakes(free_old, free_new, pairs)
        self._pair_by(free_old, free_new, pairs, lambda n: self._named_key(n), _seg_named_key)
        self._pair_by(free_old, free_new, pairs, lambda n: self._text_key(n), _seg_text_key)
        self._pair_similar(free_old, free_new, pairs, old)
        return pairs

    def _pair_namesakes(
        self, free_old: list[str], free_new: list[Seg], pairs: dict[int, str]
    ) -> None:
        """Pair units that share a kind and name with others (overloads) by text: identical
        first, then the most similar; pairing them by position alone would swap their texts
        (and keys) when they trade places or one of them goes."""
        old_keys = {nid: self._named_key(nid) for nid in free_old}
        new_keys = {id(seg): _seg_named_key(seg) for seg in free_new}
        old_counts = Counter(k for k in old_keys.values() if k is not None)
        new_counts = Counter(k for k in new_keys.values() if k is not None)
        shared = [k for k in {**old_counts, **new_counts} if old_counts[k] > 1 or new_counts[k] > 1]
        old_at = {nid: i for i, nid in enumerate(free_old)}
        new_at = {id(seg): i for i, seg in enumerate(free_new)}
        for key in shared:
            olds = [nid for nid in free_old if old_keys[nid] == key]
            news = [seg for seg in free_new if new_keys[id(seg)] == key]
            if len(olds) * len(news) > MAX_CANDIDATES**2:
                continue  # dozens of namesakes: paired by position, as other units
            candidates = [
                (_similarity(self._text(nid), seg.render()), nid, seg)
                for nid in olds
                for seg in news
            ]
            # the most similar first; among equals, the nearest in position, then the first
            candidates.sort(
                key=lambda c: (-c[0], abs(old_at[c[1]] - new_at[id(c[2])]), old_at[c[1]])
            )
            for score, nid, seg in candidates:
                if score < SIMILARITY:
                    break
                if nid in free_old and id(seg) not in pairs:  # (by identity: twins are equal)
                    pairs[id(seg)] = nid
                    free_old.remove(nid)
        free_new[:] = [seg for seg in free_new if id(seg) not in pairs]

    def _pair_by(
        self,
        free_old: list[str],
        free_new: list[Seg],
        pairs: dict[int, str],
        old_key: Callable[[str], object],
        new_key: Callable[[Seg], object],
    ) -> None:
        waiting: dict[object, list[str]] = {}
        for nid in free_old:
            key = old_key(nid)
            if key is not None:
                waiting.setdefault(key, []).append(nid)
        for seg in list(free_new):
            key = new_key(seg)
            if key is None or not waiting.get(key):
                continue
            nid = waiting[key].pop(0)
            pairs[id(seg)] = nid
            free_old.remove(nid)
            free_new.remove(seg)

    def _pair_similar(
        self, free_old: list[str], free_new: list[Seg], pairs: dict[int, str], order: list[str]
    ) -> None:
        position = {nid: i for i, nid in enumerate(order)}
        for rank, seg in enumerate(list(free_new)):
            text = seg.render()
            shaped = [n for n in free_old if self.doc.is_container(n) == seg.is_container]
            shaped.sort(key=lambda n: abs(position.get(n, 0) - rank))
            best, best_score = None, SIMILARITY
            for nid in shaped[:MAX_CANDIDATES]:
                score = _similarity(self._text(nid), text)
                if self.doc.node(nid)["kind"] == seg.kind:
                    score += 0.05
                if score > best_score:
                    best, best_score = nid, score
            if best is not None:
                pairs[id(seg)] = best
                free_old.remove(best)
                free_new.remove(seg)

    def _match_leftovers(self) -> None:
        """Pair units that left one container with units that arrived in another: moves."""
        by_key: dict[object, list[str]] = {}
        for nid in self.orphans:
            by_key.setdefault(self._named_key(nid), []).append(nid)
        for seg in list(self.fresh):
            key = _seg_named_key(seg)
            candidates = by_key.get(key) if key is not None else None
            if not candidates or len(candidates) != 1:
                continue
            nid = candidates.pop()
            del self.orphans[nid]
            self.fresh.remove(seg)
            self.match[id(seg)] = nid
            if seg.is_container:
                self._plan(nid, seg)

    def _named_key(self, nid: str) -> object:
        node = self.doc.node(nid)
        name = node["name"]
        return (node["kind"], name, "body" in node) if name else None

    def _text_key(self, nid: str) -> object:
        return (self.doc.is_container(nid), self._text(nid))

    def _text(self, nid: str) -> str:
        if nid not in self._text_cache:
            self._text_cache[nid] = self.doc.render_node(nid)
        return self._text_cache[nid]

    # -- applying ------------------------------------------------------------------------

    def _detach(self, top: str) -> None:
        """Take deleted nodes, and nodes moving to another container, out of their bodies."""
        leaving = dict(self.orphans)
        for seg_id, nid in self.match.items():
            old_parent = self.doc.parent(nid)
            if old_parent != self.parent_of.get(seg_id, old_parent):
                leaving[nid] = old_parent
        for nid, parent in leaving.items():
            self.doc.take_out(parent, nid)
            if nid in self.orphans:
                self.result.deleted.append(nid)
                self.touch(nid, "delete")

    def _apply(self, container: str, seg: Seg) -> None:
        self._set_text(container, "head", seg.head)
        self._set_text(container, "tail", seg.tail)
        desired: list[str] = []
        for child in seg.children:
            if isinstance(child, Keep):
                desired.append(child.id)
            elif id(child) in self.match:
                desired.append(self.match[id(child)])
            else:
                desired.append(self._create(child, container))
        self._order(container, desired)
        for child in seg.children:
            if isinstance(child, Seg) and id(child) in self.match:
                self._update(self.match[id(child)], child)

    def _order(self, container: str, desired: list[str]) -> None:
        """Put `desired` in order with few moves: the longest run already in order stays."""
        body = self.doc.node(container)["body"]
        children = self.doc.children(container)
        if children == desired:  # the usual case: nothing moved
            return
        where = {nid: i for i, nid in enumerate(children)}
        wanted = set(desired)
        stable = set(_longest_increasing([n for n in desired if n in where], where))
        current = read_list(body)
        for index in reversed(range(len(current))):
            nid = current[index]
            if nid in where and nid in wanted and nid not in stable:
                del body[index]
                del current[index]
        pos = 0
        for nid in desired:
            if nid in stable:
                pos = current.index(nid, pos) + 1
                continue
            body.insert(pos, nid)
            current.insert(pos, nid)
            pos += 1
            if nid in where or self.doc.parent(nid) != container:
                self.doc.set_parent(nid, container)
                self.result.moved.append(nid)
                self.touch(nid, "move")

    def _update(self, nid: str, seg: Seg) -> None:
        node = self.doc.node(nid)
        changed = False
        if node["kind"] != seg.kind:
            node["kind"] = seg.kind
            changed = True
        if node["name"] != seg.name:
            if self.record is not None:  # names are part of a node's history (renames)
                self.record(nid, "name", 0, str(node["name"]), seg.name)
            node["name"] = seg.name
            changed = True
        if seg.text is not None:
            changed = self._set_text(nid, "text", seg.text) or changed
        else:
            self._apply(nid, seg)
        if changed:
            self.result.edited.append(nid)
            self.touch(nid, "edit")

    def _set_text(self, nid: str, part: str, new: str) -> bool:
        text = self.doc.node(nid)[part]
        current = str(text)
        record = self.record
        log = None if record is None else lambda pos, old, ins: record(nid, part, pos, old, ins)
        if not set_text(text, current, new, log):
            return False
        if part != "text":
            self.result.edited.append(nid)
            self.touch(nid, "edit")
        return True

    def _create(self, seg: Seg, parent: str) -> str:
        created: list[str] = []

        def name(_seg: Seg, _key: str) -> str:
            nid = self.new_id()
            created.append(nid)
            return nid

        top = self.doc.add_seg(seg, parent, name)
        for nid in created:
            self.result.created.append(nid)
            self.touch(nid, "create")
        return top


def _seg_named_key(seg: Seg) -> object:
    return (seg.kind, seg.name, seg.is_container) if seg.name else None


def _seg_text_key(seg: Seg) -> object:
    return (seg.is_container, seg.render())


def _similarity(a: str, b: str) -> float:
    """difflib's ratio of two texts, computed by lines and then by characters inside the changed
    lines only: the plain character ratio is quadratic in the worst case (tens of milliseconds
    for two 2,000-character functions)."""
    total = len(a) + len(b)
    if not total:
        return 1.0
    # difflib's upper bounds first (real_quick_ratio, quick_ratio), without the position index
    # a SequenceMatcher of the whole texts would build
    if 2 * min(len(a), len(b)) < SIMILARITY * total:
        return 0.0
    if 2 * (Counter(a) & Counter(b)).total() < SIMILARITY * total:
        return 0.0
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    same = 0
    lines = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag == "equal":
            same += sum(len(line) for line in la[i1:i2])
        elif tag == "replace":
            block_a, block_b = "".join(la[i1:i2]), "".join(lb[j1:j2])
            if len(block_a) + len(block_b) <= LINE_SIMILARITY:  # else: a rewrite, count none
                chars = difflib.SequenceMatcher(None, block_a, block_b, autojunk=False)
                same += sum(m.size for m in chars.get_matching_blocks())
    return 2 * same / total


def _longest_increasing(items: Sequence[str], where: dict[str, int]) -> list[str]:
    """The longest subsequence of `items` already in rendered order: they stay where they are."""
    import bisect

    tails: list[int] = []
    tail_index: list[int] = []
    back: list[int] = [-1] * len(items)
    for i, nid in enumerate(items):
        value = where[nid]
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        back[i] = tail_index[k - 1] if k else -1
    out: list[str] = []
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        out.append(items[i])
        i = back[i]
    return out[::-1]


# -- whole files and windows of top-level slots -------------------------------------------
# A file's top level is a row of slots: 0 = the root's head, 1..n = its units, n+1 = its tail.
# An edit re-keys only the slots it touched: their new text is segmented on its own (a
# top-level unit parses alone), so a keystroke in a 3,000-line file parses one function.


def rekey_slots(
    document: Document,
    index: FileIndex,
    first: int,
    last: int,
    text: str,
    profile: Profile,
    rekeyer: Callable[[], Rekeyer],
    *,
    budget: Budget | None = None,
) -> Result | None:
    """Re-key slots first..last of a structured file, whose new text is `text` (the index holds
    the file as it is now, the other slots included); `budget`: the time its parse may take.

    Returns None when that text does not parse on its own (the caller falls back). The result
    says which slots it re-keyed (`first`..`last`, widened as the cut needed) and whether their
    pieces changed (`reshaped`: the index must re-read them, `FileIndex.replace_slots`)."""
    n = len(index.top)
    while True:
        seg = segment_module(text, profile, budget=budget)
        if seg is None:
            return None
        if seg.tail and last <= n:  # trailing comments belong to the next unit: widen
            last += 1
            text += index.text(last, last)
            continue
        if seg.head and first > 0:  # a byte-order mark only belongs at the very start
            first -= 1
            text = index.text(first, first) + text
            continue
        if first > 1 and _continues_previous(text):
            # An indented first line continues the unit before it (typing a body after
            # `def f():` parses on its own as a stray statement): take that unit in too.
            first -= 1
            text = index.text(first, first) + text
            continue
        break
    same = _same_cut(index, first, last, seg)
    if same is not None:
        # The usual case after typing inside units: the cut is the one the nodes already have
        # (same units, same boundaries), so at most a name or a kind changed.
        worker = rekeyer()
        return _rename(document, index, same, first, last, worker.touch, worker.record)
    node = document.node(index.root)
    top = index.top
    children: list[Desired] = [Keep(nid) for nid in top[: max(first - 1, 0)]]
    children += seg.children
    children += [Keep(nid) for nid in top[max(last, 0) :]]
    desired = Seg(
        node["kind"],
        node["name"],
        head=seg.head if first == 0 else index.text(0, 0),
        children=children,  # type: ignore[arg-type]
        tail=seg.tail if last == n + 1 else index.text(n + 1, n + 1),
    )
    result = rekeyer().run(index.root, desired)
    result.first, result.last, result.reshaped = first, last, True
    return result


def _same_cut(index: FileIndex, first: int, last: int, module: Seg) -> list[tuple[str, Seg]] | None:
    """(node id, new unit) for every unit of slots first..last when the index's pieces render
    exactly the new cut of those slots, piece for piece; None when the cut differs."""
    wanted: list[tuple[str, str, Seg | None]] = []
    if first == 0:
        wanted.append(("head", module.head, None))
    for child in module.children:
        _flatten(child, wanted)
    if last == len(index.top) + 1:
        wanted.append(("tail", module.tail, None))
    return _same_pieces(index.slot_pieces(first, last), wanted)


def _same_pieces(
    pieces: list[Piece], wanted: list[tuple[str, str, Seg | None]]
) -> list[tuple[str, Seg]] | None:
    if len(pieces) != len(wanted):
        return None
    pairs: list[tuple[str, Seg]] = []
    for piece, (part, text, seg) in zip(pieces, wanted, strict=True):
        if piece.part != part or piece.content != text:
            return None
        if seg is not None and part != "tail":
            pairs.append((piece.nid, seg))
    return pairs


def rekey_children(
    document: Document,
    index: FileIndex,
    slot: int,
    first: int,
    last: int,
    profile: Profile,
    rekeyer: Callable[[], Rekeyer],
    *,
    budget: Budget | None = None,
) -> Result | None:
    """Re-key children first..last (1-based) of the container at top-level slot `slot`.

    Their text is parsed between the container's own head and tail, so in its context (an
    indented method inside its class) but without the other children: typing in one method of
    a 1,000-line class parses one method. None when that does not give back one unit of the
    container's kind and name with the same head and tail (the caller re-keys the whole slot).
    """
    pieces = index.slot_pieces(slot, slot)
    head, tail = pieces[0], pieces[-1]
    if head.part != "head" or tail.part != "tail" or not 1 <= first <= last < tail.sub:
        return None
    region = [p for p in pieces if first <= p.sub <= last]
    text = "".join(p.content for p in region)
    module = segment_module(head.content + text + tail.content, profile, budget=budget)
    if module is None or module.head or module.tail or len(module.children) != 1:
        return None
    unit = module.children[0]
    kind, name = index.identity(document, head.nid)
    if (
        unit.text is not None
        or (unit.kind, unit.name) != (kind, name)
        or (unit.head, unit.tail) != (head.content, tail.content)
    ):
        return None
    wanted: list[tuple[str, str, Seg | None]] = []
    for child in unit.children:
        _flatten(child, wanted)
    same = _same_pieces(region, wanted)
    if same is not None:
        worker = rekeyer()
        return _rename(document, index, same, slot, slot, worker.touch, worker.record)
    old = document.children(head.nid)
    children: list[Desired] = [Keep(nid) for nid in old[: first - 1]]
    children += unit.children
    children += [Keep(nid) for nid in old[last:]]
    desired = Seg(
        kind,
        name,
        head=head.content,
        children=children,  # type: ignore[arg-type]
        tail=tail.content,
    )
    result = rekeyer().run(head.nid, desired)
    result.first, result.last, result.reshaped = slot, slot, True
    return result


def _flatten(seg: Seg, out: list[tuple[str, str, Seg | None]]) -> None:
    """A unit's pieces in render order, as (part, text, unit)."""
    if seg.text is not None:
        out.append(("text", seg.text, seg))
        return
    out.append(("head", seg.head, seg))
    for child in seg.children:
        _flatten(child, out)
    out.append(("tail", seg.tail, seg))


def _rename(
    document: Document,
    index: FileIndex,
    pairs: list[tuple[str, Seg]],
    first: int,
    last: int,
    touch: Touch,
    record: Record | None = None,
) -> Result:
    """Give matched nodes their new kind and name; their texts are already right."""
    result = Result(first=first, last=last)
    for nid, seg in pairs:
        if index.identity(document, nid) == (seg.kind, seg.name):
            continue
        node = document.node(nid)
        if node["kind"] != seg.kind:
            node["kind"] = seg.kind
        if node["name"] != seg.name:
            if record is not None:  # names are part of a node's history (renames)
                record(nid, "name", 0, str(node["name"]), seg.name)
            node["name"] = seg.name
        index.renamed(nid, seg.kind, seg.name)
        result.edited.append(nid)
        touch(nid, "edit")
    return result


def _continues_previous(text: str) -> bool:
    """Whether the first line with content is indented."""
    for line in text.splitlines():
        if line.strip():
            return line[0] in " \t"
    return False


def rekey_file(
    document: Document,
    path: str,
    new: str,
    rekeyer: Callable[[], Rekeyer],
    touch: Touch,
    record: Record | None = None,
    index: FileIndex | None = None,
) -> Result:
    """Make an existing file render `new`, re-keying only the top-level slots that changed.

    `index`, the file's current index if the caller keeps one, is used and kept exact (unless
    the file is a single leaf: then it is out of date afterwards)."""
    old = index.text() if index is not None else document.render(path)
    if old == new:
        return Result()
    roots = document.roots(path)
    profile = profile_for(path)
    if len(roots) == 1 and not document.is_container(roots[0]):
        return _rekey_leaf_file(document, path, roots[0], new, profile, rekeyer, touch, record)
    if index is None:
        index = FileIndex(document, path)
    if profile is not None and index.structured:
        first, last = _changed_slots(index, old, new)
        start, end = index.slot_range(first, last)
        region = new[start : end + len(new) - len(old)]
        result = rekey_slots(document, index, first, last, region, profile, rekeyer)
        if result is None:
            result = rekey_slots(document, index, 0, len(index.top) + 1, new, profile, rekeyer)
        if result is not None:
            if result.reshaped:
                index.replace_slots(document, result.first, result.last)
            return result
    return edit_piecewise(index, old, new, touch, record)


def edit_piecewise(
    index: FileIndex, old: str, new: str, touch: Touch, record: Record | None = None
) -> Result:
    """The fallback that cannot fail: char edits applied to the pieces, structure unchanged."""
    result = Result()
    for edit in reversed(diff(old, new)):
        index.edit(edit.pos, edit.delete, edit.insert, touch, record)
    result.edited.extend(dict.fromkeys(p.nid for p in index.pieces))
    return result


def _rekey_leaf_file(
    document: Document,
    path: str,
    root: str,
    new: str,
    profile: Profile | None,
    rekeyer: Callable[[], Rekeyer],
    touch: Touch,
    record: Record | None = None,
) -> Result:
    """A file kept as one leaf: edited as text, or given structure once it parses."""
    seg = segment_module(new, profile) if profile is not None else None
    if seg is None:
        text = document.node(root)["text"]
        log = None if record is None else lambda pos, old, ins: record(root, "text", pos, old, ins)
        set_text(text, str(text), new, log)
        touch(root, "edit")
        return Result(edited=[root])
    worker = rekeyer()
    new_root = worker._create(seg, "")
    document.nodes[new_root]["path"] = path
    roots = document.files[path]
    for index in reversed([i for i, nid in enumerate(roots) if nid == root]):
        del roots[index]
    roots.append(new_root)
    touch(root, "delete")
    worker.result.deleted.append(root)
    return worker.result


def create_file(document: Document, path: str, text: str, rekeyer: Callable[[], Rekeyer]) -> Result:
    """A new file: segmented and added whole."""
    worker = rekeyer()
    root = worker._create(segment_file(path, text).root, "")
    document.nodes[root]["path"] = path
    document.files[path] = Array([root])
    if path in document.gitonly:
        del document.gitonly[path]
    return worker.result


def _changed_slots(index: FileIndex, old: str, new: str) -> tuple[int, int]:
    prefix = common_prefix(old, new)
    suffix = common_suffix(old[prefix:], new[prefix:])
    start, end = prefix, len(old) - suffix
    if start == end:
        slot = index.pieces[index.locate(start)].slot
        return slot, slot
    touched = [
        p.slot
        for s, p in zip(index.starts, index.pieces, strict=True)
        if s < end and s + p.length > start
    ]
    return min(touched), max(touched)
