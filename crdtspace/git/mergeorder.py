"""The order of two sides' additions at one place of a clean merge: a new group goes last.

When both branches add units after the same unit of a container, the structured merge puts
left's first (the replicas' client order; see `crdtspace.git.mergedriver`). That is right
unless the two additions are laid out differently: one continues the group it follows (no
blank line above it in its version) and the other starts a group of its own (a blank line
above it). Left's new group first would then split the group from its continuation, which
ends up inside the new group (mockito's MockMethodAdvice.java: a plain import glued below a
new static-import group). So, where left's addition starts with a blank line and right's
does not, right's comes first: it continues the group, left's new group follows.

Units are compared by their text (blank lines around them aside), per container; a run is
taken as added by one side when that side's version holds each of its units in that container
and neither the base's nor the other side's does. Nothing is added, dropped or changed: two
runs of units trade places, each with its own blank lines.
"""

from __future__ import annotations

from collections.abc import Callable

from crdtspace.model.languages import Profile
from crdtspace.model.segment import Seg, segment_module

__all__ = ["glued_first"]

_Path = tuple[tuple[str, str], ...]


def glued_first(text: str, versions: tuple[str, str, str], profile: Profile) -> str:
    """`text` (a clean merge) with each new group one side added after the same unit as the
    other side's continuation of that group put after it; `text` itself when nothing moves,
    a version does not parse, or the result would not."""
    cuts = [_cut(v, profile) for v in versions]
    merged = _cut(text, profile)
    if merged is None or any(c is None for c in cuts):
        return text
    children = [_containers(c) for c in cuts if c is not None]
    out = _render(merged, (), children)
    return out if out != text and profile.parses(out) else text


def _cut(text: str, profile: Profile) -> Seg | None:
    try:
        return segment_module(text, profile)
    except UnicodeError:
        return None


def _key(seg: Seg) -> str:
    return seg.render().strip()


def _containers(root: Seg) -> dict[_Path, list[str]]:
    """Every container of a cut, by its path of (kind, name) from the root: its units' keys."""
    out: dict[_Path, list[str]] = {}
    stack: list[tuple[_Path, Seg]] = [((), root)]
    while stack:
        path, seg = stack.pop()
        if path in out:  # (two containers with one path: not told apart, so left alone)
            out[path] = []
            continue
        out[path] = [_key(c) for c in seg.children]
        stack.extend(((*path, (c.kind, c.name)), c) for c in seg.children if c.is_container)
    return out


def _render(seg: Seg, path: _Path, versions: list[dict[_Path, list[str]]]) -> str:
    if seg.text is not None:
        return seg.text
    order = _reordered(seg.children, [v.get(path, []) for v in versions])
    inner = "".join(_render(c, (*path, (c.kind, c.name)), versions) for c in order)
    return seg.head + inner + seg.tail


def _reordered(children: list[Seg], versions: list[list[str]]) -> list[Seg]:
    """The units of one container, a run left added set apart by a blank line and directly
    followed by a run right added glued to the same unit put after that run."""
    base, left, right = (set(v) for v in versions)
    keys = [_key(c) for c in children]

    def added(key: str, ours: set[str], theirs: set[str]) -> bool:
        return key in ours and key not in theirs and key not in base

    out = list(children)
    at = 0
    while at < len(out):
        ours = _run(keys, at, lambda k: added(k, left, right))
        theirs = _run(keys, at + ours, lambda k: added(k, right, left))
        if (
            ours
            and theirs
            and _starts_group(out[at])
            and not _starts_group(out[at + ours])
            and _one_place(keys, at, ours, versions)
        ):
            swapped = out[at + ours : at + ours + theirs] + out[at : at + ours]
            out[at : at + ours + theirs] = swapped
            keys[at : at + ours + theirs] = [_key(c) for c in swapped]
            at += ours + theirs
        else:
            at += max(ours, 1)
    return out


def _run(keys: list[str], start: int, test: Callable[[str], bool]) -> int:
    """How many keys from `start` on pass `test`."""
    end = start
    while end < len(keys) and test(keys[end]):
        end += 1
    return end - start


def _starts_group(seg: Seg) -> bool:
    """Whether a unit's text starts with a blank line (it is set apart from the one above)."""
    first = seg.render().split("\n", 1)
    return len(first) > 1 and not first[0].strip()


def _one_place(keys: list[str], at: int, ours: int, versions: list[list[str]]) -> bool:
    """Whether left's run (at `at`, `ours` units) and right's run after it were added after
    the same unit, each in its own version."""
    before = keys[at - 1] if at > 0 else None
    left, right = versions[1], versions[2]
    first_ours, first_theirs = keys[at], keys[at + ours]
    if left.count(first_ours) != 1 or right.count(first_theirs) != 1:
        return False
    i, j = left.index(first_ours), right.index(first_theirs)
    return (left[i - 1] if i > 0 else None) == before == (right[j - 1] if j > 0 else None)
