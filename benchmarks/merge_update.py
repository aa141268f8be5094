"""Merging one small update into a replica whose node has a long edit log.

Replica A types into one function of a small module, one log entry per splice (each splice is
sealed by a flush), until the function's log holds N entries; replica B holds all of it. Then,
R times, A makes one more edit and B merges that update (about 200 bytes: a keystroke and
its log entry). The figure is B's `apply_update` time, median and p90, at each N: merging must
decode only what is new, so it should not grow with N.

The same merge into a replica where K nodes have edit logs (a module of K functions, each
edited once), one of them edited each time: a merge must look only at the logs it grew, so it
should not grow with K either (`--nodes`).

Usage: python benchmarks/merge_update.py [--sizes 10,100,1000,10000] [--nodes 1,100,1000]
[--repeat 30] [--json]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import parser, progress, report

from crdtspace.model.replica import Replica
from crdtspace.model.versions import new_doc
from crdtspace.testing import make_repo
from crdtspace.workspace import Workspace

PATH = "app.py"
SOURCE = "import os\n\n\ndef parse(line):\n    return line.split()\n\n\ndef other():\n    pass\n"


def grown(scratch: Path, entries: int) -> tuple[Replica, Replica, str]:
    """Replicas A and B, B holding A's state, the function `parse` with `entries` log entries."""
    a = Workspace.from_commit(make_repo(scratch / "repo", {PATH: SOURCE}), agent="alice")
    nid = next(e.key for e in a.outline(PATH) if e.qualname == "parse")
    at = SOURCE.index("return") + len("return ")
    while len(a.document.log(nid)) < entries:
        a.splice(PATH, at, 0, "x")
        a.flush()
    b = Replica(new_doc(), agent="bob")
    b.apply_update(a.update_since())
    return a, b, nid


def case(entries: int, repeat: int) -> dict[str, Any]:
    progress(f"{entries:,} log entries: building ...")
    with tempfile.TemporaryDirectory() as scratch:
        a, b, nid = grown(Path(scratch), entries)
    at = SOURCE.index("return") + len("return ")

    def edit(_: int) -> None:
        a.splice(PATH, at, 0, "y")
        a.flush()

    times, sizes = _timed(a, b, edit, repeat)
    return {
        "log_entries": len(b.document.log(nid)),
        "update_bytes": int(statistics.median(sizes)),
        "merge_ms_p50": statistics.median(times) * 1000,
        "merge_ms_p90": times[int(len(times) * 0.9)] * 1000,
    }


def nodes_case(count: int, repeat: int) -> dict[str, Any]:
    progress(f"{count:,} edited nodes: building ...")
    source = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(count))
    with tempfile.TemporaryDirectory() as scratch:
        a = Workspace.from_commit(make_repo(Path(scratch) / "repo", {PATH: source}), agent="a")
    for i in range(count):
        a.replace(f"{PATH}::f{i}", f"def f{i}():\n    return {i} + 1\n\n\n")
    b = Replica(new_doc(), agent="bob")
    b.apply_update(a.update_since())

    def edit(n: int) -> None:
        a.replace(f"{PATH}::f0", f"def f0():\n    return {n}\n\n\n")

    times, _ = _timed(a, b, edit, repeat)
    return {
        "edited_nodes": len(b.document.edited_nodes()),
        "merge_ms_p50": statistics.median(times) * 1000,
        "merge_ms_p90": times[int(len(times) * 0.9)] * 1000,
    }


def _timed(
    a: Replica, b: Replica, edit: Callable[[int], None], repeat: int
) -> tuple[list[float], list[int]]:
    """`repeat` times: A makes `edit(n)`, B merges its update; B's merge times (sorted) and
    the updates' sizes. B must render as A at the end."""
    updates: list[bytes] = []
    stop = a.subscribe(updates.append)
    times: list[float] = []
    sizes: list[int] = []
    for n in range(repeat):
        updates.clear()
        edit(n)
        update = b"".join(updates) if len(updates) == 1 else _merged(updates)
        sizes.append(len(update))
        began = time.perf_counter()
        b.apply_update(update)
        times.append(time.perf_counter() - began)
    stop()
    assert b.render(PATH) == a.render(PATH)
    return sorted(times), sizes


def _merged(updates: list[bytes]) -> bytes:
    from pycrdt import merge_updates

    return bytes(merge_updates(*updates))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,100,1000,10000", help="log lengths (comma-separated)")
    p.add_argument("--nodes", default="1,100,1000", help="edited nodes (comma-separated)")
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cases = [case(n, args.repeat) for n in sizes]
    report(cases, as_json=args.json, title="merge_update: one small update into a long log")
    counts = [int(s) for s in args.nodes.split(",") if s]
    wide = [nodes_case(n, args.repeat) for n in counts]
    report(wide, as_json=args.json, title="merge_update: one small update among many edited nodes")


if __name__ == "__main__":
    main()
