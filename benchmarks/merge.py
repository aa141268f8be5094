"""The merge driver against plain `git merge-file` over the merge scenarios, in one run.

For every folder of tests/scenarios/merge (and its failing/ quarantine), both tools merge
Left and Right from Base. Each merge is counted once:

- ``resolved``: clean and equal to Expected (for a case that must conflict, never);
- ``conflicting``: the tool reported conflicts (for a case that must conflict, the right
  answer; its markers may still differ from Expected);
- ``wrong``: clean but different from Expected, or clean where the case must conflict: the
  clean-but-wrong merges that matter most.

Time per merge is the median wall time of one merge (git's includes writing three temporary
files and running git; crdtspace's includes its own git line merge).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from _common import parser, report  # _common also makes the checkout importable

from crdtspace.git.mergedriver import git_merge_file, merge_files


def _verdict(clean: bool, text: str, expected: str, must_conflict: bool) -> str:
    if not clean:
        return "conflicting"
    if must_conflict or text != expected:
        return "wrong"
    return "resolved"


def run(rounds: int) -> list[dict[str, Any]]:
    from tests.test_mergedriver import MERGE_SCENARIOS, load_cases

    cases = load_cases(MERGE_SCENARIOS) + load_cases(MERGE_SCENARIOS / "failing")
    rows: dict[str, dict[str, Any]] = {
        tool: {"tool": tool, "cases": len(cases), "resolved": 0, "conflicting": 0, "wrong": 0}
        for tool in ("crdtspace", "git merge-file")
    }
    times: dict[str, list[float]] = {tool: [] for tool in rows}
    must_conflict = sum(c.conflict for c in cases)
    methods: dict[str, int] = {}
    for case in cases:
        for _ in range(rounds):
            began = time.perf_counter()
            outcome = merge_files(case.base, case.left, case.right, case.path)
            times["crdtspace"].append(time.perf_counter() - began)
            began = time.perf_counter()
            text, conflicts = git_merge_file(case.base, case.left, case.right)
            times["git merge-file"].append(time.perf_counter() - began)
        methods[outcome.method] = methods.get(outcome.method, 0) + 1
        ours = _verdict(outcome.clean, outcome.text, case.expected, case.conflict)
        theirs = _verdict(conflicts == 0, text, case.expected, case.conflict)
        rows["crdtspace"][ours] += 1
        rows["git merge-file"][theirs] += 1
    for tool, row in rows.items():
        row["must_conflict"] = must_conflict
        row["conflict_rate"] = row["conflicting"] / len(cases)
        row["median_ms_per_merge"] = statistics.median(times[tool]) * 1000
        row["p90_ms_per_merge"] = statistics.quantiles(times[tool], n=10)[-1] * 1000
    rows["crdtspace"]["methods"] = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
    return list(rows.values())


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="merges timed per case and tool")
    args = p.parse_args()
    report(run(args.rounds), as_json=args.json, title="Merge driver vs git merge-file")


if __name__ == "__main__":
    main()
