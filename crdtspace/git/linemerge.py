"""The whole-line 3-way merge of one node's texts, and the layout-only rule inside it.

Two sides' changes that meet (ranges that intersect, insertions at one point with different
lines, an insertion inside the other side's change) make a cluster; so do two adjacent changes
that are two versions of one passage (`_one_passage`): both add the same line, or one side's
new lines use a word the other side's change of lines, one for one, replaced by another word
and no longer holds (a branch added to an `if` whose variable the other side renamed there:
merged, the branch would use the old name). Items both sides insert
at one point of a comma-separated list are all kept (the first side's first). A cluster where
one side changed only the layout (whitespace, line breaks, a trailing comma before a closing
bracket: the same code re-indented, re-wrapped or given a trailing comma) takes the other
side's lines there: its edit survives, and only that side's re-layout of those few lines is
given up. Where both sides only re-laid it out, ours is taken (git's rule with
``-Xignore-space-change``; either way no code is lost). A cluster where one side's change
includes the other's (it deleted every line the other deleted and added every line the other
added, in order) takes that side's lines. A cluster where both sides replaced lines one for
one is merged line by line, a line both changed by tokens (`crdtspace.git.tokenmerge`: only
where an unchanged token that is not whitespace separates the two edits). Where that fails
too, a side whose change includes the other's token by token (each of the other's edits inside
one of its own, at the same place, with the tokens it adds: a type hint both sides rewrote, one
further than the other) takes its lines there. A line one side moved and the other deleted is gone.
Lines both sides add after the same line, which one side moved, are one addition made twice
(the same enum variant added after one variant, which one side also moved): the moving side's
copy, after the line where that side put it, is kept, the other side's insertion left out.

Every line of the result is a line of one of the three texts, or the token merge of one base
line's two edits; applying an edit to re-laid-out text would make other lines, so it is not
done (a known limit: the merged lines keep the editing side's layout).

Indentation is code in Python: there, a change of a statement's indentation is never layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["layout_only", "merge_lines"]

Hunk = tuple[int, int, list[str]]

_QUOTES = "\"'`"
_CLOSERS = ")]}>"


def _line_hunks(old: list[str], new: list[str]) -> list[Hunk]:
    """The changed line ranges of old -> new: (first line, end line (exclusive), new lines)."""
    from crdtspace.model.sequences import SequenceMatcher  # (most merges never need it)

    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [(i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _meet(a: Hunk, b: Hunk) -> bool:
    """Whether two hunks of different sides touch: ranges that intersect, insertions at one
    point, an insertion inside the other's range. Unlike git, changes of adjacent lines and
    an insertion just before or after the other's range do not: the order is clear (unless
    the two are `_one_passage`)."""
    s1, e1, _ = a
    s2, e2, _ = b
    if (s1 < e2 and s2 < e1) or (s1 == s2 == e1 == e2):
        return True
    return (s1 == e1 and s2 < s1 < e2) or (s2 == e2 and s1 < s2 < e1)


def _one_passage(old: list[str], a: _Change, b: _Change) -> bool:
    """Whether two adjacent changes of different sides are two versions of one passage: both
    add the same line (one with a letter or digit), so each side rewrote the passage there.
    Only the person merging can reconcile them: a conflict, as in git, rather than both kept
    (mockito's ArgumentCaptor Javadoc: one side inserted a paragraph just above the other's
    rewrite of the same paragraph, and the merge said the same thing twice).

    Nor where one side's new lines use a word the other side's change of the adjacent lines
    replaced by another word and no longer holds (express: an ``else if`` branch using
    ``host`` added below lines the other side rewrote with ``host`` renamed ``val``):
    `_uses_replaced`. Only a word replaced inside a line counts, not one a deleted line or a
    dropped argument took away (on 1,253 real merges those made conflicts of good merges).

    One side deleting lines next to the other's edit is not one passage: the edit is kept (a
    statement moved away from a line the other side edited, a doc line dropped above an
    attribute the other side changed; on 1,253 real merges, making these conflicts cost two
    merges the driver got right for one it got wrong)."""
    (s1, e1, new1), (s2, e2, new2) = a.hunk, b.hunk
    if e1 != s2 and e2 != s1:
        return False
    both = {line.strip() for line in new1} & {line.strip() for line in new2}
    if any(any(ch.isalnum() for ch in line) for line in both):
        return True
    return _uses_replaced(old, a.hunk, b.hunk) or _uses_replaced(old, b.hunk, a.hunk)


_WORD = re.compile(r"[^\W\d]\w*")


def _words(lines: list[str]) -> set[str]:
    return {word for line in lines for word in _WORD.findall(line)}


def _uses_replaced(old: list[str], change: Hunk, other: Hunk) -> bool:
    """Whether `other`'s new lines use a name `change` replaced: `change` replaces lines one
    for one, and in one of them a word by another (a variable it renamed, a type it changed),
    and its new lines no longer hold the old word."""
    from crdtspace.git.tokenmerge import replaced_words

    start, end, new = change
    if end - start != len(new) or not new:
        return False
    replaced: set[str] = set()
    for was, now in zip(old[start:end], new, strict=True):
        replaced |= replaced_words(was, now)
    replaced -= _words(new)
    return bool(replaced & _words(other[2]))


def merge_lines(
    base: str, left: str, right: str, *, indented: bool = False, items: bool = False
) -> str | None:
    """A 3-way merge of whole lines, or None where the sides' changes meet and neither side's
    part of them is layout only (then it is a conflict). Changes on adjacent lines merge (the
    node model's rule, where git would conflict); the same change made on both sides is kept
    once. Every line of the result is a line of one of the three texts or the token merge of
    one base line's two edits (the module's rules). `indented`: the
    language's indentation is code (Python); `items`: every line is an item of a list (an
    import block), so insertions of both sides at one point are kept, in sorted order where
    the lines around are sorted."""
    old = base.splitlines(keepends=True)
    a, b = left.splitlines(keepends=True), right.splitlines(keepends=True)
    a, b = _unmoved(old, a, b, indented), _unmoved(old, b, a, indented)
    a = _added_twice(old, a, b)
    b = _added_twice(old, b, a)
    ours = _split(old, _line_hunks(old, a), indented)
    theirs = [
        h
        for h in _split(old, _line_hunks(old, b), indented)
        if h.hunk not in [o.hunk for o in ours]
    ]
    changes: list[Hunk] = []
    for mine, other in _clusters(old, ours, theirs):
        taken = _settle(old, mine, other, indented, items)
        if taken is None:
            return None
        changes.extend(taken)
    out: list[str] = []
    at = 0
    # (an insertion and a change starting at the same line are in one cluster: see above)
    for start, end, lines in sorted(changes, key=lambda h: (h[0], h[1])):
        out.extend(old[at:start])
        out.extend(lines)
        at = end
    out.extend(old[at:])
    return "".join(out)


def _unmoved(old: list[str], moved: list[str], other: list[str], indented: bool) -> list[str]:
    """`moved` without the lines it moved that `other` deleted: a line (once in the base) one
    side took from its place to put it elsewhere and the other side no longer holds is gone
    (flask: one side moved an import above its neighbour, the other deleted it, and the merge
    kept it). A line the other side only re-laid out is still held there."""
    hunks = _line_hunks(old, moved)
    gone = {line for start, end, _ in hunks for line in old[start:end]}
    added = {line for _, _, new in hunks for line in new}
    held = {_line_key(line, indented) for line in other}
    dropped = {
        line
        for line in gone & added
        if line.strip()
        and old.count(line) == moved.count(line) == 1
        and line not in other
        and _line_key(line, indented) not in held
    }
    if not dropped:
        return moved
    out: list[str] = []
    at = 0
    for start, end, new in hunks:
        out.extend(old[at:start])
        out.extend(line for line in new if line not in dropped)
        at = end
    out.extend(old[at:])
    return out


def _added_twice(old: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """`ours` without an insertion `theirs` makes too after the same line, which `theirs` moved:
    an insertion of lines (blank lines aside) none of which the base holds, each once in
    both versions, that `theirs` holds as one run (blank lines aside), after the same line
    that is not blank (the nearest above, once in each of the three texts), which `theirs`
    took from its place in the base. Where neither side moved that line, the two insertions
    are at one place and the cluster rules have them."""
    from crdtspace.model.sequences import SequenceMatcher

    matcher = SequenceMatcher(None, old, ours, autojunk=False)
    hunks = [op for op in matcher.get_opcodes() if op[0] == "insert"]
    if not hunks:
        return ours
    solid = [j for j, line in enumerate(theirs) if line.strip()]
    solid_lines = [theirs[j] for j in solid]
    moved = {i for _, i1, i2, _, _ in _opcodes(old, theirs) for i in range(i1, i2)}
    dropped: set[int] = set()
    for _, _, _, j1, j2 in hunks:
        run = [line for line in ours[j1:j2] if line.strip()]
        if not run or any(old.count(x) or ours.count(x) != 1 or theirs.count(x) != 1 for x in run):
            continue
        anchor = next((line for line in reversed(ours[:j1]) if line.strip()), None)
        if anchor is None or not (old.count(anchor) == ours.count(anchor) == 1):
            continue
        if theirs.count(anchor) != 1 or old.index(anchor) not in moved:
            continue
        at = solid_lines.index(run[0]) if run[0] in solid_lines else -1
        if at < 1 or solid_lines[at : at + len(run)] != run or solid_lines[at - 1] != anchor:
            continue
        dropped.update(range(j1, j2))
    return [line for j, line in enumerate(ours) if j not in dropped] if dropped else ours


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """The changes of old -> new (SequenceMatcher's opcodes but "equal")."""
    from crdtspace.model.sequences import SequenceMatcher

    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [op for op in matcher.get_opcodes() if op[0] != "equal"]


@dataclass(frozen=True)
class _Change:
    """One side's change of some lines; `layout`: of their layout only (line by line)."""

    hunk: Hunk
    layout: bool


def _split(old: list[str], hunks: list[Hunk], indented: bool) -> list[_Change]:
    """Each hunk cut into the lines it only re-laid out (one change each) and the rest. A
    line whose indentation changed counts as re-laid out only in a hunk that changes nothing
    else (a block re-indented): next to new lines, it is code wrapped into a new block."""
    from crdtspace.model.sequences import SequenceMatcher

    out: list[_Change] = []
    for start, end, new in hunks:
        if _layout_lines(old[start:end], new, indented):
            out.extend(
                _Change((start + k, start + k + 1, [line]), True)
                for k, line in enumerate(new)
                if old[start + k] != line
            )
            continue
        keys = [_line_key(line, indented) for line in old[start:end]]
        matcher = SequenceMatcher(
            None, keys, [_line_key(line, indented) for line in new], autojunk=False
        )
        parts: list[_Change] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                parts.append(_Change((start + i1, start + i2, new[j1:j2]), False))
                continue
            for k in range(i2 - i1):
                was, now = old[start + i1 + k], new[j1 + k]
                if was != now:
                    hunk = (start + i1 + k, start + i1 + k + 1, [now])
                    parts.append(_Change(hunk, _indent(was) == _indent(now)))
        # (a hunk with no line only re-laid out stays whole)
        out.extend(parts if any(p.layout for p in parts) else [_Change((start, end, new), False)])
    return out


def _layout_lines(old: list[str], new: list[str], indented: bool) -> bool:
    """Whether `new` is `old` re-laid out line by line (as many lines, each the same code)."""
    return len(old) == len(new) and all(
        _line_key(a, indented) == _line_key(b, indented) for a, b in zip(old, new, strict=True)
    )


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _line_key(line: str, indented: bool) -> str:
    """A line's code without its layout (its indentation kept where that is code)."""
    code = _code(line)
    if indented and code:
        return line[: len(line) - len(line.lstrip(" \t"))] + code
    return code


def _settle(
    old: list[str], mine: list[_Change], other: list[_Change], indented: bool, items: bool
) -> list[Hunk] | None:
    """The hunks one cluster contributes, or None for a conflict: all of a lone side's; the
    other side's where one side only re-laid out those lines (line by line, or the region
    as a whole: a call re-wrapped over several lines); ours where both only re-laid them out
    (git's rule with -Xignore-space-change: either way no code is lost); else a conflict."""
    if not mine or not other:
        return [c.hunk for c in (*mine, *other)]
    added = _items_added(old, mine, other, items)
    if added is not None:
        return [added]
    if all(c.layout for c in mine) != all(c.layout for c in other):
        return [c.hunk for c in (other if all(c.layout for c in mine) else mine)]
    if all(c.layout for c in (*mine, *other)):
        return [c.hunk for c in mine]  # (two layouts of the same code: ours)
    hunks = [c.hunk for c in (*mine, *other)]
    start, end = min(h[0] for h in hunks), max(h[1] for h in hunks)
    after = "".join(old[end:])
    o = "".join(old[start:end])
    a = _apply(old, start, end, [c.hunk for c in mine])
    b = _apply(old, start, end, [c.hunk for c in other])
    if layout_only(o, a, after, indented=indented):
        relaid = layout_only(o, b, after, indented=indented)
        return [c.hunk for c in (mine if relaid else other)]  # (both re-laid out: ours)
    if layout_only(o, b, after, indented=indented) and not layout_only(
        o, a, after, indented=indented
    ):
        return [c.hunk for c in mine]
    region = old[start:end]
    ours, theirs = a.splitlines(keepends=True), b.splitlines(keepends=True)
    if _includes(region, ours, theirs):
        return [c.hunk for c in mine]
    if _includes(region, theirs, ours):
        return [c.hunk for c in other]
    merged = _by_tokens(old, mine, other, indented)
    if merged is not None:
        return merged
    return _included(o, a, b, mine, other, indented)


def _included(
    o: str, a: str, b: str, mine: list[_Change], other: list[_Change], indented: bool
) -> list[Hunk] | None:
    """The hunks of the side whose change of the cluster includes the other's token by token
    (`crdtspace.git.tokenmerge.includes_tokens`: click's ``t.Optional["Command"]`` made
    ``Command | None`` on one side and ``t.Optional[Command]`` on the other), or None."""
    from crdtspace.git.tokenmerge import includes_tokens

    if includes_tokens(o, a, b, indented=indented):
        return [c.hunk for c in mine]
    if includes_tokens(o, b, a, indented=indented):
        return [c.hunk for c in other]
    return None


def _includes(old: list[str], big: list[str], small: list[str]) -> bool:
    """Whether the change old -> `big` includes the change old -> `small`: every line `small`
    deleted `big` deleted too, and the lines `small` added are lines `big` added, in the same
    order (one side made the other's change and more: a blank line with it, the next lines
    deleted too)."""
    from crdtspace.model.sequences import SequenceMatcher

    def change(new: list[str]) -> tuple[set[int], list[str]]:
        matcher = SequenceMatcher(None, old, new, autojunk=False)
        kept: set[int] = set()
        added: list[str] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                kept.update(range(i1, i2))
            else:
                added.extend(new[j1:j2])
        return set(range(len(old))) - kept, added

    big_deleted, big_added = change(big)
    small_deleted, small_added = change(small)
    if not small_deleted <= big_deleted:
        return False
    rest = iter(big_added)
    return all(line in rest for line in small_added)


def _by_tokens(
    old: list[str], mine: list[_Change], other: list[_Change], indented: bool = False
) -> list[Hunk] | None:
    """A cluster where each side replaced lines one for one, merged line by line: a line one
    side changed is that side's; one both changed, their token merge
    (`crdtspace.git.tokenmerge`: edits an unchanged token separates), or the side whose edit
    of it includes the other's token by token, else a conflict."""
    from crdtspace.git.tokenmerge import includes_tokens, merge_line_tokens

    lines: list[dict[int, str]] = [{}, {}]
    for side, changes in enumerate((mine, other)):
        for start, end, new in (c.hunk for c in changes):
            if end - start != len(new):
                return None
            for k, line in enumerate(new):
                lines[side][start + k] = line
    out: list[Hunk] = []
    for at in sorted(set(lines[0]) | set(lines[1])):
        a, b = lines[0].get(at, old[at]), lines[1].get(at, old[at])
        if a == b or b == old[at]:
            out.append((at, at + 1, [a]))
            continue
        if a == old[at]:
            out.append((at, at + 1, [b]))
            continue
        ending = old[at][len(old[at].rstrip("\r\n")) :]
        if not (a.endswith(ending) and b.endswith(ending)):
            return None
        if layout_only(old[at], a) or layout_only(old[at], b):
            return None  # (a re-laid-out line: the layout rules above have it, or conflict)
        cut = len(ending)
        bare = (line[: len(line) - cut] if cut else line for line in (old[at], a, b))
        merged = merge_line_tokens(*bare)
        if merged is not None:
            out.append((at, at + 1, [merged + ending]))
        elif includes_tokens(old[at], a, b, indented=indented):
            out.append((at, at + 1, [a]))
        elif includes_tokens(old[at], b, a, indented=indented):
            out.append((at, at + 1, [b]))
        else:
            return None
    return out


def _items_added(
    old: list[str], mine: list[_Change], other: list[_Change], items: bool
) -> Hunk | None:
    """Both sides inserting different items of a list at one point (lines of an import block,
    or lines that all end with a comma): both, an item both added once; the first side's
    first, or in sorted order in an import block whose lines around them are sorted. Where one
    side's insertion holds the other's in order (a new import group, and one more import above
    it), that side's.
    None for any other cluster."""
    if len(mine) != 1 or len(other) != 1:
        return None
    (s1, e1, a), (s2, e2, b) = mine[0].hunk, other[0].hunk
    if not s1 == e1 == s2 == e2:
        return None
    if not items and not all(line.rstrip().endswith(",") for line in (*a, *b)):
        return None
    for big, small in ((a, b), (b, a)):
        rest = iter(big)
        if all(line in rest for line in small):
            return (s1, s1, big)  # (one side's insertion holds the other's, in order)
    both = [*a, *(line for line in b if line not in a)]
    ordered = sorted(both, key=str.strip)
    before = [line for line in old[max(s1 - 1, 0) : s1] if _item(line)]
    after = [line for line in old[s1 : s1 + 1] if _item(line)]
    if items and _sorted(a) and _sorted(b) and _sorted([*before, *ordered, *after]):
        both = ordered
    return (s1, s1, both)


def _item(line: str) -> bool:
    """Whether a line can be an item of a list (not a bracket opening or closing it)."""
    bare = line.strip()
    return bool(bare) and bare[-1] not in "([{" and bare[0] not in ")]}"


def _sorted(lines: list[str]) -> bool:
    keys = [line.strip() for line in lines if line.strip()]
    return keys == sorted(keys)


def _clusters(
    old: list[str], ours: list[_Change], theirs: list[_Change]
) -> list[tuple[list[_Change], list[_Change]]]:
    """The changes of both sides grouped where they meet (transitively): (ours, theirs)."""
    changes = [*ours, *theirs]
    group = list(range(len(changes)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, a in enumerate(ours):
        for j, b in enumerate(theirs, start=len(ours)):
            if _meet(a.hunk, b.hunk) or _one_passage(old, a, b):
                group[root(i)] = root(j)
    out: dict[int, tuple[list[_Change], list[_Change]]] = {}
    for i, change in enumerate(changes):
        mine, other = out.setdefault(root(i), ([], []))
        (mine if i < len(ours) else other).append(change)
    return list(out.values())


def _apply(old: list[str], start: int, end: int, hunks: list[Hunk]) -> str:
    """Lines start..end of `old` with one side's hunks in that range applied."""
    out: list[str] = []
    at = start
    for s, e, lines in sorted(hunks, key=lambda h: (h[0], h[1])):
        out.extend(old[at:s])
        out.extend(lines)
        at = e
    out.extend(old[at:end])
    return "".join(out)


def layout_only(base: str, changed: str, after: str = "", *, indented: bool = False) -> bool:
    """Whether `changed` is `base` with only its layout changed: the same code once whitespace
    outside string literals and trailing commas (before a closing bracket, `after` being the
    text that follows both) are left out. With `indented`, the indentation of every line
    outside brackets must stay too."""
    if base == changed:
        return False
    if _code(base + after) != _code(changed + after):
        return False
    return not indented or _statement_indents(base) == _statement_indents(changed)


_TRAILING_COMMA = re.compile(r",(?=[" + re.escape(_CLOSERS) + "])")


def _code(text: str) -> str:
    """The text without whitespace outside string literals (one space where it separates two
    words), nor trailing commas."""
    return _TRAILING_COMMA.sub("", _scan(text, keep_strings=True))


_PIECES = re.compile(
    r"""(?P<string>(?P<quote>["'])(?:\\.|(?!(?P=quote))[^\\\n])*(?:(?P=quote)|\n|\\?\Z)"""
    r"""|`(?:\\.|[^\\`])*(?:`|\\?\Z))"""
    r"|(?P<space>\s+)"
    r"""|[^\s"'`]+""",
    re.DOTALL,
)
"""A string literal (to its closing quote, or the line's end but in a template; a backslash
escapes the character after it), a run of whitespace, or a run of anything else."""


def _scan(text: str, *, keep_strings: bool) -> str:
    """`text` without whitespace outside string literals, but one space between two words; with
    `keep_strings`, the literals as they are, else only their opening quotes."""
    out: list[str] = []
    last = ""  # (the last character kept)
    for match in _PIECES.finditer(text):
        piece = match.group()
        if match.group("space") is not None:
            end = match.end()
            if last and end < len(text) and _word(last) and _word(text[end]):
                out.append(" ")
                last = " "
            continue
        if match.group("string") is not None and not keep_strings:
            piece = piece[0]
        out.append(piece)
        last = piece[-1]
    return "".join(out)


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _statement_indents(text: str) -> list[str]:
    """The indentation of each non-blank line that starts outside brackets (counted from the
    text's start; a text that closes more than it opens counts as outside)."""
    out: list[str] = []
    depth = 0
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and depth <= 0:
            out.append(line[: len(line) - len(stripped)])
        code = _scan(line, keep_strings=False)
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
    return out
