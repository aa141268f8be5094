"""The merge driver: a syntax-aware 3-way merge of one file that is never worse than git's.

The pipeline tries the cheapest strategy first and always ends in one that cannot fail
(as Mergiraf does):

1. ``identical``: a side equals the base or both sides are equal; nothing to merge.
2. ``git-line``: git's own line merge (the real ``git merge-file``). Kept unchanged when it is
   clean, parses, and the semantic checks of the node model find nothing in it; when a cheap
   check of the three versions' units shows those checks cannot find anything
   (`crdtspace.git.mergecheck`), the node model is not even built.
3. ``structured``: the base is imported into an in-memory workspace, each side is written as
   one agent's whole-file edit on its own replica (re-keyed into node edits), the replicas
   sync and the conflict layer analyses the merge. Clean: the merged render. Conflicts: the
   merged render with git-style markers around the smallest region (a node, or lines inside
   it), and semantic conflicts as one comment line above the node.
4. ``fallback``: git's output, when a side does not parse, the language has no grammar, the
   timeout passes, or the structured result fails its own checks; the reason is recorded.

Every structured result is re-parsed before it is returned: a clean one must parse; a
conflicted one must parse whichever side of every marked region is taken. A clean result holds
only lines of the three versions and token merges of one base line's two edits (a node both
sides edited is merged by `crdtspace.git.linemerge`); it is finished with the file-wide rules
of `crdtspace.git.mergetidy` (the line endings and the final line break the sides changed; for
a structured merge, the blank lines between its lines), and for a structured merge, the order
of two sides' additions at one place of `crdtspace.git.mergeorder` (a new group after the
other side's continuation of the group above).

Two sides' changes of neighbouring units merge, except where they are two versions of one
passage: a unit one side adds next to a unit of the base that only the other side edited, as
a copy of that unit's base text repeating the tokens the edit replaced
(`crdtspace.git.tokenmerge.repeats_replaced`) and no other conflict names, is a ``copy-edit``
conflict, marked around both units as git's diff3 has it (serde: one side adds
``type B = <u32 as T>::D;`` below ``type D = <u32 as T>::D;``, which the other side makes
``<u64 as T>``; merged cleanly, the copy would keep the type the edit replaced).

A unit's text starts with the comments above it, so a comment above the first of some units
follows whichever unit is first on each side. A ``delete-edit`` conflict whose edit only took
the unit's leading comment and blank lines off, which another unit of the merge now holds, is
no conflict: the deletion wins (`_lead_moved_off`); and in a clean structured merge, a unit
whose leading comment lines are those of the unit just before it, each of them a line the
merge holds more often than any version, is rendered without them (`_repeated_lead`, part of
the rule "identical additions once"). Express: a ``Module dependencies`` comment above the first
``require``, which one side deleted while the other added one above it, is kept once, above
the added one.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import FrameType
from typing import TYPE_CHECKING

from crdtspace.git.linemerge import merge_lines
from crdtspace.git.mergefile import git_merge_file
from crdtspace.model.languages import Profile, extensions, profile_for
from crdtspace.model.memo import TextMemo, forget_all
from crdtspace.model.segment import Seg, segment_module

if TYPE_CHECKING:  # (the node model is imported where a merge needs it: git runs the driver
    # once per file, in a process of its own, and most files never need it; see `_may_hide`)
    from crdtspace.conflicts.findings import Conflict, Side
    from crdtspace.model.document import Document
    from crdtspace.model.history import History
    from crdtspace.model.layout import FileLayout, Span
    from crdtspace.model.replica import Replica

__all__ = [
    "DRIVER_NAME",
    "MergeOutcome",
    "driver_command",
    "driver_config",
    "git_merge_file",
    "gitattributes_lines",
    "merge_files",
]

DRIVER_NAME = "crdtspace"
"""The merge driver's name in .git/config (``merge.crdtspace.*``) and .gitattributes."""

LEFT, RIGHT = "left", "right"
BASE_COMMIT = "0" * 40
# Fixed client ids: the left replica's concurrent inserts come first (yrs orders concurrent
# inserts at one place by client id), so "both added a function here" is left's, then right's.
LEFT_CLIENT, RIGHT_CLIENT = 1, 2
MARKER_SIZE = 7
FORK_ABOVE = 256 << 10
"""Bytes of the largest version past which the structured merge runs in a forked child (see
`_bounded`): smaller ones finish well within the timeout, and a child's warm caches (grammars,
compiled queries) die with it, so forking every merge cost 100 ms each."""
STRUCTURED_LIMIT = 1 << 20
"""Bytes of the largest version the structured merge is tried on (the workspace's own size
limit): past it, git's line merge, at once (a 5.5 MB file took a minute to parse and re-key)."""

IDENTICAL = "identical"
GIT_LINE = "git-line"
STRUCTURED = "structured"
FALLBACK = "fallback"


@dataclass(frozen=True)
class MergeOutcome:
    """The merged text, whether it is clean, how it was made, and what was found."""

    text: str
    clean: bool
    method: str
    fallback_reason: str = ""
    conflicts: tuple[Conflict, ...] = ()
    notes: tuple[str, ...] = field(default=())


class _Timeout(Exception):
    """The structured merge ran past its deadline (internal: turned into a fallback)."""


class _Unplaceable(Exception):
    """A conflict whose region cannot be marked precisely (internal: turned into a fallback)."""


# -- the strategy ---------------------------------------------------------------------------


def merge_files(
    base: str,
    left: str,
    right: str,
    path: str,
    *,
    timeout: float = 10.0,
    marker_size: int = MARKER_SIZE,
) -> MergeOutcome:
    """Merge two versions of the file `path` that forked from `base` (3-way, syntax-aware)."""
    forget_all()  # (the memos of texts serve within one merge: none finds an earlier one's)
    trivial = _trivial(base, left, right)
    if trivial is not None:
        return trivial
    line_text, line_conflicts = git_merge_file(base, left, right, marker_size=marker_size)
    git_outcome = MergeOutcome(line_text, line_conflicts == 0, GIT_LINE)
    profile = profile_for(path)
    if profile is None:
        return git_outcome
    largest = max(len(t.encode("utf-8", "surrogateescape")) for t in (base, left, right))
    if largest > STRUCTURED_LIMIT:
        return _fallback(git_outcome, f"a version has {largest:,} bytes, over {STRUCTURED_LIMIT:,}")
    work = functools.partial(
        _structured, base, left, right, path, profile, git_outcome, timeout, marker_size
    )
    if largest <= FORK_ABOVE:
        return work()
    late = _fallback(git_outcome, f"the structured merge took longer than {timeout:g} s")
    return _bounded(work, timeout, late)


def _structured(
    base: str,
    left: str,
    right: str,
    path: str,
    profile: Profile,
    git_outcome: MergeOutcome,
    timeout: float,
    marker_size: int,
) -> MergeOutcome:
    outcome = _structured_merge(base, left, right, path, profile, git_outcome, timeout, marker_size)
    if not outcome.clean or outcome.method == FALLBACK:
        return outcome
    versions = (base, left, right)
    once = _once_structured if outcome.method == STRUCTURED else _once
    outcome = _finished(
        outcome, once, versions, profile, "identical additions of both sides kept once"
    )
    if outcome.method == STRUCTURED:
        from crdtspace.git.mergeorder import glued_first

        note = "a side's new group put after the other side's continuation of the group"
        outcome = _finished(outcome, glued_first, versions, profile, note)
    return _tidied(outcome, base, left, right, profile)


def _finished(
    outcome: MergeOutcome,
    rule: Callable[[str, tuple[str, str, str], Profile], str],
    versions: tuple[str, str, str],
    profile: Profile,
    note: str,
) -> MergeOutcome:
    """A clean outcome with `rule` applied to its text, noted when it changed anything; as it
    was when the rule fails (never worse than without it)."""
    from dataclasses import replace

    try:
        text = rule(outcome.text, versions, profile)
    except Exception:
        return outcome
    if text == outcome.text:
        return outcome
    return replace(outcome, text=text, notes=(*outcome.notes, note))


def _tidied(
    outcome: MergeOutcome, base: str, left: str, right: str, profile: Profile
) -> MergeOutcome:
    """A clean outcome with the file-wide rules of `crdtspace.git.mergetidy` applied (the line
    endings, the final line break; the blank lines between lines of a structured merge), when
    the result still parses."""
    from dataclasses import replace

    from crdtspace.git.mergetidy import blank_gaps, line_endings

    text = outcome.text
    try:
        text = line_endings(text, base, left, right)
        if outcome.method == STRUCTURED:
            text = blank_gaps(text, base, left, right)
    except Exception:  # (never worse than without it)
        return outcome
    if text == outcome.text or not profile.parses(text):
        return outcome
    return replace(outcome, text=text, notes=(*outcome.notes, "line endings and blank lines"))


def _structured_merge(
    base: str,
    left: str,
    right: str,
    path: str,
    profile: Profile,
    git_outcome: MergeOutcome,
    timeout: float,
    marker_size: int,
) -> MergeOutcome:
    began = time.monotonic()
    try:
        with _alarm(timeout):
            # (a version cut into units parses: only one that cannot be cut is parsed again)
            units = [_cut(text, profile) for text in (base, left, right)]
            names = ("base", LEFT, RIGHT)
            for name, text, unit in zip(names, (base, left, right), units, strict=True):
                if unit is None and not profile.parses(text):
                    reason = f"the {name} version does not parse as {profile.name}"
                    return _fallback(git_outcome, reason)
            checks = _may_hide(units, profile)
            if not checks and _keeps(git_outcome, profile, (base, left, right)):
                return git_outcome  # what `_decide` would keep, without the node model
            merged = _Structured.run(base, left, right, _doc_path(path), began + timeout)
            return _decide(merged, git_outcome, profile, marker_size, checks)
    except _Timeout:
        return _fallback(git_outcome, f"the structured merge took longer than {timeout:g} s")
    except _Unplaceable as exc:
        return _fallback(git_outcome, str(exc))
    except Exception as exc:  # the fallback that cannot fail: any internal error -> git
        return _fallback(git_outcome, f"internal error in the structured merge: {exc!r}")


def _cut(text: str, profile: Profile) -> Seg | None:
    """The text cut into units, or None (it does not parse, or holds a lone surrogate)."""
    try:
        return segment_module(text, profile)
    except UnicodeError:
        return None


def _may_hide(units: list[Seg | None], profile: Profile) -> bool:
    """Whether the semantic checks could find a conflict between the sides (a cheap check of
    the base's and the sides' units, `crdtspace.git.mergecheck`): when not, git's clean merge is
    kept without the node model, and a structured merge skips those checks (and their symbols
    queries)."""
    from crdtspace.git.mergecheck import may_hide_between

    return may_hide_between(*units, language=profile.name)


def _bounded(work: Callable[[], MergeOutcome], timeout: float, late: MergeOutcome) -> MergeOutcome:
    """`work()`, or `late` once `timeout` has passed, for sure.

    The timer signal and the checks between stages cannot interrupt a long call into
    tree-sitter or yrs, so where it is safe (a process with one thread, as the merge driver
    git runs is) the work runs in a forked child that is killed at the deadline; its outcome
    comes back pickled through a pipe. Elsewhere (a library caller with threads) only the
    signal and the checks bound it."""
    if not hasattr(os, "fork") or threading.active_count() != 1 or timeout <= 0:
        return work()
    import pickle  # (here: only versions over FORK_ABOVE come this way)
    import select

    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(reader)
            data = pickle.dumps(work())
            with os.fdopen(writer, "wb") as stream:
                stream.write(data)
        finally:
            os._exit(0)
    os.close(writer)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout + 0.5
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([reader], [], [], left)[0]:
                os.kill(child, signal.SIGKILL)
                return late
            chunk = os.read(reader, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(reader)
        os.waitpid(child, 0)
    try:
        outcome = pickle.loads(b"".join(chunks))
    except Exception:  # the child died without an outcome: do it here, bounded by the checks
        return work()
    return outcome if isinstance(outcome, MergeOutcome) else work()


def _trivial(base: str, left: str, right: str) -> MergeOutcome | None:
    if left == right or right == base:
        return MergeOutcome(left, True, IDENTICAL)
    if left == base:
        return MergeOutcome(right, True, IDENTICAL)
    return None


def _fallback(git_outcome: MergeOutcome, reason: str) -> MergeOutcome:
    return MergeOutcome(
        git_outcome.text, git_outcome.clean, FALLBACK, reason, git_outcome.conflicts
    )


def _decide(
    merged: _Structured,
    git_outcome: MergeOutcome,
    profile: Profile,
    marker_size: int,
    checks: bool = True,
) -> MergeOutcome:
    """Keep git's clean line merge unless the node model sees a conflict in it (the semantic
    checks only when `checks`: they cannot find one otherwise)."""
    from crdtspace.conflicts.analysis import Analyzer
    from crdtspace.model.history import History

    merged.workspace.flush()
    analysis = Analyzer(merged.workspace.document, semantic=checks).analyse()
    semantic = [
        c
        for c in analysis.conflicts
        if c.kind in SEMANTIC_KINDS and not _defined_alike(c, merged.workspace.document)
    ]
    structural = [c for c in analysis.conflicts if c.kind not in SEMANTIC_KINDS]
    notes = tuple(f"{c.kind}: {c.message}" for c in (*analysis.notices, *analysis.broken))
    if not semantic and _keeps(git_outcome, profile, merged.versions):
        extra = tuple(f"{c.kind} (git merged it cleanly): {c.message}" for c in structural)
        return MergeOutcome(git_outcome.text, True, GIT_LINE, notes=notes + extra)
    history = History(merged.workspace.document)
    indented = _indented(profile)
    structural = [
        c
        for c in structural
        if not _deleted_and_relaid(c, history, indented)
        and not merged.moved_alike(c)
        and not _lead_moved_off(c, history, profile)
    ]
    busy = {s.node for c in structural for s in c.sides}
    busy |= {p.key for c in semantic for p in c.places} | {
        s.node for c in semantic for s in c.sides
    }
    structural.extend(merged.copies_beside_edits(history, busy))
    joined: list[Conflict] = []  # concurrent edits of one node git merges cleanly
    for notice in analysis.notices:
        if notice.kind == "merged" and _line_merge(notice, history, indented) is not None:
            joined.append(notice)
        elif notice.kind == "merged":  # edits of one line: a conflict, as git has it
            structural.append(_as_overlap(notice))
    # Edits of the same lines where one side only changed the layout: the other side's lines.
    for conflict in [c for c in structural if c.kind == "overlap"]:
        if _line_merge(conflict, history, indented) is not None:
            structural.remove(conflict)
            joined.append(conflict)
    joined_nodes = {s.node for c in joined for s in c.sides}
    structural = [
        c for c in structural if c.kind != "syntax" or not {s.node for s in c.sides} <= joined_nodes
    ]
    found = (*structural, *semantic)
    text = merged.render_with(structural, semantic, profile, marker_size, joined)
    if not found:
        if not profile.parses(text):
            return _fallback(git_outcome, "the structured merge does not parse")
        merged_lines = {  # (a token merge of one line's two edits: not invented text)
            line
            for notice in joined
            for part in (_line_merge(notice, history, indented) or {}).values()
            for line in part.splitlines()
        }
        invented = _invented(text, merged.versions, merged_lines)
        if invented is not None:
            return _fallback(
                git_outcome, f"the structured merge holds a line no version holds: {invented!r}"
            )
        return MergeOutcome(text, True, STRUCTURED, notes=notes)
    side = _unparsed_side(text, profile, marker_size)
    if side:  # git's merge inside a node mixed the sides: mark the whole node instead
        text = merged.render_with(structural, semantic, profile, marker_size, joined, True)
        side = _unparsed_side(text, profile, marker_size)
    if side:
        return _fallback(git_outcome, f"the structured merge does not parse when {side} is taken")
    return MergeOutcome(text, False, STRUCTURED, conflicts=found, notes=notes)


def _unparsed_side(text: str, profile: Profile, marker_size: int) -> str:
    """The side whose taking every conflict block of `text` does not parse, or ""."""
    for side in (LEFT, RIGHT):
        if not profile.parses(take_side(text, side, marker_size)):
            return side
    return ""


def _keeps(git_outcome: MergeOutcome, profile: Profile, versions: tuple[str, str, str]) -> bool:
    """Whether git's line merge can be kept (semantic checks aside): clean, parses, and no
    line in it twice that the three versions hold the same number of times (code both sides
    moved to different places, which git keeps at both)."""
    if not git_outcome.clean or not profile.parses(git_outcome.text):
        return False
    counts = [_line_counts(v) for v in versions]
    for line, n in _line_counts(git_outcome.text).items():
        held = counts[0].get(line, 0)
        if n > held > 0 and counts[1].get(line, 0) == held == counts[2].get(line, 0):
            return False
    return True


def _defined_alike(conflict: Conflict, document: Document) -> bool:
    """A ``duplicate-definition`` of two nodes with the same text: both sides added the same
    unit (an identical addition, kept once), not two definitions of one name."""
    if conflict.kind != "duplicate-definition" or len(conflict.sides) != 2:
        return False
    nodes = [s.node for s in conflict.sides]
    if not all(document.has_node(n) for n in nodes):
        return False
    return len({document.render_node(n).strip() for n in nodes}) == 1


def _indented(profile: Profile) -> bool:
    """Whether the language's indentation is code (no layout-only change may touch it)."""
    return profile.name == "python"


def _line_merge(
    notice: Conflict, history: History, indented: bool = False
) -> dict[str, str] | None:
    """A whole-line merge of the texts of a node both sides edited (`notice`: a ``merged`` or
    ``overlap`` finding), part by part, or None where the sides' changes meet (and neither
    side's part of them is layout only: `crdtspace.git.linemerge`).

    The node's own merge (the CRDT's, character by character) would also join two edits of
    one line, or an insertion to a neighbouring line's end, into a line no version holds."""
    sides = {s.agent: s for s in notice.sides}
    if set(sides) != {LEFT, RIGHT}:
        return None
    left, right = sides[LEFT], sides[RIGHT]
    if left.node != right.node:
        return None
    base = history.fork_texts(left.node, [left.entry, right.entry])
    ours, theirs = history.after(left.node, left.entry), history.after(right.node, right.entry)
    kind = str(history.document.node(left.node).get("kind", ""))
    items = "import" in kind or "use_" in kind  # (an import block: its lines are items)
    out: dict[str, str] = {}
    for part in sorted(set(base) | set(ours) | set(theirs)):
        a, o, b = ours.get(part, ""), base.get(part, ""), theirs.get(part, "")
        if a in (o, b):
            out[part] = b
        elif b == o:
            out[part] = a
        elif part == "name":
            return None
        else:
            text = merge_lines(o, a, b, indented=indented, items=items)
            if text is None:
                return None
            out[part] = text
    return out


def _deleted_and_relaid(conflict: Conflict, history: History, indented: bool) -> bool:
    """Whether `conflict` is a ``delete-edit`` of one node whose edit only changed its layout
    (gofmt's `a+b` to `a + b`, a re-indent): nothing of the edit is lost with the node, so
    the deletion wins, cleanly. A move only, or an edit of something inside a deleted
    container, stays a conflict."""
    from crdtspace.git.linemerge import layout_only

    if conflict.kind != "delete-edit" or len(conflict.sides) != 2:
        return False
    actions = {s.action: s for s in conflict.sides}
    gone, kept = actions.get("delete"), actions.get("keep")
    if gone is None or kept is None or gone.node != kept.node or gone.entry == kept.entry:
        return False
    node = kept.node
    base = history.fork_texts(node, [gone.entry, kept.entry])
    after = history.after(node, kept.entry)
    changed = [p for p in set(base) | set(after) if base.get(p, "") != after.get(p, "")]
    return bool(changed) and all(
        layout_only(base.get(p, ""), after.get(p, ""), indented=indented) for p in changed
    )


def _lead_moved_off(conflict: Conflict, history: History, profile: Profile) -> bool:
    """Whether `conflict` is a ``delete-edit`` of one unit whose edit only took its leading
    lines off (comments and blank lines: they hold no unit), which another unit of the merge
    now holds (express: a comment above the first declaration, which one side deleted, moved
    to the declaration the other side added above it): nothing of the edit is lost with the
    unit, so the deletion wins, cleanly."""
    if conflict.kind != "delete-edit" or len(conflict.sides) != 2:
        return False
    actions = {s.action: s for s in conflict.sides}
    gone, kept = actions.get("delete"), actions.get("keep")
    if gone is None or kept is None or gone.node != kept.node:
        return False
    document = history.document
    node = kept.node
    if not document.has_node(node) or document.is_container(node):
        return False
    base = history.fork_texts(node, [gone.entry, kept.entry]).get("text", "")
    after = history.after(node, kept.entry).get("text", "")
    if not after.strip() or after == base or not base.endswith(after):
        return False
    lead = base[: len(base) - len(after)]
    if not lead.strip() or not lead.endswith("\n"):
        return False
    seg = _cut(lead, profile)
    if seg is None or seg.children:
        return False
    parent = document.parent(node)
    others = [c for c in document.children(parent) if c != node] if parent else []
    return any(lead.strip() in document.render_node(c) for c in others)


def _as_overlap(notice: Conflict) -> Conflict:
    """A ``merged`` finding git's line merge conflicts on, as the ``overlap`` it is."""
    from dataclasses import replace

    from crdtspace.conflicts.findings import CONFLICT

    agents = " and ".join(notice.agents) or "both sides"
    label = notice.places[0].name if notice.places else "a node"
    return replace(
        notice,
        kind="overlap",
        category=CONFLICT,
        message=f"{agents} changed the same or adjacent lines of {label or 'the file'}.",
    )


def _invented(
    text: str, versions: tuple[str, str, str], merged: set[str] | frozenset[str] = frozenset()
) -> str | None:
    """A line of `text` that none of the three versions holds (the first), or None; the lines
    of `merged` (the token merges of lines both sides edited, `_line_merge`'s) are known."""
    known: set[str] = set(merged)
    for version in versions:
        known.update(version.splitlines())
    for line in text.splitlines():
        if line not in known:
            return line
    return None


def _once_structured(text: str, versions: tuple[str, str, str], profile: Profile) -> str:
    """`_once` with the leading lines of a unit that repeat those of the unit before it
    (`_repeated_lead`) left out too: the node model gives each unit the comments above it,
    so a comment the sides saw above different first units comes back with each."""
    return _once(text, versions, profile, leads=True)


def _once(
    text: str, versions: tuple[str, str, str], profile: Profile, *, leads: bool = False
) -> str:
    """`text` (a clean merge) with identical additions kept once: a unit whose text (blank
    lines around it aside) a container holds more often than any version holds it there (both
    sides added the same import, the same constant), and a line an import unit holds twice that
    no version holds twice. The first copy stays; the text is returned as it is when nothing
    repeats or a version does not parse."""
    counts = [_line_counts(v) for v in versions]
    merged_counts = _line_counts(text)
    if all(n <= max(c.get(line, 0) for c in counts) for line, n in merged_counts.items()):
        return text  # (no line is there more often than in a version: the common case)
    merged = _cut(text, profile)
    cuts = [_cut(v, profile) for v in versions]
    if merged is None or any(c is None for c in cuts):
        return text
    allowed: dict[tuple[object, ...], int] = {}
    for cut in cuts:
        assert cut is not None
        for key, n in _unit_counts(cut).items():
            allowed[key] = max(allowed.get(key, 0), n)
    lines: dict[str, int] = {}
    for c in counts:
        for line, n in c.items():
            lines[line] = max(lines.get(line, 0), n)
    lead: Callable[[str, str], int] = _no_lead
    if leads:
        lead = functools.partial(_repeated_lead, profile=profile, merged=merged_counts, lines=lines)
    out = _render_once(merged, (), allowed, {}, lines, lead)
    return out if out != text and profile.parses(out) else text


_LINE_COUNTS: TextMemo[dict[str, int]] = TextMemo(entries=8, chars=4 << 20, largest=1 << 20)


def _line_counts(text: str) -> dict[str, int]:
    """How often each line that is not blank is in `text` (counted once a merge; read only)."""
    counts = _LINE_COUNTS.get((text,))
    if counts is None:
        counts = Counter(line for line in text.splitlines() if line.strip())
        _LINE_COUNTS.put((text,), counts)
    return counts


def _unit_counts(seg: Seg, path: tuple[object, ...] = ()) -> dict[tuple[object, ...], int]:
    out: dict[tuple[object, ...], int] = {}
    for child in seg.children:
        key = (path, child.render().strip())
        out[key] = out.get(key, 0) + 1
        for inner, n in _unit_counts(child, (*path, child.kind, child.name)).items():
            out[inner] = out.get(inner, 0) + n
    return out


def _render_once(
    seg: Seg,
    path: tuple[object, ...],
    allowed: dict[tuple[object, ...], int],
    seen: dict[tuple[object, ...], int],
    lines: dict[str, int],
    lead: Callable[[str, str], int],
) -> str:
    if seg.text is not None:
        return _import_once(seg, lines) if "import" in seg.kind or "use_" in seg.kind else seg.text
    out = [seg.head]
    before = ""
    for child in seg.children:
        key = (path, child.render().strip())
        seen[key] = seen.get(key, 0) + 1
        if key[1] and seen[key] > max(allowed.get(key, 0), 1):
            continue  # an identical addition already rendered
        text = _render_once(child, (*path, child.kind, child.name), allowed, seen, lines, lead)
        out.append(text[lead(before, text) :])
        before = text
    out.append(seg.tail)
    return "".join(out)


def _no_lead(before: str, text: str) -> int:
    return 0


def _repeated_lead(
    before: str, text: str, *, profile: Profile, merged: dict[str, int], lines: dict[str, int]
) -> int:
    """The length of the leading lines of a unit's `text` to leave out as the lead of the
    unit `before` it again: all the lines before the code of each (comments and blank lines:
    they hold no unit), blank lines above them aside, are the same, and every one of them that
    is not blank the merge holds more often than any version (a comment above the first of
    some declarations, which each side saw on a different first one). One such line is not
    enough: ``/**`` and `` */`` are in every doc comment, and overloads that repeat their doc
    comment keep it (typeorm's `orderBy`, when both sides had added doc comments elsewhere)."""
    ours, theirs = (unit.splitlines(keepends=True) for unit in (before, text))
    first = [_blanks(ours), _blanks(theirs)]  # (blank lines above them aside)
    n = 0
    while (
        first[0] + n < len(ours)
        and first[1] + n < len(theirs)
        and ours[first[0] + n] == theirs[first[1] + n]
    ):
        n += 1
    solid = [line.rstrip("\r\n") for line in theirs[first[1] : first[1] + n] if line.strip()]
    if not solid or not all(merged.get(line, 0) > lines.get(line, 0) for line in solid):
        return 0  # (each of its lines one more time than any version has it: a copy)
    for unit, start in ((ours, first[0]), (theirs, first[1])):
        if not _trivia("".join(unit[: start + n]), profile):
            return 0
        if start + n < len(unit) and _trivia("".join(unit[: start + n + 1]), profile):
            return 0  # (the lead is all the unit's leading lines, in both)
    return len("".join(theirs[: first[1] + n]))


def _blanks(lines: list[str]) -> int:
    """How many blank lines `lines` starts with."""
    return next((i for i, line in enumerate(lines) if line.strip()), len(lines))


def _trivia(text: str, profile: Profile) -> bool:
    """Whether `text` parses and holds no unit (comments and blank lines)."""
    seg = _cut(text, profile)
    return seg is not None and not seg.children


def _import_once(seg: Seg, lines: dict[str, int]) -> str:
    """An import unit's text without a second copy of a line no version holds twice."""
    text = seg.text or ""
    out: list[str] = []
    here: dict[str, int] = {}
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        here[bare] = here.get(bare, 0) + 1
        if here[bare] > 1 and here[bare] > lines.get(bare, 0) and any(ch.isalnum() for ch in bare):
            continue
        out.append(line)
    return "".join(out)


COPY_EDIT = "copy-edit"
"""A unit one side added beside a unit the other side edited, copying what the edit replaced."""

SEMANTIC_KINDS = frozenset(
    {"dangling-reference", "import-removed", "signature-mismatch", "duplicate-definition"}
)


# -- git's line merge -----------------------------------------------------------------------


# -- parsing --------------------------------------------------------------------------------


# -- the structured merge -------------------------------------------------------------------


@dataclass
class _Structured:
    """Two replicas of the base, each side written as one agent's edit, then synced."""

    path: str
    base: Document
    workspace: Replica
    versions: tuple[str, str, str] = ("", "", "")

    @classmethod
    def run(cls, base: str, left: str, right: str, path: str, deadline: float) -> _Structured:
        from crdtspace.model.document import Document
        from crdtspace.model.importing import TrackedFile, import_commit
        from crdtspace.model.links import sync
        from crdtspace.model.replica import Replica
        from crdtspace.model.versions import new_doc

        update = import_commit(BASE_COMMIT, [TrackedFile(path, "100644", BASE_COMMIT, base, None)])
        base_doc = new_doc()
        base_doc.apply_update(update)
        replicas = []
        for agent, client, text in ((LEFT, LEFT_CLIENT, left), (RIGHT, RIGHT_CLIENT, right)):
            _check(deadline)
            doc = new_doc(client)
            doc.apply_update(update)
            replica = Replica(doc, agent=agent)
            replica.write(path, text, description=f"merge: {agent}")
            replicas.append(replica)
        _check(deadline)
        sync(replicas[0], replicas[1])
        _check(deadline)
        return cls(path, Document(base_doc), replicas[0], (base, left, right))

    def render_with(
        self,
        structural: list[Conflict],
        semantic: list[Conflict],
        profile: Profile,
        marker_size: int,
        joined: list[Conflict] | None = None,
        whole: bool = False,
    ) -> str:
        """The merged file with markers around structural conflicts and comments above
        semantic ones; the nodes of `joined` (``merged`` findings) get git's line merge of
        their texts instead of the character merge. With `whole`, a node both sides changed
        is marked whole (its three texts), not as git's merge of them."""
        from crdtspace.model.history import History
        from crdtspace.model.layout import FileLayout

        document = self.workspace.document
        layout = FileLayout.build(document, self.path)
        history = History(document)
        edits: list[tuple[int, int, str]] = []
        marked_nodes = {s.node for c in structural for s in c.sides}
        for notice in joined or ():
            texts = _line_merge(notice, history, _indented(profile))
            span = layout.spans.get(notice.sides[0].node)
            if texts is None or span is None or notice.sides[0].node in marked_nodes:
                continue
            for part, (start, end) in _part_ranges(span).items():
                if part in texts and layout.text[start:end] != texts[part]:
                    edits.append((start, end, texts[part]))
        marked: set[str] = set()
        # An overlap first: the same node's `syntax` finding (the interleaved text does not
        # parse) is then covered by the overlap's markers.
        covered = self._inside_deleted(structural)
        for conflict in sorted(structural, key=lambda c: c.kind != "overlap"):
            nodes = {s.node for s in conflict.sides}
            if conflict.kind == "syntax" and nodes <= marked:
                continue
            if conflict.kind != "delete-edit" and nodes <= covered:
                continue  # (inside a unit a delete-edit conflict shows whole)
            marked |= nodes
            edits.extend(self._markers(conflict, layout, history, marker_size, whole))
        for conflict in semantic:
            for comment in _comments(conflict, layout, _comment_prefix(profile)):
                edits = _insert(edits, comment)
        return _apply(layout.text, edits)

    def _markers(
        self, conflict: Conflict, layout: FileLayout, history: History, size: int, whole: bool
    ) -> list[tuple[int, int, str]]:
        sides = {s.agent: s for s in conflict.sides}
        if set(sides) != {LEFT, RIGHT}:
            raise _Unplaceable(f"cannot mark the {conflict.kind} conflict: {conflict.message}")
        left, right = sides[LEFT], sides[RIGHT]
        if conflict.kind in ("overlap", "syntax") and left.node == right.node:
            merge = conflict.kind == "overlap" and not whole
            return _node_markers(left, right, layout, history, size, merge)
        if conflict.kind == "delete-edit" and left.node == right.node:
            return self._delete_edit(left, right, layout, history, size)
        if conflict.kind == "add-add" and left.node != right.node:
            return _add_add(left, right, layout, size)
        if conflict.kind == "move-move" and left.node == right.node:
            return self._move_move(left, right, layout, size)
        if conflict.kind == COPY_EDIT and left.node != right.node:
            return self._copy_edit(left, right, layout, size)
        raise _Unplaceable(f"cannot mark the {conflict.kind} conflict: {conflict.message}")

    def _delete_edit(
        self, left: Side, right: Side, layout: FileLayout, history: History, size: int
    ) -> list[tuple[int, int, str]]:
        """Markers where a unit one side deleted and the other edited stands (or stood): the
        kept side's text of the whole unit (a class with its members), nothing, and the
        base's."""
        nid = left.node
        texts = {
            s.agent: "" if s.action == "delete" else self._kept_text(s, history)
            for s in (left, right)
        }
        base_text = self._base_text(nid, left, right, history)
        span = layout.spans.get(nid)
        # Blank lines every present text starts with stay outside the markers.
        shared = _shared_blank_prefix(*(t for t in (*texts.values(), base_text) if t))
        a, o, b = (t[shared:] for t in (texts[LEFT], base_text, texts[RIGHT]))
        block = _block(a, o, b, size)
        if span is not None:  # (still rendered: moved by the side that kept it)
            return [(span.start, span.end, layout.text[span.start : span.start + shared] + block)]
        at = self._where_deleted(nid, layout)
        if at > 0 and layout.text[at - 1] != "\n" and not base_text[:shared]:
            block = "\n" + block  # (after a last line without its line break)
        return [(at, at, base_text[:shared] + block)]

    def copies_beside_edits(self, history: History, busy: set[str]) -> list[Conflict]:
        """``copy-edit`` conflicts: a unit one side added next to a unit of the base only the
        other side edited, as a copy of that unit's base text that repeats what the edit
        replaced (`crdtspace.git.tokenmerge.repeats_replaced`). Units of other conflicts
        (`busy`, which gets the units of these too), semantic ones among them (a renamed name
        the copy still uses: the ``dangling-reference`` says it), are left to those."""
        from crdtspace.conflicts.findings import CONFLICT, Context, Side, make
        from crdtspace.git.tokenmerge import repeats_replaced

        document = self.workspace.document
        out: list[Conflict] = []
        for nid in sorted(document.edited_nodes()):
            if nid in busy or not document.has_node(nid) or self.base.has_node(nid):
                continue
            made = history.entries(nid).creation
            if made is None or document.is_container(nid):
                continue
            siblings = document.children(document.parent(nid))
            if nid not in siblings:
                continue
            at = siblings.index(nid)
            for near in (siblings[at - 1 : at] if at > 0 else []) + siblings[at + 1 : at + 2]:
                if near in busy or not self.base.has_node(near) or document.is_container(near):
                    continue
                log = history.node_log(near)
                if len(log.heads) != 1:
                    continue
                head = log.entries[log.heads[0]]
                if head.op == "delete" or {e.agent for e in log.entries.values()} != {head.agent}:
                    continue
                if head.agent == made.agent:
                    continue
                base = self.base.render_node(near)
                if not repeats_replaced(
                    base, document.render_node(near), document.render_node(nid)
                ):
                    continue
                ctx = Context(document)
                sides = [
                    Side(made.agent, nid, made.id, "text"),
                    Side(head.agent, near, head.id, "text"),
                ]
                message = (
                    f"{made.agent} added a copy of {ctx.qualname(near) or 'a unit'} beside it,"
                    f" repeating text {head.agent} changed there."
                )
                out.append(make(COPY_EDIT, CONFLICT, [ctx.place(near)], sides, message))
                busy |= {nid, near}
                break
        return out

    def _copy_edit(
        self, left: Side, right: Side, layout: FileLayout, size: int
    ) -> list[tuple[int, int, str]]:
        """Markers around a unit one side edited and the copy of it the other side added
        beside it (a ``copy-edit`` conflict): the adding side's two units, the base's unit,
        the editing side's unit."""
        document = self.workspace.document
        added = left if self.base.has_node(right.node) else right
        edited = right if added is left else left
        one, other = layout.spans.get(added.node), layout.spans.get(edited.node)
        if one is None or other is None:
            raise _Unplaceable("cannot mark a copy-edit conflict of units not in the file")
        first, second = sorted((one, other), key=lambda span: span.start)
        if first.end != second.start:
            raise _Unplaceable("cannot mark a copy-edit conflict of units apart")
        base = self.base.render_node(edited.node)
        if first.nid == edited.node:
            ours = base + layout.text[second.start : second.end]
        else:
            ours = layout.text[first.start : first.end] + base
        theirs = document.render_node(edited.node)
        texts = {added.agent: ours, edited.agent: theirs}
        shared = _shared_blank_prefix(texts[LEFT], base, texts[RIGHT])
        a, o, b = (t[shared:] for t in (texts[LEFT], base, texts[RIGHT]))
        block = _block(a, o, b, size)
        return [(first.start + shared, second.end, block)]

    def _move_move(
        self, left: Side, right: Side, layout: FileLayout, size: int
    ) -> list[tuple[int, int, str]]:
        """A unit both sides moved to different places: its (merged) text in a block where
        left put it, left's part only, and in one where right put it, right's part only."""
        nid = left.node
        span = layout.spans.get(nid)
        if span is None:
            raise _Unplaceable("cannot mark a move-move conflict of a node not in the file")
        places = {s.agent: self._placed(nid, s, layout) for s in (left, right)}
        if places[LEFT] == places[RIGHT]:
            raise _Unplaceable("cannot tell where each side moved the node")
        text = layout.text[span.start : span.end]
        shared = _shared_blank_prefix(text)
        body = text[shared:]
        edits = [(span.start, span.end, "")]
        for agent, block in (
            (LEFT, _block(body, "", "", size)),
            (RIGHT, _block("", "", body, size)),
        ):
            at = places[agent]
            edits.append((at, at, text[:shared] + block))
        return edits

    def _placed(self, nid: str, side: Side, layout: FileLayout) -> int:
        """Where `side` put a node it moved: the end of the sibling before it in that side's
        version (as rendered now), or the start of its container's body."""
        from crdtspace.model.document import read_list

        document = self.workspace.document
        container = side.detail or document.parent(nid)
        if not document.has_node(container) or not document.is_container(container):
            raise _Unplaceable("cannot find where a side moved the node")
        body = [c for c in read_list(document.node(container)["body"]) if type(c) is str]
        before = self._before_in_side(nid, side.agent, container)
        spots = [i for i, c in enumerate(body) if c == nid]
        if len(spots) > 1 and before is None:
            spots = spots[:1]
        for spot in spots:
            previous = next(
                (c for c in reversed(body[:spot]) if c != nid and c in layout.spans), None
            )
            if len(spots) == 1 or self._same_unit(previous, before):
                if previous is not None:
                    return layout.spans[previous].end
                holder = layout.spans.get(container)
                if holder is None:
                    raise _Unplaceable("cannot find where a side moved the node")
                return holder.head_end
        raise _Unplaceable("cannot tell where each side moved the node")

    def moved_alike(self, conflict: Conflict) -> bool:
        """Whether `conflict` is a ``move-move`` of a node both sides put after the same unit,
        of the units both sides' versions hold, in one container (both sorted one import
        block: retrofit's RestAdapter.java): one move, made twice. The node renders once,
        where the left side put it (its first copy)."""
        sides = {s.agent: s for s in conflict.sides}
        if conflict.kind != "move-move" or set(sides) != {LEFT, RIGHT}:
            return False
        left, right = sides[LEFT], sides[RIGHT]
        if left.node != right.node or left.detail != right.detail:
            return False
        document = self.workspace.document
        container = left.detail or document.parent(left.node)
        if not document.has_node(container):
            return False
        ours, theirs = (self._side_children(agent, container) for agent in (LEFT, RIGHT))
        if ours is None or theirs is None:
            return False
        key = self._node_key(left.node)
        keys = [[_unit_key(c) for c in order] for order in (ours, theirs)]
        common = set(keys[0]) & set(keys[1])
        befores = []
        for order in keys:
            if order.count(key) != 1:
                return False
            at = order.index(key)
            befores.append(next((k for k in reversed(order[:at]) if k in common), None))
        return befores[0] == befores[1]

    def _side_children(self, agent: str, container: str) -> list[Seg] | None:
        """The units of `container` in `agent`'s version, from that version cut into units
        (None when it cannot be told)."""
        document = self.workspace.document
        profile = profile_for(self.path)
        version = self.versions[1] if agent == LEFT else self.versions[2]
        cut = _cut(version, profile) if profile is not None else None
        chain = [container, *self._containers_above(container)]
        for holder in reversed(chain[:-1]):  # from the file's root down to the container
            node = document.node(holder)
            cut = next(
                (
                    c
                    for c in (cut.children if cut else [])
                    if (c.kind, c.name) == (str(node["kind"]), str(node.get("name", "")))
                ),
                None,
            )
        return None if cut is None else list(cut.children)

    def _before_in_side(self, nid: str, agent: str, container: str) -> tuple[str, str] | None:
        """The key (`_unit_key`) of the unit before the node in `agent`'s version, from that
        version cut into units (None when it cannot be told)."""
        children = self._side_children(agent, container)
        if children is None:
            return None
        key = self._node_key(nid)
        keys = [_unit_key(c) for c in children]
        if keys.count(key) != 1:
            return None
        index = keys.index(key)
        return keys[index - 1] if index > 0 else ("", "")

    def _containers_above(self, container: str) -> list[str]:
        document = self.workspace.document
        out: list[str] = []
        current = document.parent(container)
        while current and current not in out:
            out.append(current)
            current = document.parent(current)
        return out

    def _same_unit(self, nid: str | None, unit: tuple[str, str] | None) -> bool:
        if unit is None:
            return False
        if nid is None:
            return unit == ("", "")
        return self._node_key(nid) == unit

    def _node_key(self, nid: str) -> tuple[str, str]:
        """A node's identity among its siblings, as `_unit_key` gives a unit's."""
        document = self.workspace.document
        node = document.node(nid)
        return (str(node["kind"]), str(node.get("name", "")) or document.render_node(nid).strip())

    def _inside_deleted(self, structural: list[Conflict]) -> set[str]:
        """The nodes inside the units of delete-edit conflicts (their markers hold them)."""
        document = self.workspace.document
        out: set[str] = set()
        stack = [s.node for c in structural if c.kind == "delete-edit" for s in c.sides]
        while stack:
            nid = stack.pop()
            if nid in out or not document.has_node(nid):
                continue
            out.add(nid)
            if document.is_container(nid):
                stack.extend(document.children(nid))
        return out

    def _kept_text(self, side: Side, history: History) -> str:
        """The kept side's text of a node: its own texts after its entry for a leaf, the
        merged render of a container (the deleting side changed nothing inside it)."""
        document = self.workspace.document
        if document.is_container(side.node):
            return document.render_node(side.node)
        return history.after(side.node, side.entry).get("text", "")

    def _base_text(self, nid: str, left: Side, right: Side, history: History) -> str:
        if self.base.has_node(nid) and self.base.is_container(nid):
            return self.base.render_node(nid)
        return history.fork_texts(nid, [left.entry, right.entry]).get("text", "")

    def _where_deleted(self, nid: str, layout: FileLayout) -> int:
        """Where a deleted node stood: after its nearest earlier base sibling still present."""
        parent = self.base.parent(nid) if self.base.has_node(nid) else ""
        if not parent:
            raise _Unplaceable("cannot find where the deleted node stood")
        siblings = self.base.children(parent)
        index = siblings.index(nid)
        for before in reversed(siblings[:index]):
            if before in layout.spans:
                return layout.spans[before].end
        for after in siblings[index + 1 :]:
            if after in layout.spans:
                return layout.spans[after].start
        if parent in layout.spans:
            return layout.spans[parent].head_end
        raise _Unplaceable("cannot find where the deleted node stood")


def _unit_key(seg: Seg) -> tuple[str, str]:
    """A unit's identity among its siblings: its kind and name, or its text if it has none
    (an import)."""
    return (seg.kind, seg.name or seg.render().strip())


def _node_markers(
    left: Side, right: Side, layout: FileLayout, history: History, size: int, merge: bool
) -> list[tuple[int, int, str]]:
    """Markers inside one node: git's merge of its texts at the fork and on each side."""
    nid = left.node
    span = layout.spans.get(nid)
    if span is None:
        raise _Unplaceable("cannot mark a conflict of a node that is no longer in the file")
    base = history.fork_texts(nid, [left.entry, right.entry])
    ours, theirs = history.after(nid, left.entry), history.after(nid, right.entry)
    edits = []
    for part, (start, end) in _part_ranges(span).items():
        if ours.get(part, "") == theirs.get(part, ""):
            continue
        a, o, b = ours.get(part, ""), base.get(part, ""), theirs.get(part, "")
        text = git_merge_file(o, a, b, marker_size=size)[0] if merge else _block(a, o, b, size)
        edits.append((start, end, text))
    return edits


def _part_ranges(span: Span) -> dict[str, tuple[int, int]]:
    if not span.container:
        return {"text": (span.start, span.end)}
    return {"head": (span.start, span.head_end), "tail": (span.tail_start, span.end)}


def _add_add(left: Side, right: Side, layout: FileLayout, size: int) -> list[tuple[int, int, str]]:
    first, second = layout.spans.get(left.node), layout.spans.get(right.node)
    if first is None or second is None:
        raise _Unplaceable("cannot mark an add-add conflict of nodes no longer in the file")
    if first.start > second.start:
        first, second = second, first
    if first.end > second.start:
        raise _Unplaceable("cannot mark an add-add conflict of two nested nodes")
    a, b = layout.text[first.start : first.end], layout.text[second.start : second.end]
    if first.nid != left.node:
        a, b = b, a
    shared = _shared_blank_prefix(a, b)
    block = _block(a[shared:], "", b[shared:], size)
    if first.end == second.start:
        return [(first.start + shared, second.end, block)]
    # Apart from each other: both in one block where the first stands, the second taken out.
    return [(first.start + shared, first.end, block), (second.start, second.end, "")]


def _shared_blank_prefix(*texts: str) -> int:
    """Length of the line breaks all texts start with (kept outside the markers)."""
    n = 0
    shortest = min((len(t) for t in texts), default=0)
    while n < shortest and texts[0][n] in "\r\n" and all(t[n] == texts[0][n] for t in texts):
        n += 1
    return n


def _block(left: str, base: str, right: str, size: int) -> str:
    """A git diff3-style conflict block of three whole texts."""

    def line(text: str) -> str:
        return text if not text or text.endswith("\n") else text + "\n"

    return (
        f"{'<' * size} {LEFT}\n{line(left)}{'|' * size} base\n{line(base)}"
        f"{'=' * size}\n{line(right)}{'>' * size} {RIGHT}\n"
    )


def _comments(conflict: Conflict, layout: FileLayout, prefix: str) -> list[tuple[int, int, str]]:
    """One comment line above each node a semantic conflict names (that is in this file)."""
    edits = []
    for place in conflict.places:
        span = layout.spans.get(place.key)
        if span is None:
            continue
        at = _code_start(layout.text, span.start, span.end)
        line_end = layout.text.find("\n", at)
        code_line = layout.text[at : line_end if line_end >= 0 else len(layout.text)]
        indent = code_line[: len(code_line) - len(code_line.lstrip(" \t"))]
        newline = "\r\n" if code_line.endswith("\r") else "\n"
        message = " ".join(conflict.message.split())
        comment = f"{indent}{prefix} crdtspace {conflict.kind}: {message}{newline}"
        edits.append((at, at, comment))
    return edits


def _insert(
    edits: list[tuple[int, int, str]], insertion: tuple[int, int, str]
) -> list[tuple[int, int, str]]:
    """`edits` and an insertion; one that falls inside an edit's range (a comment above a node
    with markers) goes into that edit's new text, above its first line that is not blank."""
    at, _, text = insertion
    for index, (start, end, new) in enumerate(edits):
        if start < at < end:
            where = _code_start(new, 0, len(new))
            return [
                *edits[:index],
                (start, end, new[:where] + text + new[where:]),
                *edits[index + 1 :],
            ]
    return [*edits, insertion]


def _code_start(text: str, start: int, end: int) -> int:
    """The start of the first line of [start, end) that is not blank."""
    at = start
    while at < end:
        line_end = text.find("\n", at, end)
        if line_end < 0 or text[at:line_end].strip():
            return at
        at = line_end + 1
    return start


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace ranges of `text`; edits must not overlap (else the region is not placeable)."""
    edits = sorted(edits, key=lambda e: (e[0], e[1]))
    out: list[str] = []
    at = 0
    for start, end, new in edits:
        if start < at:
            raise _Unplaceable("two conflicts overlap in one region")
        out.extend((text[at:start], new))
        at = end
    out.append(text[at:])
    return "".join(out)


def take_side(text: str, side: str, marker_size: int = MARKER_SIZE) -> str:
    """The text with every diff3 conflict block replaced by one side (`left` or `right`)."""
    opening, middle = "<" * marker_size + " ", "|" * marker_size
    separator, closing = "=" * marker_size, ">" * marker_size
    out: list[str] = []
    state = ""
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if not state and bare.startswith(opening):
            state = LEFT
        elif state and bare.startswith(middle) and (bare == middle or bare[len(middle)] == " "):
            state = "base"
        elif state and bare == separator:
            state = RIGHT
        elif state and bare.startswith(closing) and not bare.startswith(closing + ">"):
            state = ""
        elif not state or state == side:
            out.append(line)
    return "".join(out)


def _comment_prefix(profile: Profile) -> str:
    """The language's line comment (``line_comment`` in its profile.toml)."""
    from crdtspace.conflicts.findings import profile_value

    value = profile_value(profile.name, "line_comment")
    return value if isinstance(value, str) and value else "//"


def _doc_path(path: str) -> str:
    """The path inside the in-memory workspace: relative, posix, as git names it."""
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = [p for p in pure.parts if p not in ("/", ".", "..")]
    return "/".join(parts) or "file"


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise _Timeout


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupt the structured merge after `seconds` when a timer signal is ours to use
    (the main thread, nobody else's SIGALRM handler); else the deadline checks between
    stages are the only limit."""
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        and seconds > 0
    )
    if not usable:
        yield
        return

    armed = [True]

    def expire(signum: int, frame: FrameType | None) -> None:
        if not armed[0]:
            return
        if _in_finalizer(frame):  # (raised there, it would be swallowed, "Exception ignored")
            return  # (the timer fires again: see below)
        raise _Timeout

    signal.signal(signal.SIGALRM, expire)
    # The signal fires again every 50 ms until the merge is over: a _Timeout raised where
    # Python swallows exceptions (a garbage collector callback, a __del__) is raised again.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        while True:
            try:
                armed[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                break
            except _Timeout:  # (a tick between the finally's first steps)
                continue


def _in_finalizer(frame: FrameType | None) -> bool:
    """Whether `frame` runs inside a gc callback (hypothesis installs one) or a `__del__`,
    where Python ignores an exception instead of raising it."""
    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


# -- registration, for `crdtspace hooks install` --------------------------------------------


def driver_command(python: str | None = None) -> str:
    """The command git runs for the driver (%O base, %A current, %B other, %P path, %L size):
    the merge server's client (`crdtspace.git.mergeclient`, through the script beside it), run
    by `python` with neither the site packages nor the environment's PYTHON* variables (it
    needs neither). Where its native client is built (`crdtspace.git.nativeclient`), a shell
    line that runs that while it is there, and the Python client otherwise."""
    from crdtspace.git import mergeclient, nativeclient

    python = python or sys.executable
    plain = f"{_quoted(python)} -I -S {_quoted(mergeclient.SCRIPT)} %O %A %B %P %L"
    native = nativeclient.installed(python)
    if native is None:
        return plain
    binary = _quoted(str(native))
    return f"if [ -x {binary} ]; then exec {binary} %O %A %B %P %L; fi; exec {plain}"


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def driver_config(python: str | None = None) -> dict[str, str]:
    """The .git/config settings that register the driver (``git config KEY VALUE`` each)."""
    return {
        f"merge.{DRIVER_NAME}.name": "crdtspace syntax-aware merge",
        f"merge.{DRIVER_NAME}.driver": driver_command(python),
    }


def gitattributes_lines() -> list[str]:
    """The .gitattributes lines that route every supported language's files to the driver."""
    return [f"*{ext} merge={DRIVER_NAME}" for ext in extensions()]
