"""Segmentation: source text → a tree of units (containers and leaves), byte for byte.

A unit's text runs from the end of the unit before it to the end of its own last line, so the
comments, decorators and blank lines before a unit belong to it, and so does a comment trailing
its last line. A container is ``head + children + tail``. Concatenating everything gives the
source back exactly; `segment_module` checks that before returning, and returns None (the caller
then falls back to plain text) when the source does not parse or the check fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor

from crdtspace.model.languages import Budget, Profile, profile_for
from crdtspace.model.memo import TextMemo

TEXT_KIND = "text"
"""The kind of a file kept as one leaf: no grammar for it, or it does not parse."""

BOM = "\ufeff"


@dataclass
class Seg:
    """One unit of a segmented source: a leaf (``text``) or a container (head, children, tail)."""

    kind: str
    name: str
    text: str | None = None
    head: str = ""
    children: list[Seg] = field(default_factory=list)
    tail: str = ""

    @property
    def is_container(self) -> bool:
        return self.text is None

    def render(self) -> str:
        if self.text is not None:
            return self.text
        return self.head + "".join(c.render() for c in self.children) + self.tail


@dataclass(frozen=True)
class Segmentation:
    """A whole file cut into units, and why it is one leaf when it is."""

    root: Seg
    language: str | None
    fallback_reason: str | None = None


def segment_file(path: str, text: str) -> Segmentation:
    """Cut a whole file: structured when its language parses it, else one leaf of plain text."""
    profile = profile_for(path)
    if profile is None:
        return Segmentation(Seg(TEXT_KIND, "", text=text), None)
    root = segment_module(text, profile)
    if root is None:
        reason = f"does not parse as {profile.name}; kept as one leaf of plain text"
        return Segmentation(Seg(TEXT_KIND, "", text=text), profile.name, reason)
    return Segmentation(root, profile.name)


_CUTS: TextMemo[tuple[Profile, Seg | None]] = TextMemo(entries=32, chars=4 << 20, largest=256 << 10)
"""The last cuts made without a budget, by (profile, text), None for a text that does not
parse: one merge cuts the same version up to three times (to check that it parses, to import
it, to re-key it). (Larger texts are merged in a forked child, whose memory dies with it.)
The profile is keyed by identity (its query and settings make the cut), and held with the cut,
so that no other profile can take its id while the cut is held."""


def segment_module(text: str, profile: Profile, *, budget: Budget | None = None) -> Seg | None:
    """Cut source text as a module of `profile`'s language; None if it does not parse (or,
    with a `budget`, if parsing takes longer than it allows: see `Profile.parse_within`).

    Without a budget, a text cut recently is not cut again: a copy of that cut is returned
    (the caller owns it, as a fresh one)."""
    if budget is not None:
        return _segment_module(text, profile, budget)
    key = (str(id(profile)), text)
    held = _CUTS.get(key)
    if held is None or held[0] is not profile:
        seg = _segment_module(text, profile, None)
        _CUTS.put(key, (profile, None if seg is None else copy_seg(seg)))
        return seg
    return None if held[1] is None else copy_seg(held[1])


def copy_seg(seg: Seg) -> Seg:
    """A copy of a cut that shares nothing mutable with it."""
    return Seg(
        seg.kind, seg.name, seg.text, seg.head, [copy_seg(c) for c in seg.children], seg.tail
    )


def _segment_module(text: str, profile: Profile, budget: Budget | None) -> Seg | None:
    bom = BOM if text.startswith(BOM) else ""
    src = text[len(bom) :].encode("utf-8")
    tree = profile.parse(src) if budget is None else profile.parse_within(src, budget)
    if tree is not None and not bom:
        profile.parsed(text, not tree.root_node.has_error)
    if tree is None or tree.root_node.has_error:
        return None
    try:
        seg = _Cutter(src, profile, tree.root_node).module()
    except UnicodeDecodeError:  # a cut inside a character: never expected, but never fatal
        return None
    seg.head = bom + seg.head
    return seg if seg.render() == text else None


_Unit = tuple[str, str, "Node | None"]
"""A unit found by the query: its kind, its name, and the body node of a container (else None)."""


def _distance(ancestor: Node, node: Node) -> int:
    """How many levels `node` is below `ancestor` (0 when they are the same node)."""
    steps = 0
    while node != ancestor and node.parent is not None:
        node = node.parent
        steps += 1
    return steps


class _Cutter:
    """Walks one parsed source and cuts it at unit boundaries."""

    def __init__(self, src: bytes, profile: Profile, root: Node) -> None:
        self.src = src
        self.root = root
        self.trivia = profile.trivia
        self.max_depth = profile.max_start_depth
        self.cursor = QueryCursor(profile.units)
        # Units are the direct children of a container's body, so the query runs on each body
        # with a start depth of 1 instead of once on the whole tree: it then never walks the
        # statements inside functions (5-10x less matching on Python code).
        self.cursor.set_max_start_depth(1)

    def _units_in(self, body: Node, depth: int) -> dict[tuple[int, int, str], _Unit]:
        """The units among the children of `body` (at syntax depth `depth`), by position.

        A child deeper than the profile's max_start_depth is never a unit (as if the query had
        run on the whole tree with that start depth)."""
        found: dict[tuple[int, int, str], _Unit] = {}
        if depth + 1 > self.max_depth:
            return found
        for _, caps in self.cursor.matches(body):
            unit = caps["unit"][0]
            key = (unit.start_byte, unit.end_byte, unit.type)
            if key in found:
                continue
            # Names are read from the source, never `Node.text`: a tree parsed through a read
            # callback (a parse with a budget) reads its text through that callback again.
            names = caps.get("name")
            if not names:
                name = ""
            elif len(names) == 1:
                name = self._name(names[0])
            else:
                ordered = sorted(names, key=lambda n: n.start_byte)
                name = ".".join(self._name(n) for n in ordered)
            kind = caps["kind"][0].type if "kind" in caps else unit.type
            inner = caps["body"][0] if "body" in caps else None
            found[key] = (kind, name, inner)
        return found

    def _name(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def module(self) -> Seg:
        root = self.root
        return self._container(root.type, "", 0, len(self.src), root, 0, module=True)

    def _container(
        self,
        kind: str,
        name: str,
        start: int,
        end: int,
        body: Node,
        depth: int,
        *,
        module: bool = False,
    ) -> Seg:
        """A container from `start` to `end` whose units are the children of `body`."""
        trivia = self.trivia
        children = [c for c in body.named_children if c.type not in trivia]
        if not children:
            return Seg(kind, name, head=self._str(start, end))
        units = self._units_in(body, depth)
        pos = start if module else self._head_end(start, children[0])
        head = self._str(start, pos)
        segs: list[Seg] = []
        last = len(children) - 1
        for i, child in enumerate(children):
            nxt = children[i + 1].start_byte if i < last else None
            stop = min(self._extended_end(child, nxt), end)
            found = units.get((child.start_byte, child.end_byte, child.type))
            if found is None or found[2] is None:
                kind_, name_ = (found[0], found[1]) if found else (child.type, "")
                segs.append(Seg(kind_, name_, text=self._str(pos, stop)))
            else:
                inner = found[2]
                inner_depth = depth + 1 + _distance(child, inner)
                segs.append(self._container(found[0], found[1], pos, stop, inner, inner_depth))
            pos = stop
        return Seg(kind, name, head=head, children=segs, tail=self._str(pos, end))

    def _head_end(self, start: int, first: Node) -> int:
        """Where a container's head stops: after the line that opens its body."""
        limit = self._previous_token_end(first)
        newline = self.src.find(b"\n", limit, first.start_byte)
        if newline < 0:  # the first child shares the opening line: `class A: pass`
            return max(start, first.start_byte)
        return max(start, newline + 1)

    def _previous_token_end(self, node: Node) -> int:
        current: Node | None = node
        while current is not None:
            prev = current.prev_sibling
            while prev is not None and prev.type in self.trivia:
                prev = prev.prev_sibling
            if prev is not None:
                return prev.end_byte
            current = current.parent
        return 0

    def _extended_end(self, node: Node, next_start: int | None) -> int:
        """A unit's end, taken past trailing comments and its newline unless a sibling follows."""
        end = node.end_byte
        if next_start is not None and self.src.find(b"\n", end, next_start) < 0:
            return end
        stop = self._rest_of_line_is_trivia(end)
        if stop is None:
            return end
        return stop if next_start is None else min(stop, next_start)

    def _rest_of_line_is_trivia(self, pos: int) -> int | None:
        src, size = self.src, len(self.src)
        while True:
            while pos < size and src[pos] in b" \t\f\v":
                pos += 1
            if pos >= size:
                return size
            if src[pos] == 0x0A:
                return pos + 1
            if src.startswith(b"\r\n", pos):
                return pos + 2
            node = self.root.descendant_for_byte_range(pos, pos + 1)
            # The smallest node there may be a token inside the comment (tree-sitter-rust's
            # line_comment holds an anonymous `//`): climb to the comment starting here.
            while node is not None and node.type not in self.trivia:
                parent = node.parent
                node = parent if parent is not None and parent.start_byte == pos else None
            if node is None or node.start_byte != pos:
                return None
            pos = max(node.end_byte, pos + 1)
            if src[pos - 1] == 0x0A:  # a comment that holds its newline: Rust's `/// doc`
                return pos

    def _str(self, start: int, end: int) -> str:
        return self.src[start:end].decode("utf-8")
