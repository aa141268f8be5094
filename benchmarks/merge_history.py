"""Real merges from repositories' histories, scored for git and the merge driver in one run.

Every merge commit with two parents and a merge base, and every file of a language crdtspace
knows that both parents changed since that base (and the merge commit still holds), is one
real 3-way merge: base = the merge base's version, left = the first parent's, right = the
second's, expected = the merge commit's (the human's merge). Each tool's merge is counted once:

- ``conflicts``: the tool reported conflicts;
- ``same``: clean and equal to the human's merge;
- ``different``: clean but different from it;
- ``reachable``: of those, the ones where the human's merge holds only lines of the three
  versions, so a tool could have produced it (the others hold the human's own edits: no tool
  can match them);
- ``order_only``: of the ``reachable`` ones, those holding the human's lines, each as often,
  in another order (the same multiset of lines, line breaks aside): where both sides added
  imports, methods or tests at one place, the tool put them in another order than the human
  did, an equally good merge;
- ``order_or_blank``: of the ``reachable`` ones, those holding the human's lines that are not
  blank, each as often, in any order (the same multiset of the lines holding more than
  whitespace): the order and the blank lines aside, the human's merge (``order_only`` ones
  included; a regrouped import block, a blank line more or fewer between two additions);
- ``invented``: of the clean ones, those holding a line that none of the versions holds and
  that is not the token merge of one base line's two edits either (`_token_merged`: a line both
  sides edited, where an unchanged token separates the two edits, the one kind of new line a
  clean merge may hold);
- ``git_right_not_ours`` (driver row): git merged cleanly and equal to the human's merge but
  the driver did not; ``right_git_not`` the other way round;
- ``p50_ms``, ``x_git``: the median time of the tool's merge in process (git merge-file as a
  process of its own, the driver as a call, which runs git merge-file too), and that median
  over git's, both timed one after the other on each merge.

A second table (`anatomy`) takes the driver's conflicts apart, to tell the conflicts a tool
could still resolve from those it must report: how many git reports too; where the human's
merge is one side's file whole (the human picked a side: no merge of the two could match it);
where a side deleted a unit the other edited (`delete-edit`, a conflict by rule); where only
the semantic checks object (the text merged); and, block by block (each conflict block of the
driver's markers, found in the human's merge as a run of lines), whether the human kept one
side's lines of the block, both sides' (one after the other, or apart), or neither (their own).

`python benchmarks/merge.py --real REPO...` runs it (a bare git directory or a checkout each);
``--per-repo N`` keeps the N most recent file merges of each language in each repository.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crdtspace.git.mergedriver import git_merge_file, merge_files
from crdtspace.model.languages import profile_for

__all__ = ["RealMerge", "anatomy", "real_merges", "score"]

LARGEST = 200_000
"""Bytes of the largest version taken (larger files take seconds each and say little more)."""


@dataclass(frozen=True)
class RealMerge:
    """One file of one merge commit: the three versions and the human's merge."""

    repo: str
    commit: str
    path: str
    base: str
    left: str
    right: str
    expected: str

    @property
    def language(self) -> str:
        profile = profile_for(self.path)
        return profile.name if profile is not None else ""

    @property
    def name(self) -> str:
        return f"{self.repo}@{self.commit[:10]}:{self.path}"


class _Git:
    """One repository: git commands, and blobs through one `git cat-file --batch`."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._batch = subprocess.Popen(
            ["git", f"--git-dir={self._git_dir()}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def _git_dir(self) -> Path:
        return self.repo / ".git" if (self.repo / ".git").exists() else self.repo

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["git", f"--git-dir={self._git_dir()}", *args], capture_output=True, check=False
        )
        return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else ""

    def blob(self, rev: str, path: str) -> str | None:
        """The file at `rev`, or None (missing, not UTF-8, or over LARGEST bytes)."""
        assert self._batch.stdin is not None
        assert self._batch.stdout is not None
        self._batch.stdin.write(f"{rev}:{path}\n".encode())
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().split()
        if len(header) != 3:
            return None
        size = int(header[2])
        data = self._batch.stdout.read(size + 1)[:size]
        if size > LARGEST:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def close(self) -> None:
        if self._batch.stdin is not None:
            self._batch.stdin.close()
        self._batch.wait()


def real_merges(repo: Path, per_language: int) -> list[RealMerge]:
    """The `per_language` most recent file merges of each language in `repo`'s history."""
    git = _Git(repo)
    name = repo.resolve().name
    if name in ("repo", ".git"):
        name = repo.resolve().parent.name.replace("+", "/")
    counts: dict[str, int] = {}
    out: list[RealMerge] = []
    try:
        for commit, parents in _merge_commits(git):
            base = git.run("merge-base", *parents).strip()
            if not base:
                continue
            for merge in _file_merges(git, name, commit, base, parents):
                if counts.get(merge.language, 0) >= per_language:
                    continue
                counts[merge.language] = counts.get(merge.language, 0) + 1
                out.append(merge)
    finally:
        git.close()
    return out


def _merge_commits(git: _Git) -> Iterator[tuple[str, list[str]]]:
    for line in git.run("rev-list", "--merges", "--parents", "HEAD").splitlines():
        commit, *parents = line.split()
        if len(parents) == 2:
            yield commit, parents


def _file_merges(
    git: _Git, repo: str, commit: str, base: str, parents: list[str]
) -> Iterator[RealMerge]:
    changed = [
        set(git.run("diff", "--name-only", "--no-renames", base, p).split("\n")) for p in parents
    ]
    for path in sorted(changed[0] & changed[1]):
        if not path or profile_for(path) is None:
            continue
        texts = [git.blob(rev, path) for rev in (base, *parents, commit)]
        if any(t is None for t in texts):
            continue
        o, a, b, m = (t or "" for t in texts)
        if len({o, a, b}) == 3:
            yield RealMerge(repo, commit, path, o, a, b, m)


# -- scoring --------------------------------------------------------------------------------


def _lines(*texts: str) -> set[str]:
    return {line for text in texts for line in text.splitlines()}


def _token_merged(line: str, merge: RealMerge) -> bool:
    """Whether `line` is the token merge of a base line's two edits, a line of each side (the
    lines tried: those only one version holds and that look like `line`)."""
    import difflib

    from crdtspace.git.tokenmerge import merge_line_tokens

    def near(text: str, *others: str) -> list[str]:
        lines = _lines(text) - _lines(*others)
        return [c for c in lines if difflib.SequenceMatcher(None, c, line).quick_ratio() > 0.5]

    bases = near(merge.base, merge.left, merge.right)
    lefts, rights = near(merge.left, merge.base), near(merge.right, merge.base)
    return any(merge_line_tokens(o, a, b) == line for o in bases for a in lefts for b in rights)


def _same_lines(text: str, expected: str, solid: bool = False) -> bool:
    """Whether `text` holds the lines of `expected`, each as often, in any order (line breaks
    aside; with `solid`, only the lines that hold more than whitespace are counted)."""
    from collections import Counter

    def lines(t: str) -> Counter[str]:
        return Counter(line for line in t.splitlines() if not solid or line.strip())

    return lines(text) == lines(expected)


def _judge(merge: RealMerge) -> dict[str, Any]:
    """Both tools' verdicts on one merge (run in a worker process)."""
    known = _lines(merge.base, merge.left, merge.right)
    reachable = _lines(merge.expected) <= known
    began = time.perf_counter()
    git_text, git_conflicts = git_merge_file(merge.base, merge.left, merge.right)
    git_s = time.perf_counter() - began
    began = time.perf_counter()
    outcome = merge_files(merge.base, merge.left, merge.right, merge.path)
    driver_s = time.perf_counter() - began
    verdicts: dict[str, Any] = {"name": merge.name, "language": merge.language}
    verdicts["git_ms"], verdicts["driver_ms"] = git_s * 1000, driver_s * 1000
    for tool, clean, text in (
        ("git", git_conflicts == 0, git_text),
        ("driver", outcome.clean, outcome.text),
    ):
        verdicts[tool] = (
            "conflict"
            if not clean
            else "same"
            if text == merge.expected
            else "reachable"
            if reachable
            else "different"
        )
        differs = clean and text != merge.expected
        verdicts[f"{tool}_order_only"] = differs and _same_lines(text, merge.expected)
        verdicts[f"{tool}_order_or_blank"] = differs and _same_lines(text, merge.expected, True)
        verdicts[f"{tool}_invented"] = clean and any(
            not _token_merged(line, merge) for line in _lines(text) - known
        )
    verdicts["method"] = outcome.method
    verdicts["fallback_reason"] = outcome.fallback_reason
    verdicts["kinds"] = sorted({c.kind for c in outcome.conflicts})
    verdicts["reachable"] = reachable
    verdicts["human_took"] = (
        "left" if merge.expected == merge.left else "right" if merge.expected == merge.right else ""
    )
    verdicts["blocks"] = (
        [_human_kept(block, merge.expected) for block in _blocks(outcome.text)]
        if not outcome.clean
        else []
    )
    return verdicts


def _blocks(text: str) -> list[tuple[str, str]]:
    """Each conflict block of a merge's markers: (ours, theirs)."""
    blocks: list[tuple[str, str]] = []
    parts: dict[str, str] | None = None
    side = "ours"
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<< "):
            parts, side = {"ours": "", "base": "", "theirs": ""}, "ours"
        elif parts is not None and line.startswith("||||||| "):
            side = "base"
        elif parts is not None and line.rstrip("\r\n") == "=======":
            side = "theirs"
        elif parts is not None and line.startswith(">>>>>>> "):
            blocks.append((parts["ours"], parts["theirs"]))
            parts = None
        elif parts is not None:
            parts[side] += line
    return blocks


def _human_kept(block: tuple[str, str], expected: str) -> str:
    """What the human's merge kept of one conflict block: one side's lines, both, or neither."""
    ours, theirs = block
    if ours and theirs and (ours + theirs in expected or theirs + ours in expected):
        return "both"
    held = [bool(lines) and lines in expected for lines in (ours, theirs)]
    if all(held):
        return "both"
    if any(held):
        return "one"
    # one side emptied the block: the human kept that side when the other's lines are gone
    return "one" if (not ours or not theirs) else "neither"


def judge_all(merges: list[RealMerge], workers: int) -> list[dict[str, Any]]:
    """Every merge's verdicts, in `workers` processes."""
    if workers <= 1:
        return [_judge(m) for m in merges]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_judge, merges, chunksize=4))


def score(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per language and in all, a row for git and one for the driver."""
    languages = sorted({v["language"] for v in verdicts})
    rows = []
    for language in [*languages, "all"]:
        group = [v for v in verdicts if language in ("all", v["language"])]
        for tool in ("git", "driver"):
            rows.append(_row(language, tool, group))
    return rows


def anatomy(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per language and in all, what the driver's conflicts are (see the module's docstring)."""
    rows = []
    languages = sorted({v["language"] for v in verdicts})
    for language in [*languages, "all"]:
        group = [
            v for v in verdicts if language in ("all", v["language"]) and v["driver"] == "conflict"
        ]
        blocks = [kept for v in group for kept in v.get("blocks", [])]
        rows.append(
            {
                "language": language,
                "driver_conflicts": len(group),
                "git_too": sum(v["git"] == "conflict" for v in group),
                "human_took_a_side": sum(bool(v.get("human_took")) for v in group),
                "delete_edit": sum("delete-edit" in v["kinds"] for v in group),
                "semantic_only": sum(not v.get("blocks") for v in group),
                "blocks": len(blocks),
                "kept_one": blocks.count("one"),
                "kept_both": blocks.count("both"),
                "kept_neither": blocks.count("neither"),
            }
        )
    return rows


def _row(language: str, tool: str, group: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(group)
    conflicts = sum(v[tool] == "conflict" for v in group)
    different = sum(v[tool] in ("reachable", "different") for v in group)
    row: dict[str, Any] = {
        "language": language,
        "tool": tool,
        "merges": n,
        "conflicts": conflicts,
        "conflict_%": 100 * conflicts / n if n else 0.0,
        "same": sum(v[tool] == "same" for v in group),
        "different": different,
        "reachable": sum(v[tool] == "reachable" for v in group),
        "order_only": sum(v[tool] == "reachable" and v[f"{tool}_order_only"] for v in group),
        "order_or_blank": sum(
            v[tool] == "reachable" and v[f"{tool}_order_or_blank"] for v in group
        ),
        "invented": sum(v[f"{tool}_invented"] for v in group),
    }
    row["p50_ms"] = statistics.median(v[f"{tool}_ms"] for v in group) if n else 0.0
    row["x_git"] = row["p50_ms"] / statistics.median(v["git_ms"] for v in group) if n else 0.0
    other = "git" if tool == "driver" else "driver"
    row["right_other_not"] = sum(v[other] == "same" and v[tool] != "same" for v in group)
    return row
