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

from crdtspace.languages import Profile, profile_for

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


def segment_module(text: str, profile: Profile) -> Seg | None:
    """Cut source text as a module of `profile`'s language; None if it does not parse."""
    bom = BOM if text.startswith(BOM) else ""
    src = text[len(bom) :].encode("utf-8")
    tree = profile.parser().parse(src)
    if tree.root_node.has_error:
        return None
    try:
        seg = _Cutter(src, profile, tree.root_node).module()
    except UnicodeDecodeError:  # a cut inside a character: never expected, but never fatal
        return None
    seg.head = bom + seg.head
    return seg if seg.render() == text else None


class _Cutter:
    """Walks one parsed source and cuts it at unit boundaries."""

    def __init__(self, src: bytes, profile: Profile, root: Node) -> None:
        self.src = src
        self.root = root
        self.trivia = profile.trivia
        self.units = self._find_units(profile, root)

    @staticmethod
    def _find_units(
        profile: Profile, root: Node
    ) -> dict[tuple[int, int, str], tuple[str, str, Node | None]]:
        cursor = QueryCursor(profile.units)
        cursor.set_max_start_depth(profile.max_start_depth)
        found: dict[tuple[int, int, str], tuple[str, str, Node | None]] = {}
        for _, caps in cursor.matches(root):
            unit = caps["unit"][0]
            key = (unit.start_byte, unit.end_byte, unit.type)
            if key in found:
                continue
            names = sorted(caps.get("name", []), key=lambda n: n.start_byte)
            name = ".".join((n.text or b"").decode("utf-8", "replace") for n in names)
            kind = caps["kind"][0].type if "kind" in caps else unit.type
            body = caps["body"][0] if "body" in caps else None
            found[key] = (kind, name, body)
        return found

    def module(self) -> Seg:
        return self._container(self.root.type, "", 0, len(self.src), self.root, module=True)

    def _container(
        self, kind: str, name: str, start: int, end: int, body: Node, *, module: bool = False
    ) -> Seg:
        children = [c for c in body.named_children if c.type not in self.trivia]
        if not children:
            return Seg(kind, name, head=self._str(start, end))
        pos = start if module else self._head_end(start, children[0])
        head = self._str(start, pos)
        segs: list[Seg] = []
        for i, child in enumerate(children):
            nxt = children[i + 1].start_byte if i + 1 < len(children) else None
            stop = min(self._extended_end(child, nxt), end)
            segs.append(self._unit(child, pos, stop))
            pos = stop
        return Seg(kind, name, head=head, children=segs, tail=self._str(pos, end))

    def _unit(self, node: Node, start: int, end: int) -> Seg:
        kind, name, body = self.units.get(
            (node.start_byte, node.end_byte, node.type), (node.type, "", None)
        )
        if body is not None:
            return self._container(kind, name, start, end, body)
        return Seg(kind, name, text=self._str(start, end))

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
            if node is None or node.start_byte != pos or node.type not in self.trivia:
                return None
            pos = max(node.end_byte, pos + 1)

    def _str(self, start: int, end: int) -> str:
        return self.src[start:end].decode("utf-8")
