"""Commit gate time: a workspace of 1,000 files with 10 changed, without the check command.

Builds a repository of `--files` small Python modules, opens its durable workspace, lets
another replica change `--changed` of them, syncs, and times `Workspace.commit()` (all the
checks but the project's command, then writing blobs, tree and commit and moving the branch).
Target: <= 1 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from _common import parser, progress, report

from crdtspace import Workspace, sync
from crdtspace.testing import make_repo


def module(i: int) -> str:
    return (
        f'"""Module {i}."""\n\n\ndef f{i}(x):\n    return x + {i}\n\n\n'
        f"class C{i}:\n    def m(self, y):\n        return f{i}(y) * 2\n"
    )


def one_run(root: Path, files: int, changed: int, rounds: int) -> list[float]:
    repo = make_repo(root, {f"pkg{i // 100}/m{i}.py": module(i) for i in range(files)})
    times = []
    with Workspace.init(repo, agent="lead") as home:
        agent = home.replica("agent")
        for r in range(rounds):
            for i in range(changed):
                k = (r * changed + i) % files
                path = f"pkg{k // 100}/m{k}.py"
                agent.write(path, agent.render(path).replace(f"x + {k}", f"x + {k} + {r + 1}"))
            sync(home, agent)
            began = time.perf_counter()
            result = home.commit(f"round {r}", run_check=False)
            times.append(time.perf_counter() - began)
            assert result.ok, result.steps
            assert len(result.files_changed) == changed
    return times


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=1000)
    p.add_argument("--changed", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        progress(f"a repository of {args.files} files ...")
        times = one_run(Path(folder) / "repo", args.files, args.changed, args.rounds)
    report(
        [
            {
                "case": "gate",
                "files": args.files,
                "changed": args.changed,
                "rounds": args.rounds,
                "median_s": statistics.median(times),
                "max_s": max(times),
            }
        ],
        as_json=args.json,
        title="Commit gate (no check command)",
    )


if __name__ == "__main__":
    main()
