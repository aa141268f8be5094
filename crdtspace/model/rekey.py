"""Re-keying: a new text for (part of) a file becomes node operations on the existing tree.

The new text is segmented; its units are matched to existing nodes (kind+name, then identical
text, then similarity; leftovers across containers by kind+name, so a function moved into or out
of a class is a move); then the tree is brought to the new shape with the fewest operations:
char edits inside matched nodes, moves for reordered ones, creates and deletes for the rest.
Only the replica that made an edit re-keys it; merging remote updates never re-segments.
Which part of a file an edit re-keys (its top-level slots): `crdtspace.model.rekeyfile`.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from crdtspace.model.affixes import common_prefix, common_suffix
from crdtspace.model.document import Document, read_list
from crdtspace.model.segment import Seg
from crdtspace.model.sequences import SequenceMatcher
from crdtspace.model.textedit import (
    line_opcodes,
    longest_increasing,
    set_text,
)
from crdtspace.model.textmap import Record

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
        self._key_cache: dict[str, object] = {}  # (planning reads keys again and again)

    def run(self, container: str, desired: Seg) -> Result:
        self._plan(container, desired)
        self._match_leftovers()
        self._key_cache.clear()  # (planning is over: applying renames nodes)
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
            # The most similar first; among equals, the nearest in position, then the first
            # (olds, then news, in order). Each pair's score is only computed as far as that
            # order needs it (`_ranked`): a pair whose old or new unit is taken is never scored.
            texts = [seg.render() for seg in news]
            new_chars = [Counter(t) for t in texts]
            olds_text = [(nid, self._text(nid)) for nid in olds]
            old_chars = [Counter(t) for _, t in olds_text]
            steps = [
                _Similar(a, texts[j], old_chars[i], new_chars[j])
                for i, (_, a) in enumerate(olds_text)
                for j in range(len(news))
            ]
            keys = [
                (abs(old_at[nid] - new_at[id(seg)]), old_at[nid]) for nid in olds for seg in news
            ]

            def taken(k: int, olds: list[str] = olds, news: list[Seg] = news) -> bool:
                nid, seg = olds[k // len(news)], news[k % len(news)]
                return nid not in free_old or id(seg) in pairs  # (by identity: twins are equal)

            for k in _ranked(steps, keys, taken):
                nid, seg = olds[k // len(news)], news[k % len(news)]
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
        old_counts: dict[str, Counter[str]] = {}
        for rank, seg in enumerate(list(free_new)):
            text = seg.render()
            counts = Counter(text)
            shaped = [n for n in free_old if self.doc.is_container(n) == seg.is_container]
            shaped.sort(key=lambda n: abs(position.get(n, 0) - rank))
            candidates = []
            for nid in shaped[:MAX_CANDIDATES]:
                if nid not in old_counts:
                    old_counts[nid] = Counter(self._text(nid))
                bonus = 0.05 if self.doc.node(nid)["kind"] == seg.kind else 0.0
                candidates.append((self._text(nid), old_counts[nid], bonus))
            chosen = _most_similar(text, counts, candidates)
            best = None if chosen is None else shaped[chosen]
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
        if nid in self._key_cache:
            return self._key_cache[nid]
        node = self.doc.node(nid)
        name = node["name"]
        key = (node["kind"], name, "body" in node) if name else None
        self._key_cache[nid] = key
        return key

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
    similar = _Similar(a, b)
    while not similar.exact:
        similar.refine()
    return similar.value


class _Similar:
    """`_similarity(a, b)` in steps: `value` is an upper bound of it and `lower` a lower one,
    tighter at each `refine()`, until both are the value itself (`exact`). Most pairs compared
    never need the last, costly step (difflib inside the changed lines): their bounds already
    say whether they lose or win.

    0. the characters both texts hold (difflib's quick_ratio; 1.0 for equal texts, exact);
    1. the lines the line diff keeps, plus the characters both sides of each changed block hold
       (at least the lines it keeps, plus the longer of each changed block's common prefix and
       common suffix: difflib's first match in a block is its longest common substring);
    2. the value: the kept lines plus difflib's matching characters inside each changed block.
    """

    def __init__(
        self,
        a: str,
        b: str,
        counts_a: Counter[str] | None = None,
        counts_b: Counter[str] | None = None,
    ) -> None:
        self.a, self.b = a, b
        self.total = len(a) + len(b)
        self.exact = False
        self.value = self.lower = 1.0
        self._same = 0
        self._blocks: list[tuple[str, str]] = []
        if a == b:  # (exactly what the steps give: 2 * len(a) / (2 * len(a)), or no text)
            self.exact = True
            return
        # difflib's upper bounds first (real_quick_ratio, quick_ratio), without the position
        # index a SequenceMatcher of the whole texts would build
        if 2 * min(len(a), len(b)) < SIMILARITY * self.total:
            self.exact, self.value, self.lower = True, 0.0, 0.0
            return
        common = ((counts_a or Counter(a)) & (counts_b or Counter(b))).total()
        if 2 * common < SIMILARITY * self.total:
            self.exact, self.value, self.lower = True, 0.0, 0.0
            return
        self._step = 1
        self.value = 2 * common / self.total
        self.lower = 0.0

    def refine(self) -> None:
        """One step tighter (nothing once exact)."""
        if self.exact:
            return
        if self._step == 1:
            la, lb = self.a.splitlines(keepends=True), self.b.splitlines(keepends=True)
            same = bound = least = 0
            for tag, i1, i2, j1, j2 in line_opcodes(la, lb):
                if tag == "equal":
                    same += sum(len(line) for line in la[i1:i2])
                elif tag == "replace":
                    block_a, block_b = "".join(la[i1:i2]), "".join(lb[j1:j2])
                    if len(block_a) + len(block_b) <= LINE_SIMILARITY:  # else: a rewrite
                        self._blocks.append((block_a, block_b))
                        bound += (Counter(block_a) & Counter(block_b)).total()
                        # difflib (no junk) matches at least the longest common substring,
                        # which is at least the blocks' common prefix and common suffix
                        least += max(
                            common_prefix(block_a, block_b), common_suffix(block_a, block_b)
                        )
            self._same = same
            self._step = 2
            self.value = 2 * (same + bound) / self.total
            self.lower = 2 * (same + least) / self.total
            if not self._blocks:
                self.exact = True
                self.lower = self.value
            return
        same = self._same
        for block_a, block_b in self._blocks:
            chars = SequenceMatcher(None, block_a, block_b, autojunk=False)
            same += sum(m.size for m in chars.get_matching_blocks())
        self.exact = True
        self.value = self.lower = 2 * same / self.total


def _most_similar(
    text: str, counts: Counter[str], candidates: list[tuple[str, Counter[str], float]]
) -> int | None:
    """The index of the first candidate (text, its character counts, a bonus) of the highest
    similarity to `text` plus bonus, if above SIMILARITY. Candidates are scored step by step,
    the one of the highest upper bound first, until the bounds decide: one whose lower bound
    beats every other's upper bound (and SIMILARITY) is that candidate, whatever the exact
    values; no upper bound above SIMILARITY, none. Most are never scored in full."""
    scored = [_Similar(old, text, old_counts, counts) for old, old_counts, _bonus in candidates]
    bonuses = [bonus for _old, _counts, bonus in candidates]
    while True:
        uppers = [s.value + b for s, b in zip(scored, bonuses, strict=True)]
        if all(u <= SIMILARITY for u in uppers):
            return None
        lowers = [s.lower + b for s, b in zip(scored, bonuses, strict=True)]
        first = max(range(len(scored)), key=lambda i: (lowers[i], -i))
        if lowers[first] > SIMILARITY and all(
            uppers[j] < lowers[first] for j in range(len(scored)) if j != first
        ):
            return first
        open_ = [i for i, s in enumerate(scored) if not s.exact]
        if not open_:
            break
        scored[max(open_, key=lambda i: (uppers[i], -i))].refine()
    best, best_score = None, SIMILARITY
    for index, score in enumerate(uppers):  # (all exact: the first of the highest)
        if score > best_score:
            best, best_score = index, score
    return best


def _ranked(
    steps: list[_Similar], keys: list[tuple[int, int]], taken: Callable[[int], bool]
) -> Iterator[int]:
    """The indices of the pairs a greedy pairing takes: in order of (-similarity, key, index),
    those at or above SIMILARITY whose units are not `taken` yet (the caller takes them as they
    come). A pair is refined only when its bound is the least key left, and taken once it is
    exact or its lower bound beats every upper bound left, so the order is exactly that of
    sorting the exact values; a pair found taken is dropped unscored."""
    heap = [(-s.value, *keys[k], k) for k, s in enumerate(steps) if s.value >= SIMILARITY]
    heapq.heapify(heap)
    while heap:
        k = heapq.heappop(heap)[-1]
        if taken(k):
            continue
        similar = steps[k]
        # Next in order: exact, or sure to score above every pair left (their upper bounds).
        if similar.exact or (
            similar.lower >= SIMILARITY and (not heap or similar.lower > -heap[0][0])
        ):
            yield k
            continue
        similar.refine()
        if similar.value >= SIMILARITY:
            heapq.heappush(heap, (-similar.value, *keys[k], k))


def _longest_increasing(items: Sequence[str], where: dict[str, int]) -> list[str]:
    """The longest subsequence of `items` already in rendered order: they stay where they are."""
    return [items[i] for i in longest_increasing([where[nid] for nid in items])]
