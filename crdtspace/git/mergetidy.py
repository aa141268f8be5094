"""File-wide 3-way rules a clean merge's text is finished with: what no unit holds.

- **Line endings**: one side converting the whole file from CRLF to LF (or back) while the other
  kept the base's convention is a change like any other: the merge takes it, edited lines
  included (the other side's edited lines would otherwise keep the old convention).
- **The final line break**: added or removed by one side only, so it is in the merge.
- **Blank lines between two lines**: the blank lines between two consecutive non-blank lines of
  the merge are a 3-way merge of those the versions have between the same two lines, where they
  are consecutive there too; where only one version has them consecutive (the other side's
  deletion made them neighbours there), that version's blank lines. A blank line one side added
  next to a line the other side deleted no longer outlives it (click's ``if TYPE_CHECKING:``
  followed by a blank line once its first import was gone). Where no version has them
  consecutive but one holds both with only lines the merge dropped between them (the other
  side deleted a unit there) and the second is not a line of the base unchanged, the wider of
  the blank runs that version has after the first line and before the second (or, at the
  file's start, the run it starts with): a unit added after a deleted one keeps the separation
  the deleted one had (a Java import added after an import the other side deleted), and a file
  the other side emptied does not start with blank lines no version starts with. (A line of
  the base there, a container's closing brace after its deleted last member, keeps the merge's
  own: the separation went with the member.)

No rule adds or changes a line that is not blank, except by its line ending; every blank run it
sets is one of a version's own.
"""

from __future__ import annotations

import itertools

__all__ = ["blank_gaps", "line_endings"]

_Gap = tuple[str, ...]


def line_endings(text: str, base: str, left: str, right: str) -> str:
    """`text` with the sides' changes of the line-ending convention and the final line break."""
    styles = [_style(v) for v in (base, left, right)]
    if None not in styles and styles[1] != styles[2]:
        wanted = styles[2] if styles[1] == styles[0] else styles[1]
        if _style(text) != wanted:
            text = text.replace("\r\n", "\n")
            if wanted == "\r\n":
                text = text.replace("\n", "\r\n")
    ends = [v.endswith("\n") for v in (base, left, right)]
    if text and all((base, left, right)) and ends[1] != ends[2]:
        wanted_end = ends[2] if ends[1] == ends[0] else ends[1]
        if wanted_end and not text.endswith("\n"):
            text += "\r\n" if _style(text) == "\r\n" else "\n"
        elif not wanted_end and text.endswith("\n"):
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def _style(text: str) -> str | None:
    """``\\r\\n`` or ``\\n`` when every line break of `text` is that one, else None."""
    breaks = text.count("\n")
    if not breaks:
        return None
    crlf = text.count("\r\n")
    return "\r\n" if crlf == breaks else "\n" if crlf == 0 else None


def blank_gaps(text: str, base: str, left: str, right: str) -> str:
    """`text` with the blank lines between its non-blank lines merged from the versions."""
    lines = text.splitlines(keepends=True)
    versions = [v.splitlines(keepends=True) for v in (base, left, right)]
    maps = [_matches(lines, v) for v in versions]
    kept = [set(m.values()) for m in maps]
    solid = [-1, *(i for i, line in enumerate(lines) if line.strip()), len(lines)]
    out: list[str] = []
    changed = False
    for before, after in itertools.pairwise(solid):
        if before >= 0:
            out.append(lines[before])
        now = tuple(lines[before + 1 : after])
        gaps = [_gap(m, v, before, after, len(lines)) for m, v in zip(maps, versions, strict=True)]
        wanted = _merged_gap(*gaps)
        if wanted is None and not _of_base(lines, after, maps[0], versions[0]):
            wanted = _merged_gap(
                *(
                    _gap_over_dropped(m, k, v, before, after, len(lines))
                    for m, k, v in zip(maps, kept, versions, strict=True)
                )
            )
        if wanted is not None and _bare(wanted) != _bare(now):
            out.extend(_ended(wanted, lines, after))
            changed = True
        else:
            out.extend(now)
    return "".join(out) if changed else text


def _bare(gap: _Gap) -> tuple[str, ...]:
    return tuple(line.rstrip("\r\n") for line in gap)


def _ended(gap: _Gap, lines: list[str], after: int) -> list[str]:
    """The gap's lines with the line breaks of the merged text (a last gap may have none)."""
    brk = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    out = [line.rstrip("\r\n") + brk for line in gap]
    if out and after == len(lines) and lines and not lines[-1].endswith("\n"):
        out[-1] = out[-1].rstrip("\r\n")
    return out


def _matches(lines: list[str], version: list[str]) -> dict[int, int]:
    """Non-blank line of `lines` -> the line of `version` it is: the same line (the longest
    common subsequence's of the non-blank lines), or the one in its place where as many lines
    replace as many (an edited line is still the line it was)."""
    from crdtspace.model.sequences import SequenceMatcher

    ours = [i for i, line in enumerate(lines) if line.strip()]
    theirs = [j for j, line in enumerate(version) if line.strip()]
    matcher = SequenceMatcher(
        None,
        [lines[i].rstrip("\r\n") for i in ours],
        [version[j].rstrip("\r\n") for j in theirs],
        autojunk=False,
    )
    out: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                out[ours[i1 + k]] = theirs[j1 + k]
    return out


def _gap(
    matched: dict[int, int], version: list[str], before: int, after: int, end: int
) -> _Gap | None:
    """The lines `version` has between the lines `before` and `after` of the merge when they
    are consecutive non-blank lines there too (-1 and `end`: the file's start and end)."""
    first = -1 if before < 0 else matched.get(before)
    last = len(version) if after >= end else matched.get(after)
    if first is None or last is None or last <= first:
        return None
    gap = tuple(version[first + 1 : last])
    return gap if all(not line.strip() for line in gap) else None


def _gap_over_dropped(
    matched: dict[int, int],
    kept: set[int],
    version: list[str],
    before: int,
    after: int,
    end: int,
) -> _Gap | None:
    """The blank lines `version` has between the lines `before` and `after` of the merge when
    it holds both with only lines between them that the merge dropped (none of them is in
    `kept`, the version's lines the merge holds): the longer of the runs after the first and
    before the second (the dropped lines took one with them), or at the file's start, the run
    it starts with."""
    first = -1 if before < 0 else matched.get(before)
    last = len(version) if after >= end else matched.get(after)
    if first is None or last is None or last <= first + 1:
        return None
    between = range(first + 1, last)
    if any(j in kept for j in between) or all(not version[j].strip() for j in between):
        return None
    after_first = tuple(itertools.takewhile(_blank, version[first + 1 : last]))
    if first < 0:  # (blank lines at the file's start separate it from nothing)
        return after_first
    before_last = tuple(itertools.takewhile(_blank, reversed(version[first + 1 : last])))
    return max(after_first, before_last, key=len)


def _of_base(lines: list[str], at: int, matched: dict[int, int], base: list[str]) -> bool:
    """Whether the merge's line `at` is the file's end or a line of the base, unchanged."""
    if at >= len(lines):
        return True
    j = matched.get(at)
    return j is not None and base[j].rstrip("\r\n") == lines[at].rstrip("\r\n")


def _blank(line: str) -> bool:
    return not line.strip()


def _merged_gap(base: _Gap | None, left: _Gap | None, right: _Gap | None) -> _Gap | None:
    """The 3-way merge of one gap (None: nothing to say, the merge's own is kept)."""
    if left is not None and right is not None:
        if _bare(left) == _bare(right):
            return left
        if base is None:
            return None
        if _bare(left) == _bare(base):
            return right
        if _bare(right) == _bare(base):
            return left
        return None
    return left if left is not None else right
