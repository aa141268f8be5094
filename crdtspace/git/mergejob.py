"""One file's merge as the driver does it: three versions' bytes in; the result's bytes, exit code
and report out.

The in-process driver (`crdtspace.cli.gitdriver`) and the merge server
(`crdtspace.git.mergeserver`) both merge through `merge_versions`, so that a merge gives the
same bytes, code and report wherever it runs. Reading the versions, the kill switch and git's
own merge of a version that is not text stay with the in-process driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crdtspace.git.mergedriver import MergeOutcome

__all__ = ["DriverMerge", "merge_versions", "report_lines", "text_of"]


@dataclass(frozen=True)
class DriverMerge:
    """What the driver writes into %A (`data`), exits with (0 clean, 1 conflicts) and says on
    stderr (`report`, one line each)."""

    data: bytes
    code: int
    report: tuple[str, ...]


def merge_versions(
    base: bytes, current: bytes, other: bytes, path: str, *, marker_size: int, timeout: float
) -> DriverMerge | str:
    """Merge the three versions of the file `path`; or why git's own merge must do it
    instead (a version is not text, an internal error)."""
    texts = [text_of(data) for data in (base, current, other)]
    if any(t is None for t in texts):
        return "a version is not text"
    b, c, o = (t or "" for t in texts)
    try:
        from crdtspace.git.mergedriver import merge_files

        outcome = merge_files(b, c, o, path, timeout=timeout, marker_size=marker_size)
    except Exception as exc:  # never a traceback: git's own merge instead
        return f"internal error ({exc!r})"
    data = outcome.text.encode("utf-8", "surrogateescape")
    return DriverMerge(data, 0 if outcome.clean else 1, report_lines(path, outcome))


def text_of(data: bytes) -> str | None:
    """The version as text, or None when it is binary or not UTF-8 (git's merge then)."""
    if b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def report_lines(path: str, outcome: MergeOutcome) -> tuple[str, ...]:
    """What the driver says of a merge: how it went, then each conflict found."""
    how = outcome.method
    if outcome.fallback_reason:
        how += f" ({outcome.fallback_reason})"
    state = "merged cleanly" if outcome.clean else "has conflicts"
    lines = [f"crdtspace: {path} {state}: {how}"]
    for conflict in outcome.conflicts:
        where = ", ".join(str(p) for p in conflict.places)
        lines.append(f"  {conflict.kind}: {conflict.message} [{where}]")
    return tuple(lines)
