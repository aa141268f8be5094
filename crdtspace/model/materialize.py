"""Open overlaps, shown as git shows a conflict: both sides and the base, never interleaved.

Two rewrites of one line merge, in the CRDT, character by character: the node's text holds
both insertions interleaved (``TllWhether debug mode is on``), which nobody wrote. Until the
overlap is resolved, reads show the node *materialized* instead (as jj materializes
conflicts): a line-level three-way merge of the node's base (the fork of its heads) and each
side, where the changes that touch different lines are merged and the ones that clash are a
git-style block naming the agents::

    <<<<<<< alice
    alice's lines
    ||||||| base
    the base's lines
    =======
    bob's lines
    >>>>>>> bob

The view is a pure function of the node's log (sides in the order of their agents' names), so
every replica shows the same bytes. Markers rather than "one side, with the other kept in the
conflict": a reader who sees one side only would build on it and undo the other side without
knowing it existed; the markers make a write that keeps them fail to parse, which the gate
refuses. More than two concurrent sides are shown as one block with a section per side.

The document itself keeps the CRDT's merged text: the view is computed on read. A write that
gives back a node's view unchanged leaves the node as it is (`unmaterialize`); one that gives
text without markers is an edit that has seen every side, which resolves the overlap; one
that keeps any marker line of a view, a whole block or a piece of one, is refused
(`has_markers`), so the document never holds the views' markers and a view never nests one
block inside another.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from crdtspace.errors import NodeNotFound
from crdtspace.model.document import Document
from crdtspace.model.history import History, Texts, changed, overlapping
from crdtspace.model.sequences import SequenceMatcher

MARKER = 7
OPEN, BASE, SPLIT, CLOSE = "<" * MARKER, "|" * MARKER, "=" * MARKER, ">" * MARKER
MARKERS = frozenset((OPEN, BASE, SPLIT, CLOSE))


@dataclass(frozen=True)
class Sides:
    """A node in an open overlap: its base texts and each side's (agent, texts), sorted."""

    nid: str
    base: Texts
    sides: tuple[tuple[str, Texts], ...]

    def view(self, part: str) -> str:
        """The materialized text of one part (``text``, ``head`` or ``tail``)."""
        base = self.base.get(part, "")
        texts = [(agent, texts.get(part, "")) for agent, texts in self.sides]
        if all(text == texts[0][1] for _, text in texts):
            return texts[0][1]
        if len(texts) == 2:
            return merge3(base, texts[0], texts[1])
        return merge_many(base, texts)


def overlapped(document: Document, nid: str, history: History | None = None) -> Sides | None:
    """The sides of a node whose concurrent heads changed the same lines, else None."""
    if len(document.heads(nid)) < 2:
        return None
    history = history or History(document)
    log = history.node_log(nid)
    if len(log.heads) < 2:
        return None
    fork = history.fork_texts(nid, log.heads)
    live = [
        (log.entries[h].agent, after)
        for h in log.heads
        if log.entries[h].op != "delete" and changed(fork, after := history.after(nid, h))
    ]
    if len(live) < 2:
        return None
    if not any(overlapping(fork, a, b) for i, (_, a) in enumerate(live) for _, b in live[i + 1 :]):
        return None
    sides = sorted(live, key=lambda s: (s[0], sorted(s[1].items())))
    return Sides(nid, fork, tuple(sides))


WALK_ABOVE = 64
"""Above this many edited nodes, `in_file` looks only at the file's own nodes (a walk from its
roots) rather than asking every edited node for its heads: the edited nodes only grow, and each
one's heads cost a read of its log's length (2,000 of them: 5 ms a write)."""


def in_file(
    document: Document, path: str, history: History | None = None, *, walk_above: int = WALK_ABOVE
) -> dict[str, Sides]:
    """Every node of a file that is in an open overlap, by id."""
    out: dict[str, Sides] = {}
    edited = document.edited_nodes()  # (only an edited node can have concurrent heads)
    if len(edited) > walk_above:
        known = set(edited)
        edited = [n for n in file_nodes(document, path) if n in known]
    for nid in edited:
        if not document.has_node(nid) or len(document.heads(nid)) < 2:
            continue
        if document.path_of(nid) != path:
            continue
        history = history or History(document)
        found = overlapped(document, nid, history)
        if found is not None:
            out[nid] = found
    return out


def file_nodes(document: Document, path: str) -> list[str]:
    """The nodes a file renders: its roots and, below them, their children (every node whose
    `path_of` is `path` is among them; none when there is no such file)."""
    try:
        stack = list(reversed(document.roots(path)))
    except NodeNotFound:
        return []
    seen: dict[str, None] = {}
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen[nid] = None
        stack.extend(reversed(document.children(nid)))
    return list(seen)


def render_node(document: Document, nid: str, views: dict[str, Sides]) -> str:
    """A node's text with the nodes in `views` materialized."""
    if not views:
        return document.render_node(nid)
    out: list[str] = []
    _render_into(document, nid, views, out, set())
    return "".join(out)


def render(document: Document, path: str, views: dict[str, Sides]) -> str:
    if not views:
        return document.render(path)
    out: list[str] = []
    seen: set[str] = set()
    for root in document.roots(path):
        _render_into(document, root, views, out, seen)
    return "".join(out)


def _render_into(
    document: Document, nid: str, views: dict[str, Sides], out: list[str], seen: set[str]
) -> None:
    """`Document.render_into` with the nodes in `views` materialized (no recursion; a node
    reached twice renders once)."""
    stack: list[str | tuple[str]] = [nid]  # ids to open, and (tail,) to append
    while stack:
        item = stack.pop()
        if type(item) is tuple:
            out.append(item[0])
            continue
        if not isinstance(item, str) or item in seen:
            continue
        seen.add(item)
        node = document.node(item)
        found = views.get(item)
        if "text" in node:
            out.append(found.view("text") if found is not None else str(node["text"]))
            continue
        out.append(found.view("head") if found is not None else str(node["head"]))
        stack.append((found.view("tail") if found is not None else str(node["tail"]),))
        children: list[str | tuple[str]] = list(document.children(item))
        children.reverse()
        stack.extend(children)


def unmaterialize(document: Document, text: str, views: dict[str, Sides]) -> str:
    """A writer's text with each node view it gave back unchanged put back as the node's
    merged text (so the write leaves that node alone)."""
    for nid in sorted(views):
        shown = render_node(document, nid, views)
        if shown.count(OPEN) and text.count(shown) == 1:
            text = text.replace(shown, document.render_node(nid), 1)
    return text


def has_markers(text: str, allowed: str = "") -> bool:
    """Whether a text holds a conflict marker line that `allowed` does not hold as often.

    Any piece of a block counts, not only a whole one: a writer who cuts a view (keeps its
    opening lines and drops the closing one, or keeps one side with its separator) would
    otherwise put markers into the document as code, and the next view of the node would
    show them inside a new block, markers within markers. `allowed` is the document's own
    text of what is written: lines shaped like markers that it already holds (a test
    fixture of a merge, say) are content, and a writer may keep them."""
    found = _marker_lines(text)
    return bool(found) and bool(found - _marker_lines(allowed))


def _marker_lines(text: str) -> Counter[str]:
    """The lines shaped like conflict markers (as ``git diff --check`` finds them): seven of
    ``<``, ``|``, ``=`` or ``>``, then the end of the line or a space."""
    return Counter(
        line
        for line in text.splitlines()
        if line[:MARKER] in MARKERS and (len(line) == MARKER or line[MARKER].isspace())
    )


# -- the line merge -------------------------------------------------------------------------


def merge3(base: str, left: tuple[str, str], right: tuple[str, str]) -> str:
    """A line-level three-way merge; clashing chunks become marker blocks naming the agents."""
    b, a, c = (_lines(t) for t in (base, left[1], right[1]))
    in_a, in_c = _matches(b, a), _matches(b, c)
    out: list[str] = []
    i = j = k = 0
    while True:
        m = i
        while m < len(b) and (in_a[m] is None or in_c[m] is None):
            m += 1
        if m < len(b) and m == i and in_a[m] == j and in_c[m] == k:
            out.append(b[i])
            i, j, k = i + 1, j + 1, k + 1
            continue
        end_a = len(a) if m >= len(b) else in_a[m] or 0
        end_c = len(c) if m >= len(b) else in_c[m] or 0
        chunk_b, chunk_a, chunk_c = b[i:m], a[j:end_a], c[k:end_c]
        if chunk_a in (chunk_b, chunk_c):
            out.extend(chunk_c)
        elif chunk_c == chunk_b:
            out.extend(chunk_a)
        else:
            out.append(
                block("".join(chunk_b), [(left[0], "".join(chunk_a)), (right[0], "".join(chunk_c))])
            )
        if m >= len(b):
            return "".join(out)
        i, j, k = m, end_a, end_c


def merge_many(base: str, sides: list[tuple[str, str]]) -> str:
    """Three or more sides: the lines all of them (and the base) share at the start and at the
    end stay outside, the rest is one block with a section per side."""
    texts = [_lines(base), *(_lines(text) for _, text in sides)]
    shortest = min(len(t) for t in texts)
    head = 0
    while head < shortest and all(t[head] == texts[0][head] for t in texts):
        head += 1
    tail = 0
    while tail < shortest - head and all(t[-1 - tail] == texts[0][-1 - tail] for t in texts):
        tail += 1

    def middle(lines: list[str]) -> str:
        return "".join(lines[head : len(lines) - tail])

    named = zip(sides, texts[1:], strict=True)
    inner = block(middle(texts[0]), [(agent, middle(lines)) for (agent, _), lines in named])
    return "".join(texts[0][:head]) + inner + "".join(texts[0][len(texts[0]) - tail :])


def block(base: str, sides: list[tuple[str, str]]) -> str:
    """One conflict block: each side's text in turn, the base after the first."""
    first, *rest = sides
    out = [f"{OPEN} {first[0]}\n", _line(first[1]), f"{BASE} base\n", _line(base)]
    for agent, text in rest[:-1]:
        out += [f"{SPLIT} {agent}\n", _line(text)]
    last = rest[-1]
    out += [f"{SPLIT}\n", _line(last[1]), f"{CLOSE} {last[0]}\n"]
    return "".join(out)


def _line(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _matches(base: list[str], other: list[str]) -> list[int | None]:
    """For each base line, the index of the line it is matched with in `other` (or None)."""
    found: list[int | None] = [None] * len(base)
    matcher = SequenceMatcher(None, base, other, autojunk=False)
    for start, other_start, size in matcher.get_matching_blocks():
        for n in range(size):
            found[start + n] = other_start + n
    return found
