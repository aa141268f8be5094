"""Reading a materialized view as an agent does: its conflict blocks, and a side taken.

`conflict_blocks` is strict on purpose: it fails on a marker line outside a block, a block
opened inside another, a block without its base or its closing line, so a test that parses a
view also checks that the view is one a reader can parse (`crdtspace.model.materialize`).
"""

from __future__ import annotations

from dataclasses import dataclass

from crdtspace.model.materialize import BASE, CLOSE, MARKER, MARKERS, OPEN, SPLIT


@dataclass(frozen=True)
class Block:
    """One conflict block: lines `start` (its opening marker) to `end` (after its closing
    one), its base, and each side's (agent, text) in the order shown."""

    start: int
    end: int
    base: str
    sides: tuple[tuple[str, str], ...]


def conflict_blocks(text: str) -> list[Block]:
    """The blocks of a view, in order; AssertionError on a view that is not well formed."""
    blocks: list[Block] = []
    sections: list[tuple[str, str, list[str]]] | None = None  # (marker, name, lines)
    start = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        marker, name = _marker(line)
        if marker is None:
            if sections is not None:
                sections[-1][2].append(line)
            continue
        where = f"line {number + 1} ({line.rstrip()!r})"
        if marker == OPEN:
            assert sections is None, f"{where}: a block opened inside another"
            assert name, f"{where}: an opening marker names no side"
            sections, start = [(OPEN, name, [])], number
            continue
        assert sections is not None, f"{where}: a marker outside any block"
        if marker != CLOSE:
            sections.append((marker, name, []))
            continue
        blocks.append(_block(sections, name, start, number + 1, where))
        sections = None
    assert sections is None, f"the block opened at line {start + 1} is never closed"
    return blocks


def take_side(text: str, index: int) -> str:
    """The view with every block replaced by its side number `index` (as an agent keeps
    one side of each conflict it reads)."""
    lines = text.splitlines(keepends=True)
    for block in reversed(conflict_blocks(text)):
        lines[block.start : block.end] = [block.sides[index][1]]
    return "".join(lines)


def _block(
    sections: list[tuple[str, str, list[str]]], closing: str, start: int, end: int, where: str
) -> Block:
    labels = [f"{marker} {name}".rstrip() for marker, name, _ in sections]
    assert len(sections) >= 3, f"{where}: a block with fewer than two sides: {labels}"
    assert labels[1] == f"{BASE} base", f"{where}: the base is not second: {labels}"
    assert labels[-1] == SPLIT, f"{where}: the last side is not after a bare separator: {labels}"
    middle = sections[2:-1]
    assert all(m == SPLIT and name for m, name, _ in middle), f"{where}: {labels}"
    assert closing, f"{where}: the closing marker names no side"
    names = [sections[0][1], *(name for _, name, _ in middle), closing]
    texts = [sections[0][2], *(lines for _, _, lines in sections[2:])]
    sides = tuple((name, "".join(lines)) for name, lines in zip(names, texts, strict=True))
    return Block(start, end, "".join(sections[1][2]), sides)


def _marker(line: str) -> tuple[str | None, str]:
    """(the marker, the name after it) of a marker line, else (None, "")."""
    bare = line.rstrip("\r\n")
    head, rest = bare[:MARKER], bare[MARKER:]
    if head not in MARKERS or (rest and not rest[0].isspace()):
        return None, ""
    return head, rest.strip()
