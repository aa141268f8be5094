"""Restoring versions: our restore (`crdtspace.model.restore`) beside yrs's ``Doc.from_snapshot``.

1. ``rustcode``: the rustcode editing trace (benchmarks/keystrokes.py) typed into one pycrdt
   Text of a ``skip_gc`` document, one transaction per trace transaction, a snapshot taken
   after a random 0.4% of them (seeded); then each snapshot is restored from the final document
   both ways, each as `crdtspace.model.versions.fork` does it (moved into a doc with a fresh
   client id, then checked: the restored doc must give its snapshot back). Reported: the median
   and slowest time of each, and how many restorations gave the text the document showed when
   the snapshot was taken; yrs's panics, and its restorations that do not give the snapshot
   back (text typed after it shown), are counted apart, and its times are of the others.
2. ``stale write``: the workspace of benchmarks/rekey.py's "stale base" case (typing.py, a read
   overtaken by 1,000 edits of another agent, with ``--before`` edits before the read), the
   fork of that read's version, both ways.
"""

from __future__ import annotations

import os
import random
import statistics
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import parser, progress, report
from keystrokes import load_trace, trace_file, traces_option
from pycrdt import Doc, Text

from crdtspace.model.versions import _checked, _ours, _yrs, new_doc, snapshot
from crdtspace.testing import make_repo
from crdtspace.workspace import Workspace


def timed(
    restore: Callable[[Doc[Any], bytes], Doc[Any]], doc: Doc[Any], snap: bytes
) -> tuple[float, Doc[Any] | str]:
    """(seconds, the restored doc), or (seconds, why not): "panicked" or "wrong" (the restored
    doc does not give the snapshot back)."""
    began = time.perf_counter()
    out: Doc[Any] | str
    try:
        out = _checked(restore(doc, snap), snap)
    except ValueError as exc:
        out = "wrong" if "not at the version" in str(exc) else "panicked"
    return time.perf_counter() - began, out


def summary(name: str, times: list[float], right: int, total: int, **more: Any) -> dict[str, Any]:
    return {
        "case": name,
        "restored": f"{right}/{total}",
        "median_ms": statistics.median(times) * 1000 if times else 0.0,
        "max_ms": max(times) * 1000 if times else 0.0,
        **more,
    }


def trace(file: Path, seed: int) -> list[dict[str, Any]]:
    start, bursts, end = load_trace(file)
    doc = new_doc(7)
    text = doc.get("text", type=Text)
    shown = start
    if start:
        text += start
    snaps: list[tuple[bytes, str]] = []
    pick = random.Random(seed)
    progress(f"typing {len(bursts):,} transactions ...")
    for burst in bursts:
        with doc.transaction():
            for at, dropped, typed in burst:
                offset = len(shown[:at].encode())
                if dropped:
                    del text[offset : len(shown[: at + dropped].encode())]
                if typed:
                    text.insert(offset, typed)
                shown = shown[:at] + typed + shown[at + dropped :]
        if pick.random() < 0.004:
            snaps.append((snapshot(doc), shown))
    assert str(text) == end
    progress(f"restoring {len(snaps)} snapshots both ways ...")
    rows = []
    for name, restore in (("ours", _ours), ("yrs", _yrs)):
        times, right, failed = [], 0, {"panicked": 0, "wrong": 0}
        for snap, then in snaps:
            seconds, out = timed(restore, doc, snap)
            if isinstance(out, str):
                failed[out] += 1
                continue
            times.append(seconds)
            right += str(out.get("text", type=Text)) == then
        rows.append(
            summary(
                f"rustcode, {name}",
                times,
                right,
                len(snaps),
                **failed,
                update_bytes=len(doc.get_update()),
            )
        )
    return rows


def stale(before: int, rounds: int) -> list[dict[str, Any]]:
    source = Path(sysconfig.get_paths()["stdlib"]) / "typing.py"
    with tempfile.TemporaryDirectory() as scratch:
        repo = make_repo(Path(scratch) / "repo", {"typing.py": source.read_text("utf-8")})
        ws = Workspace.from_commit(repo, agent="bench")
        functions = [
            e.qualname
            for e in ws.outline("typing.py")
            if e.kind == "function_definition" and e.depth == 1
        ]

        def edits(count: int, mark: str) -> None:
            for n in range(count):
                key = f"typing.py::{functions[n % len(functions)]}"
                node = ws.read(key, agent="other")
                ws.replace(key, node.rstrip("\n") + f"  # {mark} {n}\n", agent="other")

        progress(f"stale write: {before:,} edits, a read, 1,000 edits ...")
        edits(before, "before")
        snap = ws.versions.get(ws.read("typing.py", agent="late").version)
        edits(1000, "after")
        rows = []
        for name, restore in (("ours", _ours), ("yrs", _yrs)):
            runs = [timed(restore, ws.doc, snap) for _ in range(rounds)]
            times = [t for t, out in runs if not isinstance(out, str)]
            rows.append(
                summary(
                    f"stale write ({before} before), {name}",
                    times,
                    len(times),
                    rounds,
                    update_bytes=len(ws.doc.get_update()),
                )
            )
        ws.close()
    return rows


def main() -> None:
    os.environ["RUST_BACKTRACE"] = "0"  # yrs's panics: one line each on stderr, not a trace
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--before", type=int, default=1000, help="edits before the stale read")
    traces_option(p)
    args = p.parse_args()
    cases: list[dict[str, Any]] = []
    file = trace_file("rustcode", args.traces)
    if file is None:
        progress("rustcode: no rustcode.json.gz found: skipped")
    else:
        cases += trace(file, args.seed)
    cases += stale(0, args.rounds)
    cases += stale(args.before, args.rounds)
    report(cases, as_json=args.json, title="restore: a version restored ours vs yrs's")


if __name__ == "__main__":
    main()
