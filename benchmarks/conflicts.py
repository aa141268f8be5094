"""Conflict detection: precision, recall and time over the scenarios, and incremental speed.

1. ``scenarios``: every folder of tests/scenarios/conflicts (two agents editing concurrently,
   then merged): precision and recall of the findings against the expected ones, and the
   median time of one analysis.
2. ``stdlib-one-edit``: a workspace holding the whole installed standard library (1,790
   files); after a first full analysis, one agent edits one function of typing.py per round
   and the analysis runs again: median and p90 ms (target: median <= 50 ms, i.e.
   incremental, not a re-scan).
3. ``stdlib-concurrent``: the same, with two replicas editing different functions of
   typing.py concurrently and syncing before each analysis.
4. ``stdlib-rename``: one agent renames a function of typing.py per round (a removed name:
   the semantic checks parse typing.py and every file that mentions the old name).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, parser, progress, report
from import_stdlib import stdlib_files
from pycrdt import Doc

from crdtspace import Workspace, sync
from crdtspace.model.importing import import_commit


def scenarios() -> dict[str, Any]:
    from tests.scenario_support import load_scenarios, run_scenario, score, total

    found = load_scenarios(ROOT / "tests" / "scenarios" / "conflicts")
    times: list[float] = []
    scores = []
    with tempfile.TemporaryDirectory() as folder:
        for i, scenario in enumerate(found):
            began = time.perf_counter()
            analysis, _ = run_scenario(scenario, Path(folder) / f"s{i}")
            times.append(time.perf_counter() - began)
            scores.append(score(scenario, analysis))
    precision, recall = total(scores)
    return {
        "case": "scenarios",
        "scenarios": len(found),
        "expected": sum(tp + fn for tp, _, fn in scores),
        "true_positives": sum(tp for tp, _, _ in scores),
        "false_positives": sum(fp for _, fp, _ in scores),
        "false_negatives": sum(fn for _, _, fn in scores),
        "precision": precision,
        "recall": recall,
        "median_ms_per_scenario": statistics.median(times) * 1000,
    }


def stdlib_workspace(agent: str) -> Workspace:
    update = import_commit("0" * 40, stdlib_files())
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return Workspace(doc, agent=agent)


def functions(ws: Workspace, path: str) -> list[str]:
    return [e.key for e in ws.outline(path) if e.kind == "function_definition" and e.depth == 1]


def edit_body(ws: Workspace, key: str, round_: int) -> None:
    text = ws.read(key)
    ws.replace(key, text.rstrip("\n") + f"\n    # reviewed {round_}\n")


def one_edit(rounds: int) -> dict[str, Any]:
    progress("importing the standard library ...")
    ws = stdlib_workspace("alice")
    path = "typing.py"
    keys = functions(ws, path)
    began = time.perf_counter()
    ws.analysis()
    first = time.perf_counter() - began
    times = []
    for i in range(rounds):
        edit_body(ws, keys[i % len(keys)], i)
        began = time.perf_counter()
        analysis = ws.analysis()
        times.append(time.perf_counter() - began)
    return {
        "case": "stdlib-one-edit",
        "files": len(ws.paths()),
        "rounds": rounds,
        "first_analysis_ms": first * 1000,
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": statistics.quantiles(times, n=10)[-1] * 1000,
        "conflicts": len(analysis.conflicts),
    }


def concurrent(rounds: int) -> dict[str, Any]:
    progress("importing the standard library (two replicas) ...")
    alice = stdlib_workspace("alice")
    bob = alice.replica("bob")
    path = "typing.py"
    keys = functions(alice, path)
    alice.analysis()
    times = []
    for i in range(rounds):
        edit_body(alice, keys[(2 * i) % len(keys)], i)
        edit_body(bob, keys[(2 * i + 1) % len(keys)], i)
        sync(alice, bob)
        began = time.perf_counter()
        analysis = alice.analysis()
        times.append(time.perf_counter() - began)
    return {
        "case": "stdlib-concurrent",
        "files": len(alice.paths()),
        "rounds": rounds,
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": statistics.quantiles(times, n=10)[-1] * 1000,
        "conflicts": len(analysis.conflicts),
    }


def renames(rounds: int) -> dict[str, Any]:
    progress("importing the standard library (renames) ...")
    ws = stdlib_workspace("alice")
    path = "typing.py"
    keys = functions(ws, path)
    ws.analysis()
    times = []
    found = 0
    for i in range(rounds):
        key = keys[(7 * i) % len(keys)]
        text = ws.read(key)
        name = next(e.name for e in ws.outline(path) if e.key == key)
        ws.replace(key, text.replace(f"def {name}(", f"def {name}_renamed(", 1))
        began = time.perf_counter()
        analysis = ws.analysis()
        times.append(time.perf_counter() - began)
        found = len(analysis.broken)
    return {
        "case": "stdlib-rename",
        "files": len(ws.paths()),
        "rounds": rounds,
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": max(times) * 1000,
        "broken": found,
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=30, help="edits measured per stdlib case")
    p.add_argument("--skip-stdlib", action="store_true", help="only the scenarios")
    args = p.parse_args()
    cases = [scenarios()]
    if not args.skip_stdlib:
        cases.append(one_edit(args.rounds))
        cases.append(concurrent(args.rounds))
        cases.append(renames(max(3, args.rounds // 6)))
    report(cases, as_json=args.json, title="Conflict detection")


if __name__ == "__main__":
    main()
