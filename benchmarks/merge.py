"""The merge driver against plain `git merge-file` over the merge scenarios, in one run.

For every folder of tests/scenarios/merge (and its failing/ quarantine), both tools merge
Left and Right from Base. Each merge is counted once:

- ``resolved``: clean and equal to Expected (for a case that must conflict, never);
- ``conflicting``: the tool reported conflicts (for a case that must conflict, the right
  answer; its markers may still differ from Expected);
- ``wrong``: clean but different from Expected, or clean where the case must conflict: the
  clean-but-wrong merges that matter most;
- ``invented``: of the clean merges different from Expected, those holding a line none of
  Base, Left and Right holds (text the merge made up).

Time per merge is the median wall time of one merge (git's includes writing three temporary
files and running git; crdtspace's includes its own git line merge).

Per process (issue 16): git runs the driver once per conflicting file, in a process of its own,
so the second table times that: for each case, the command `hooks install` registers
(``driver_command``, through ``sh -c`` with %O %A %B %P %L filled in, as git runs it) and
``git merge-file`` as a process, alternately, ``--process-rounds`` times each; the median per
case, then over the cases git merged cleanly and those it did not, with their ratio. Python's
compiled bytecode is cached (in a temporary PYTHONPYCACHEPREFIX, written by a first untimed run)
as an installed package has it, even where PYTHONDONTWRITEBYTECODE is set. Besides
the scenarios, ``--history`` (default: this checkout's repository) adds real merges: every file
both parents of a merge commit changed, in a language crdtspace knows (base = their merge base).
``--baseline DIR`` times another checkout's driver in turn with this one's (say, an export of an
older commit: ``git archive COMMIT crdtspace grammars | tar -x -C DIR``), each with the command
its own ``driver_command`` registers.

Each driver runs in a repository of its own (a ``git init``'d temporary folder, the versions in
git's ``.merge_file_*`` names at its top, as git runs it). Since the driver is a client of a
long-lived merge server (`crdtspace.git.mergeclient`), the timed calls find the server warm (the
first call of the run starts it, untimed); ``cold_ms`` is one more call per merge, timed after
the server was stopped, so it includes starting one. ``differs`` counts the merges whose result
(bytes of %A, exit code) through the server is not what the in-process driver gives in a
process of its own (``CRDTSPACE_MERGE_SERVER=0``, as before the server): it must be 0.

``--real REPO...`` scores both tools instead on the real merges of those repositories' histories,
per language (`merge_history`: conflicts, clean but different from the human's merge, how
many of those the three versions could have produced, and of these, how many hold the human's
lines in another order only, or with other blank lines too; invented lines, and each tool's median
time in process); with ``--real-process N``, N of those merges (every k-th, so every language
has its share) are also timed per process, as above.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, parser, progress, report  # _common also makes the checkout importable

from crdtspace.git.mergedriver import git_merge_file, merge_files
from crdtspace.model.languages import extensions


def _verdict(clean: bool, text: str, expected: str, must_conflict: bool) -> str:
    if not clean:
        return "conflicting"
    if must_conflict or text != expected:
        return "wrong"
    return "resolved"


def _invented(clean: bool, text: str, case: Any) -> bool:
    """A clean merge different from Expected that holds a line no version holds."""
    if not clean or text == case.expected:
        return False
    known = {line for v in (case.base, case.left, case.right) for line in v.splitlines()}
    return any(line not in known for line in text.splitlines())


def run(rounds: int) -> list[dict[str, Any]]:
    from tests.test_mergedriver import MERGE_SCENARIOS, load_cases

    cases = load_cases(MERGE_SCENARIOS) + load_cases(MERGE_SCENARIOS / "failing")
    rows: dict[str, dict[str, Any]] = {
        tool: {
            "tool": tool,
            "cases": len(cases),
            "resolved": 0,
            "conflicting": 0,
            "wrong": 0,
            "invented": 0,
        }
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
        rows["crdtspace"]["invented"] += _invented(outcome.clean, outcome.text, case)
        rows["git merge-file"]["invented"] += _invented(conflicts == 0, text, case)
    for tool, row in rows.items():
        row["must_conflict"] = must_conflict
        row["conflict_rate"] = row["conflicting"] / len(cases)
        row["median_ms_per_merge"] = statistics.median(times[tool]) * 1000
        row["p90_ms_per_merge"] = statistics.quantiles(times[tool], n=10)[-1] * 1000
    rows["crdtspace"]["methods"] = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
    return list(rows.values())


# -- per process, as git runs the driver ----------------------------------------------------


@dataclass(frozen=True)
class Merge:
    """One file's 3-way merge: a scenario, or a file both sides of a real merge changed."""

    name: str
    path: str
    base: str
    left: str
    right: str


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else ""


def history_merges(repo: Path) -> list[Merge]:
    """Every file of a known language that both parents of a merge commit changed."""
    known = tuple(extensions())
    out = []
    for commit in _git(repo, "rev-list", "--merges", "HEAD").split():
        parents = _git(repo, "rev-list", "--parents", "-n1", commit).split()[1:]
        base = _git(repo, "merge-base", *parents).strip() if len(parents) == 2 else ""
        if not base:
            continue
        changed = [set(_git(repo, "diff", "--name-only", base, p).split()) for p in parents]
        for path in sorted(changed[0] & changed[1]):
            if not path.endswith(known):
                continue
            texts = [_git(repo, "show", f"{rev}:{path}") for rev in (base, *parents)]
            if all(texts) and len(set(texts)) == 3:
                out.append(Merge(f"{commit[:8]}:{path}", path, *texts))
    return out


def _timed(
    command: str | list[str], cwd: Path, shell: bool, env: dict[str, str] | None = None
) -> tuple[float, int]:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, shell=shell, env=env, capture_output=True, check=False)
    return time.perf_counter() - began, done.returncode


@dataclass
class _Driver:
    """One checkout's registered driver command, run in a repository of its own, `repo`."""

    command: str
    repo: Path
    env: dict[str, str]

    @classmethod
    def make(cls, repo: Path, env: dict[str, str]) -> _Driver:
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
        code = (  # (as `hooks install` registers it: the native client built first, if any)
            "from crdtspace.git.mergedriver import driver_command\n"
            "try:\n"
            "    from crdtspace.git.nativeclient import build\n"
            "except ImportError:\n"  # (an older checkout, the baseline: none)
            "    pass\n"
            "else:\n"
            "    build()\n"
            "print(driver_command())"
        )
        done = subprocess.run(  # (in `repo`: the checkout it is run from is not on its path)
            [sys.executable, "-c", code],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        command = done.stdout.strip()
        fill = {"%O": ".merge_file_O", "%A": ".merge_file_A", "%B": ".merge_file_B", "%L": "7"}
        for key, value in fill.items():
            command = command.replace(key, value)
        return cls(command, repo, env)

    def run(self, merge: Merge, **extra: str) -> tuple[float, int]:
        for name, text in (("O", merge.base), ("A", merge.left), ("B", merge.right)):
            (self.repo / f".merge_file_{name}").write_bytes(text.encode("utf-8", "surrogateescape"))
        command = self.command.replace("%P", shlex.quote(merge.path))
        return _timed(command, self.repo, True, {**self.env, **extra})

    def result(self) -> bytes:
        return (self.repo / ".merge_file_A").read_bytes()


def per_process(
    merges: list[Merge], rounds: int, baseline: Path | None = None
) -> list[dict[str, Any]]:
    """The driver as git runs it against `git merge-file` as a process, per merge; with a
    `baseline` (another checkout), its driver too, timed in turn with the others."""
    from crdtspace.git import mergeclient

    rows = []
    with tempfile.TemporaryDirectory(prefix="crdtspace-bench-") as folder:
        work = Path(folder)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        env["PYTHONPATH"] = str(ROOT)
        old_env = {**env, "PYTHONPATH": str(baseline), "PYTHONPYCACHEPREFIX": str(work / "old")}
        plain = work / "plain"
        plain.mkdir()
        ours = _Driver.make(work / "new", env)
        olds = _Driver.make(work / "old", old_env) if baseline else None
        for number, merge in enumerate(merges):
            progress(f"[{number + 1}/{len(merges)}] {merge.name}")
            for name, text in (("O", merge.base), ("B", merge.right)):
                (plain / name).write_bytes(text.encode("utf-8", "surrogateescape"))
            if number == 0:  # (untimed: writes the bytecode cache, starts the server)
                ours.run(merge)
                if olds is not None:
                    olds.run(merge)
            code = ours.run(merge, CRDTSPACE_MERGE_SERVER="0")[1]  # (untimed: the reference)
            expected = (ours.result(), code)
            ours_s, theirs, olds_s = [], [], []
            code = git_code = 0
            differs = False
            for _ in range(rounds):
                seconds, code = ours.run(merge)
                ours_s.append(seconds)
                differs |= (ours.result(), code) != expected
                if olds is not None:
                    olds_s.append(olds.run(merge)[0])
                (plain / "A").write_bytes(merge.left.encode("utf-8", "surrogateescape"))
                seconds, git_code = _timed(["git", "merge-file", "A", "O", "B"], plain, False)
                theirs.append(seconds)
            mergeclient.stop(str(ours.repo))
            cold, cold_code = ours.run(merge)  # (starts a server, warm for the next merge)
            differs |= (ours.result(), cold_code) != expected
            rows.append(
                {
                    "name": merge.name,
                    "git_clean": git_code == 0,
                    "driver_clean": code == 0,
                    "driver_ms": statistics.median(ours_s) * 1000,
                    "cold_ms": cold * 1000,
                    "git_ms": statistics.median(theirs) * 1000,
                    "differs": differs,
                }
            )
            if olds_s:
                rows[-1]["baseline_ms"] = statistics.median(olds_s) * 1000
        for driver in (ours, olds):
            if driver is not None:  # (a server of the baseline's answers "other": it leaves too)
                mergeclient.stop(str(driver.repo))
    return rows


def summary(source: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians over the merges git merged cleanly, those it did not, and all of them."""
    out = []
    groups = (
        ("git clean", [r for r in rows if r["git_clean"]]),
        ("git conflicts", [r for r in rows if not r["git_clean"]]),
        ("all", rows),
    )
    for label, group in groups:
        if not group:
            continue
        ours = statistics.median(r["driver_ms"] for r in group)
        theirs = statistics.median(r["git_ms"] for r in group)
        cold = statistics.median(r["cold_ms"] for r in group)
        out.append(
            {
                "merges": source,
                "files": label,
                "count": len(group),
                "driver_clean": sum(r["driver_clean"] for r in group),
                "differs": sum(r["differs"] for r in group),
                "driver_ms_p50": ours,
                "git_merge_file_ms_p50": theirs,
                "ratio": ours / theirs,
                "ratio_p50_per_file": statistics.median(
                    r["driver_ms"] / r["git_ms"] for r in group
                ),
                "cold_ms_p50": cold,
                "cold_ratio": cold / theirs,
            }
        )
        if all("baseline_ms" in r for r in group):
            old = statistics.median(r["baseline_ms"] for r in group)
            out[-1].update(baseline_ms_p50=old, baseline_ratio=old / theirs)
    return out


def scenario_merges() -> list[Merge]:
    from tests.test_mergedriver import MERGE_SCENARIOS, load_cases

    cases = load_cases(MERGE_SCENARIOS) + load_cases(MERGE_SCENARIOS / "failing")
    return [Merge(c.name, c.path, c.base, c.left, c.right) for c in cases]


def score_real(args: Any, repos: list[Path]) -> None:
    """Both tools on the real merges of `repos`, per language, in one run."""
    import dataclasses
    import json

    from merge_history import RealMerge, anatomy, judge_all, real_merges, score

    cache: Path | None = args.merges_cache
    if cache is not None and cache.exists():
        merges = [RealMerge(**json.loads(line)) for line in cache.read_text().splitlines()]
    else:
        merges = []
        for repo in repos:
            found = real_merges(repo, args.per_repo)
            progress(f"{repo}: {len(found)} file merges")
            merges.extend(found)
        if cache is not None:
            cache.write_text("".join(json.dumps(dataclasses.asdict(m)) + "\n" for m in merges))
    judged = judge_all(merges, args.workers)
    if args.verdicts is not None:
        args.verdicts.write_text("".join(json.dumps(v) + "\n" for v in judged))
    title = f"Real merges from {len(repos)} repositories: git merge-file vs the merge driver"
    report(score(judged), as_json=args.json, title=title)
    if not args.json:
        print()
    report(anatomy(judged), as_json=args.json, title="The driver's conflicts, taken apart")
    if args.real_process > 0 and merges:
        step = max(1, len(merges) // args.real_process)
        chosen = [Merge(m.name, m.path, m.base, m.left, m.right) for m in merges[::step]][
            : args.real_process
        ]
        rows = summary(
            f"{len(chosen)} of {len(merges)} real merges",
            per_process(chosen, args.process_rounds, args.baseline),
        )
        if not args.json:
            print()
        report(rows, as_json=args.json, title="Per process, as git runs the driver (ms, medians)")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="merges timed per case and tool")
    p.add_argument(
        "--process-rounds", type=int, default=3, help="processes timed per merge and tool (0: none)"
    )
    p.add_argument(
        "--history", type=Path, default=ROOT, help="a repository whose merge commits add merges"
    )
    p.add_argument("--only", choices=("quality", "process"), help="run one of the two parts")
    p.add_argument(
        "--real", type=Path, nargs="+", help="score on these repositories' real merges instead"
    )
    p.add_argument("--per-repo", type=int, default=150, help="--real: file merges per language")
    p.add_argument("--workers", type=int, default=2, help="--real: processes merging")
    p.add_argument("--verdicts", type=Path, help="--real: write every merge's verdicts (JSON)")
    p.add_argument(
        "--real-process",
        type=int,
        default=0,
        help="--real: also time this many of the merges (every k-th) per process, as git runs it",
    )
    p.add_argument(
        "--merges-cache", type=Path, help="--real: read the merges from this file, or write them"
    )
    p.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (its PYTHONPATH) whose driver is timed in turn with this one's",
    )
    args = p.parse_args()
    if args.real:
        score_real(args, args.real)
        return
    if args.only != "process":
        report(run(args.rounds), as_json=args.json, title="Merge driver vs git merge-file")
    if args.only == "quality" or args.process_rounds <= 0:
        return
    rounds, baseline = args.process_rounds, args.baseline
    rows = summary("scenarios", per_process(scenario_merges(), rounds, baseline))
    real = history_merges(args.history) if (args.history / ".git").exists() else []
    if real:
        rows += summary(f"history of {args.history.name}", per_process(real, rounds, baseline))
    if not args.json:
        print()
    report(rows, as_json=args.json, title="Per process, as git runs the driver (ms, medians)")


if __name__ == "__main__":
    main()
