"""Re-keying a file: only the top-level slots (or one container's children) an edit touched.

A file's top level is a row of slots: 0 = the root's head, 1..n = its units, n+1 = its tail.
An edit re-keys only the slots it touched: their new text is segmented on its own (a
top-level unit parses alone), so a keystroke in a 3,000-line file parses one function. The
`Rekeyer` (`crdtspace.model.rekey`) brings the nodes of those slots to the new cut.
"""

from __future__ import annotations

from collections.abc import Callable

from pycrdt import Array

from crdtspace.model.affixes import common_prefix, common_suffix
from crdtspace.model.document import Document
from crdtspace.model.languages import Budget, Profile, profile_for
from crdtspace.model.rekey import Desired, Keep, Rekeyer, Result, Touch
from crdtspace.model.segment import Seg, segment_file, segment_module
from crdtspace.model.textedit import diff, set_text
from crdtspace.model.textmap import FileIndex, Piece, Record


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
