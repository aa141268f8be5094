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
conflicted one must parse whichever side of every marked region is taken.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import TYPE_CHECKING

from crdtspace.model.languages import Profile, extensions, profile_for
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
    try:
        text = _once(outcome.text, (base, left, right), profile)
    except Exception:  # (never worse than without it)
        return outcome
    if text == outcome.text:
        return outcome
    from dataclasses import replace

    note = "identical additions of both sides kept once"
    return replace(outcome, text=text, notes=(*outcome.notes, note))


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
            checks = _may_hide(units)
            if not checks and git_outcome.clean and profile.parses(git_outcome.text):
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


def _may_hide(units: list[Seg | None]) -> bool:
    """Whether the semantic checks could find a conflict between the sides (a cheap check of
    the base's and the sides' units, `crdtspace.git.mergecheck`): when not, git's clean merge is
    kept without the node model, and a structured merge skips those checks (and their symbols
    queries)."""
    from crdtspace.git.mergecheck import may_hide_between

    return may_hide_between(*units)


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
    semantic = [c for c in analysis.conflicts if c.kind in SEMANTIC_KINDS]
    structural = [c for c in analysis.conflicts if c.kind not in SEMANTIC_KINDS]
    notes = tuple(f"{c.kind}: {c.message}" for c in (*analysis.notices, *analysis.broken))
    if git_outcome.clean and profile.parses(git_outcome.text) and not semantic:
        extra = tuple(f"{c.kind} (git merged it cleanly): {c.message}" for c in structural)
        return MergeOutcome(git_outcome.text, True, GIT_LINE, notes=notes + extra)
    history = History(merged.workspace.document)
    joined: list[Conflict] = []  # concurrent edits of one node git merges cleanly
    for notice in analysis.notices:
        if notice.kind == "merged" and _line_merge(notice, history) is not None:
            joined.append(notice)
        elif notice.kind == "merged":  # edits of one line: a conflict, as git has it
            structural.append(_as_overlap(notice))
    found = (*structural, *semantic)
    text = merged.render_with(structural, semantic, profile, marker_size, joined)
    if not found:
        if not profile.parses(text):
            return _fallback(git_outcome, "the structured merge does not parse")
        invented = _invented(text, merged.versions)
        if invented is not None:
            return _fallback(
                git_outcome, f"the structured merge holds a line no version holds: {invented!r}"
            )
        return MergeOutcome(text, True, STRUCTURED, notes=notes)
    for side in (LEFT, RIGHT):
        if not profile.parses(take_side(text, side, marker_size)):
            return _fallback(
                git_outcome, f"the structured merge does not parse when {side} is taken"
            )
    return MergeOutcome(text, False, STRUCTURED, conflicts=found, notes=notes)


def _line_merge(notice: Conflict, history: History) -> dict[str, str] | None:
    """git's line merge of the texts of a node both sides edited (`notice`: a ``merged``
    finding), part by part, or None when git finds a conflict in it.

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
            text = merge_lines(o, a, b)
            if text is None:
                return None
            out[part] = text
    return out


def _line_hunks(old: list[str], new: list[str]) -> list[tuple[int, int, list[str]]]:
    """The changed line ranges of old -> new: (first line, end line (exclusive), new lines)."""
    import difflib

    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [(i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def merge_lines(base: str, left: str, right: str) -> str | None:
    """A 3-way merge of whole lines, or None where the sides' changes meet (then it is a
    conflict): ranges that intersect, insertions at one point with different lines, or an
    insertion where the other side's change starts or inside it. Changes on adjacent lines
    merge (the node model's rule, where git would conflict); the same change made on both
    sides is kept once. Every line of the result is a line of one of the three texts."""
    old = base.splitlines(keepends=True)
    ours, theirs = (
        _line_hunks(old, left.splitlines(keepends=True)),
        _line_hunks(old, right.splitlines(keepends=True)),
    )
    changes: list[tuple[int, int, list[str]]] = []
    for hunk in ours:
        if hunk in theirs:
            continue
        for s2, e2, _ in theirs:
            s1, e1, _ = hunk
            if (s1 < e2 and s2 < e1) or (s1 == s2 and (s1 == e1 or s2 == e2)):
                return None
            if (s1 == e1 and s2 < s1 < e2) or (s2 == e2 and s1 < s2 < e1):
                return None
        changes.append(hunk)
    changes.extend(theirs)
    out: list[str] = []
    at = 0
    # (an insertion and a change starting at the same line cannot both be here: see above)
    for start, end, lines in sorted(changes, key=lambda h: (h[0], h[1])):
        out.extend(old[at:start])
        out.extend(lines)
        at = end
    out.extend(old[at:])
    return "".join(out)


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


def _invented(text: str, versions: tuple[str, str, str]) -> str | None:
    """A line of `text` that none of the three versions holds (the first), or None."""
    known: set[str] = set()
    for version in versions:
        known.update(version.splitlines())
    for line in text.splitlines():
        if line not in known:
            return line
    return None


def _once(text: str, versions: tuple[str, str, str], profile: Profile) -> str:
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
    out = _render_once(merged, (), allowed, {}, lines)
    return out if out != text and profile.parses(out) else text


def _line_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.strip():
            counts[line] = counts.get(line, 0) + 1
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
) -> str:
    if seg.text is not None:
        return _import_once(seg, lines) if "import" in seg.kind or "use_" in seg.kind else seg.text
    out = [seg.head]
    for child in seg.children:
        key = (path, child.render().strip())
        seen[key] = seen.get(key, 0) + 1
        if key[1] and seen[key] > max(allowed.get(key, 0), 1):
            continue  # an identical addition already rendered
        out.append(_render_once(child, (*path, child.kind, child.name), allowed, seen, lines))
    out.append(seg.tail)
    return "".join(out)


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


SEMANTIC_KINDS = frozenset(
    {"dangling-reference", "import-removed", "signature-mismatch", "duplicate-definition"}
)


# -- git's line merge -----------------------------------------------------------------------


def git_merge_file(
    base: str,
    left: str,
    right: str,
    *,
    marker_size: int = MARKER_SIZE,
    labels: tuple[str, str, str] = (LEFT, "base", RIGHT),
) -> tuple[str, int]:
    """git's own 3-way line merge (``git merge-file -p --diff3``): the text and its conflicts."""
    with tempfile.TemporaryDirectory(prefix="crdtspace-merge-") as folder:
        files = []
        for name, text in (("left", left), ("base", base), ("right", right)):
            file = Path(folder) / name
            file.write_bytes(text.encode("utf-8", "surrogateescape"))
            files.append(str(file))
        command = ["git", "merge-file", "-p", "--diff3", f"--marker-size={marker_size}"]
        command += ["-L", labels[0], "-L", labels[1], "-L", labels[2], *files]
        done = subprocess.run(command, capture_output=True, check=False, env=_git_env())
    if done.returncode < 0 or done.returncode > 127:  # pragma: no cover - git itself failed
        raise OSError(f"git merge-file failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode("utf-8", "surrogateescape"), done.returncode


def _git_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


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
    ) -> str:
        """The merged file with markers around structural conflicts and comments above
        semantic ones; the nodes of `joined` (``merged`` findings) get git's line merge of
        their texts instead of the character merge."""
        from crdtspace.model.history import History
        from crdtspace.model.layout import FileLayout

        document = self.workspace.document
        layout = FileLayout.build(document, self.path)
        history = History(document)
        edits: list[tuple[int, int, str]] = []
        marked_nodes = {s.node for c in structural for s in c.sides}
        for notice in joined or ():
            texts = _line_merge(notice, history)
            span = layout.spans.get(notice.sides[0].node)
            if texts is None or span is None or notice.sides[0].node in marked_nodes:
                continue
            for part, (start, end) in _part_ranges(span).items():
                if part in texts and layout.text[start:end] != texts[part]:
                    edits.append((start, end, texts[part]))
        marked: set[str] = set()
        # An overlap first: the same node's `syntax` finding (the interleaved text does not
        # parse) is then covered by the overlap's markers.
        for conflict in sorted(structural, key=lambda c: c.kind != "overlap"):
            nodes = {s.node for s in conflict.sides}
            if conflict.kind == "syntax" and nodes <= marked:
                continue
            marked |= nodes
            edits.extend(self._markers(conflict, layout, history, marker_size))
        for conflict in semantic:
            edits.extend(_comments(conflict, layout, _comment_prefix(profile)))
        return _apply(layout.text, edits)

    def _markers(
        self, conflict: Conflict, layout: FileLayout, history: History, size: int
    ) -> list[tuple[int, int, str]]:
        sides = {s.agent: s for s in conflict.sides}
        if set(sides) != {LEFT, RIGHT}:
            raise _Unplaceable(f"cannot mark the {conflict.kind} conflict: {conflict.message}")
        left, right = sides[LEFT], sides[RIGHT]
        if conflict.kind in ("overlap", "syntax") and left.node == right.node:
            return _node_markers(left, right, layout, history, size, conflict.kind == "overlap")
        if conflict.kind == "delete-edit" and left.node == right.node:
            return self._delete_edit(left, right, layout, history, size)
        if conflict.kind == "add-add" and left.node != right.node:
            return _add_add(left, right, layout, size)
        raise _Unplaceable(f"cannot mark the {conflict.kind} conflict: {conflict.message}")

    def _delete_edit(
        self, left: Side, right: Side, layout: FileLayout, history: History, size: int
    ) -> list[tuple[int, int, str]]:
        nid = left.node
        document = self.workspace.document
        if document.is_container(nid) or nid in layout.spans:
            raise _Unplaceable("cannot mark a delete-edit conflict of a class or a kept node")
        texts = {
            s.agent: ("" if s.action == "delete" else history.after(nid, s.entry).get("text", ""))
            for s in (left, right)
        }
        base_text = history.fork_texts(nid, [left.entry, right.entry]).get("text", "")
        at = self._where_deleted(nid, layout)
        # Blank lines every present text starts with stay outside the markers.
        shared = _shared_blank_prefix(*(t for t in (*texts.values(), base_text) if t))
        a, o, b = (t[shared:] for t in (texts[LEFT], base_text, texts[RIGHT]))
        return [(at, at, base_text[:shared] + _block(a, o, b, size))]

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
    if first.end != second.start:
        raise _Unplaceable("cannot mark an add-add conflict of two nodes apart from each other")
    a, b = layout.text[first.start : first.end], layout.text[second.start : second.end]
    if first.nid != left.node:
        a, b = b, a
    shared = _shared_blank_prefix(a, b)
    return [(first.start + shared, second.end, _block(a[shared:], "", b[shared:], size))]


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

    def expire(signum: int, frame: FrameType | None) -> None:
        if _in_finalizer(frame):  # (raised there, it would be swallowed, "Exception ignored")
            signal.setitimer(signal.ITIMER_REAL, 0.01)  # (again once out of it)
            return
        raise _Timeout

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


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
    """The command git runs for the driver (%O base, %A current, %B other, %P path, %L size)."""
    exe = python or sys.executable
    quoted = "'" + exe.replace("'", "'\\''") + "'"
    return f"{quoted} -m crdtspace merge-driver %O %A %B %P --marker-size %L"


def driver_config(python: str | None = None) -> dict[str, str]:
    """The .git/config settings that register the driver (``git config KEY VALUE`` each)."""
    return {
        f"merge.{DRIVER_NAME}.name": "crdtspace syntax-aware merge",
        f"merge.{DRIVER_NAME}.driver": driver_command(python),
    }


def gitattributes_lines() -> list[str]:
    """The .gitattributes lines that route every supported language's files to the driver."""
    return [f"*{ext} merge={DRIVER_NAME}" for ext in extensions()]
