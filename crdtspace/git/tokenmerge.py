"""The 3-way merge of one line both sides edited, token by token.

Two edits of one line merge only when an unchanged token that is not whitespace separates
them (``f(a, b)`` to ``f(x, b)`` and ``f(a, y)`` gives ``f(x, y)``); edits that touch, overlap
or insert at one point are a conflict, as in git (``'0.12.2-dev'`` to ``'0.13-dev'`` and
``'0.12.3-dev'`` is one: a string literal is one token, so two edits inside one string always
meet). The same edit made on both sides is kept once, and so is the same addition made by two
different edits: an insertion of one side whose tokens (whitespace aside) the other side's line
holds, its words added by an edit of the other side that no word of the base separates from it,
is that addition again and is left out (a name both sides add to one import list, one side
also removing the names before it: ``{A, B, C}`` to ``{A, B, G, C}`` and ``{A, G, C}`` gives
``{A, G, C}``, not ``{A, G, G, C}``). Every token of the result is a token of one of the three
versions of the line, in the order of the versions.

`repeats_replaced` says whether a text one side adds beside a text the other side edits is a
copy of that text's base that repeats what the edit replaced (the rule
`crdtspace.git.mergedriver` uses for a unit added beside a unit the other side edited).

`includes_tokens` says whether one side's change of some lines includes the other side's, token
by token (the rule `crdtspace.git.linemerge` uses where the two changes meet): then taking that
side's lines loses nothing of the other's.
"""

from __future__ import annotations

import itertools
import re

__all__ = ["includes_tokens", "merge_line_tokens", "repeats_replaced", "replaced_words", "tokens"]

_TOKEN = re.compile(
    r"""
    "(?:\\.|[^"\\])*"?      # a string literal (to its end, or the line's)
    | '(?:\\.|[^'\\])*'?
    | `(?:\\.|[^`\\])*`?
    | \w+                   # a word or a number
    | \s+                   # whitespace
    | .                     # any other character
    """,
    re.VERBOSE,
)

_Edit = tuple[int, int, list[str]]


def tokens(line: str) -> list[str]:
    """The tokens of a line: string literals, words, whitespace runs, single characters."""
    return _TOKEN.findall(line)


def _edits(old: list[str], new: list[str]) -> list[_Edit]:
    from crdtspace.model.sequences import SequenceMatcher

    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [(i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def merge_line_tokens(base: str, left: str, right: str) -> str | None:
    """The token merge of one line's two edits (line breaks excluded), or None where they
    meet: no unchanged token other than whitespace between an edit of each side."""
    old = tokens(base)
    if "".join(old) != base:
        return None
    ours, theirs = _edits(old, tokens(left)), _edits(old, tokens(right))
    theirs = [e for e in theirs if e not in ours]  # (the same edit on both sides: once)
    if not ours or not theirs:
        return None  # (not two edits: the whole-line merge has it)
    ours = [e for e in ours if not _added_again(old, e, theirs, right)]
    theirs = [e for e in theirs if not _added_again(old, e, ours, left)]
    edits = sorted([(e, 0) for e in ours] + [(e, 1) for e in theirs], key=lambda x: x[0][:2])
    for (first, side1), (second, side2) in itertools.pairwise(edits):
        if side1 == side2:
            continue
        (s1, e1, _), (s2, e2, _) = first, second
        if s2 < e1 or (s1 == e1 == s2) or (s2 == e2 == e1):
            return None  # (they overlap, or insert at one point)
        if not any(token.strip() for token in old[e1:s2]):
            return None  # (nothing but whitespace between them)
    out: list[str] = []
    at = 0
    for (start, end, new), _side in edits:
        out.extend(old[at:start])
        out.extend(new)
        at = end
    out.extend(old[at:])
    return "".join(out)


def _word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _added_again(old: list[str], edit: _Edit, others: list[_Edit], other_line: str) -> bool:
    """Whether `edit` (one side's) only inserts an addition the other side made too: it
    deletes no token but whitespace, adds a word, its tokens (whitespace aside) are a run of
    `other_line`'s, and its words are among those one edit of `others` adds, with no word of
    the base between the two edits."""
    start, end, new = edit
    code = [t for t in new if t.strip()]
    words = [t for t in code if _word(t)]
    if not words or any(t.strip() for t in old[start:end]):
        return False
    if not _holds_run([t for t in tokens(other_line) if t.strip()], code):
        return False
    for s2, e2, more in others:
        between = old[e2:start] if e2 <= start else old[end:s2] if end <= s2 else None
        if between is None or any(_word(t) for t in between):
            continue
        rest = iter(t for t in more if _word(t))
        if all(word in rest for word in words):
            return True
    return False


SLACK = 8
"""Tokens by which the including side's edit may reach further than the included one's (in
base tokens it rewrote around it; in new tokens beyond twice the included edit's): past it, the
included edit only looks included (a word it added found in a rewritten paragraph), and the two
sides rewrote one passage differently."""


def _code_tokens(text: str, indented: bool) -> list[str]:
    """The tokens of `text` that are not whitespace; with `indented`, each line's indentation
    too (a token of its own, ahead of the line's first token): there it is code."""
    out: list[str] = []
    for line in text.splitlines():
        found = [t for t in tokens(line) if t.strip()]
        if indented and found:
            out.append("\n" + line[: len(line) - len(line.lstrip(" \t"))])
        out.extend(found)
    return out


def includes_tokens(base: str, big: str, small: str, *, indented: bool = False) -> bool:
    """Whether the change `base` -> `big` includes the change `base` -> `small`, token by token
    (whitespace aside; with `indented`, a line's indentation is a token): every edit of `small`
    lies inside an edit of `big` at the same place, which deletes every token it deletes, holds
    the tokens it adds in the same order, and reaches at most `SLACK` tokens further
    (``t.Optional["C"]`` to ``t.Optional[C]`` and to ``C | None``: the second includes the
    first). An edit of `small` that only deletes tokens is included in an edit of `big` that
    deletes them too and does not write them again (a `# type: ignore` dropped from a line the
    other side rewrote), however far that edit reaches. Not when `small` changes no token (a
    layout change: other rules have it)."""
    old, ours, theirs = (_code_tokens(t, indented) for t in (base, big, small))
    if theirs == old or ours == old:
        return False
    wide = _edits(old, ours)
    for s1, s2, new in _edits(old, theirs):
        cover = [
            (b1, b2, more)
            for b1, b2, more in wide
            if b1 <= s1 and s2 <= b2 and (s1 < s2 or b1 < b2 or b1 == s1)
        ]
        if len(cover) != 1:
            return False
        b1, b2, more = cover[0]
        if not new:  # (a deletion: `big` deleted those tokens too, and does not add them back)
            if _holds_run(more, old[s1:s2]):
                return False
            continue
        if (b2 - b1) - (s2 - s1) > SLACK or len(more) > 2 * len(new) + SLACK:
            return False
        rest = iter(more)
        if not all(token in rest for token in new):
            return False
    return True


def replaced_words(old: str, new: str) -> set[str]:
    """The words of `old` that an edit of `old` -> `new` replaced by other words (not those
    it only deleted: a renamed variable, not a dropped argument)."""
    out: set[str] = set()
    base = tokens(old)
    for start, end, added in _edits(base, tokens(new)):
        if any(_word(token) for token in added):
            out.update(token for token in base[start:end] if _word(token))
    return out


COPY_RATIO = 0.6
"""The least share of tokens (difflib's ratio, whitespace aside) a copy has in common with the
text it copies."""


def repeats_replaced(base: str, edited: str, added: str) -> bool:
    """Whether `added` is a copy of `base` (`COPY_RATIO`, whitespace aside) that repeats what
    the change `base` -> `edited` replaced: the change deletes or replaces a word, and for each
    of its edits that deletes tokens, `added` holds the tokens deleted with the one token on
    either side (serde: ``type D = <u32 as T>::D;`` made ``<u64 as T>`` on one side, the other
    adding ``type B = <u32 as T>::D;`` below it: the two sides changed one passage)."""
    from crdtspace.model.sequences import SequenceMatcher

    old, new, copy = (_code_tokens(text, False) for text in (base, edited, added))
    cuts = [(start, end) for start, end, _ in _edits(old, new) if start < end]
    if not any(_word(token) for start, end in cuts for token in old[start:end]):
        return False
    if SequenceMatcher(None, old, copy, autojunk=False).ratio() < COPY_RATIO:
        return False
    return all(_holds_run(copy, old[max(start - 1, 0) : end + 1]) for start, end in cuts)


def _holds_run(tokens: list[str], run: list[str]) -> bool:
    """Whether `run` is a contiguous part of `tokens`."""
    n = len(run)
    return any(tokens[i : i + n] == run for i in range(len(tokens) - n + 1))
