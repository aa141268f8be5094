"""Editor live sync latency: a save to another replica, a remote edit to the file on disk.

A repository with one Python module of `--functions` functions (and `--files` other modules
of 20 functions); its workspace is watched by a
`Watcher` in background threads (watchfiles with `--step` ms of quiet, then the settle delay),
and linked in memory (`crdtspace.connect`) to a second replica, bob.

- save-to-replica: the module is written to disk (as an editor saves: one function changed);
  the time until bob's render shows the change (watchfiles noticing, the debounce, the
  re-keyed write, the in-memory link).
- remote-edit-to-disk: bob replaces one function; the time until the file on disk shows it
  (the link, the watcher's wake-up, render and the atomic write).

Target: p50 <= 100 ms each, watchfiles' debounce included.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import parser, progress, report

from crdtspace import Workspace, connect
from crdtspace.live.watch import Watcher
from crdtspace.testing import make_repo

PATH = "pkg/mod.py"


def module(functions: int, version: dict[int, int]) -> str:
    return "".join(
        f"def f{i}(x):\n    return x + {version.get(i, 0)}\n\n\n" for i in range(functions)
    )


def wait(condition: Callable[[], bool], timeout: float = 10.0) -> float:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the change did not arrive")
        time.sleep(0.0005)
    return time.perf_counter()


def run(
    folder: Path, functions: int, rounds: int, step: int, files: int = 0
) -> dict[str, list[float]]:
    version: dict[int, int] = {}
    others = {f"other/m{i}.py": module(20, {0: i}) for i in range(files)}
    root = make_repo(folder / "repo", {PATH: module(functions, version), **others})
    ws = Workspace.from_commit(root, agent="home")
    bob = ws.replica("bob")
    link = connect(ws, bob)
    target = root / PATH
    times: dict[str, list[float]] = {"save-to-replica": [], "remote-edit-to-disk": []}
    with Watcher(ws, root, step_ms=step) as watcher:
        for r in range(1, rounds + 1):
            i = (r * 7) % functions
            version[i] = r
            text = module(functions, version)
            began = time.perf_counter()
            target.write_text(text)

            def arrived(text: str = text) -> bool:
                with watcher.lock:
                    return bob.render(PATH) == text

            times["save-to-replica"].append(wait(arrived) - began)
            j = (r * 13 + 1) % functions
            version[j] = 1000 + r
            line = f"    return x + {1000 + r}\n"
            began = time.perf_counter()
            with watcher.lock:
                bob.replace(f"{PATH}::f{j}", f"def f{j}(x):\n{line}")

            def written(line: str = line) -> bool:
                return line in target.read_text()

            times["remote-edit-to-disk"].append(wait(written) - began)
            time.sleep(0.02)  # let watchfiles report our own write (skipped: no echo)
        if watcher.errors:
            raise RuntimeError(watcher.errors)
    link.close()
    echoes = [e for e in watcher.events if e.kind == "saved"]
    assert len(echoes) == rounds, f"{len(echoes)} saves for {rounds} rounds: an echo?"
    return times


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--functions", type=int, default=50)
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--step", type=int, default=15, help="watchfiles' quiet time, ms")
    p.add_argument("--files", type=int, default=0, help="other modules in the workspace")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        progress(f"{args.rounds} rounds on a module of {args.functions} functions ...")
        times = run(Path(folder), args.functions, args.rounds, args.step, args.files)
    cases = []
    for case, values in times.items():
        ms = sorted(v * 1000 for v in values)
        cases.append(
            {
                "case": case,
                "files": args.files + 1,
                "rounds": len(ms),
                "step ms": args.step,
                "p50 ms": round(statistics.median(ms), 2),
                "p99 ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
                "max ms": round(ms[-1], 2),
            }
        )
    report(cases, as_json=args.json, title="watch: editor live sync latency (target p50 <= 100 ms)")


if __name__ == "__main__":
    main()
