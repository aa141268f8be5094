"""What the command line and the git hooks cost to start, beside what users would run instead.

On a repository built offline from the source of an installed pure-Python package (flask when
it is installed, else --package, by default _pytest: 79 files), one commit, `crdtspace init`,
`crdtspace hooks install`, no workspace service. Side by side, interleaved (round robin), the
median of --runs runs after one untimed run each:

1. `crdtspace --help` and `git --help`;
2. `crdtspace status` (CRDTSPACE_SERVICE=0: the workspace opened in the process) and
   `git status`;
3. `git commit` with the hooks, of a change the workspace holds (written through the library,
   then staged, so that pre-commit lets it through and post-commit brings it in), and `git
   commit` of a change by hand with CRDTSPACE_HOOKS=0 (then `crdtspace sync-git`, untimed,
   so that the workspace follows).

Targets (issue 16): `--help` and `status` <= 150 ms, `git commit` with the hooks <= 0.3 s.
--source DIR times the crdtspace of another checkout (e.g. the commit before a change), with
the same python.

Usage: python benchmarks/startup.py [--runs 10] [--package _pytest] [--source DIR] [--json]
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ROOT, parser, progress, report

from crdtspace import Workspace
from crdtspace.git.hooks import install
from crdtspace.testing import make_repo

TARGETS_MS = {"crdtspace --help": 150.0, "crdtspace status": 150.0, "git commit (hooks)": 300.0}
EDITED = "_edited_by_the_benchmark"
"""The name of the function each commit adds to (then changes in) the file it edits."""


def package_files(package: str) -> dict[str, str]:
    """The package's .py files by path relative to its parent folder."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package!r} is not an installed package")
    source = Path(next(iter(spec.submodule_search_locations)))
    return {
        path.relative_to(source.parent).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(source.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def build(folder: Path, package: str) -> Path:
    """The repository: the package's files in one commit, a workspace, the hooks."""
    root = make_repo(folder / "repo", package_files(package), message=f"the source of {package}")
    Workspace.init(root, agent="setup").close()
    install(root, python=sys.executable)
    subprocess.run(["git", "-C", str(root), "add", ".gitattributes"], check=True)
    subprocess.run(
        ["git", "-C", str(root), "commit", "-q", "-m", "hooks"],
        check=True,
        env={**os.environ, "CRDTSPACE_HOOKS": "0"},
    )
    run(environment(), [sys.executable, "-m", "crdtspace", "-C", str(root), "sync-git"])
    return root


def environment(**extra: str) -> dict[str, str]:
    drop = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "CRDTSPACE_HOOKS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "CRDTSPACE_SERVICE": "0", "CRDTSPACE_AGENT": "bench", **extra}


def run(env: dict[str, str], argv: list[str], cwd: Path | None = None) -> float:
    """Seconds `argv` took; exits on its failure."""
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")
    return took


class Commits:
    """The two kinds of commit, each adding a function to a file no commit edited before (a
    node edited again and again, through the workspace and back from git, is another story)."""

    def __init__(self, root: Path, env: dict[str, str], files: list[str]) -> None:
        self.root, self.env = root, env
        self.files = list(files)

    def _next_text(self) -> tuple[str, str]:
        path = self.files.pop(0)
        text = (self.root / path).read_text(encoding="utf-8")
        return path, text.rstrip("\n") + f"\n\n\ndef {EDITED}():\n    return 1\n"

    def with_hooks(self) -> float:
        self.through, text = self._next_text()
        with Workspace.open(self.root, agent="bench") as ws:
            ws.read(self.through)  # (the write's base: the current state, not a stale read)
            ws.write(self.through, text)
        (self.root / self.through).write_text(text, encoding="utf-8")
        subprocess.run(["git", "-C", str(self.root), "add", self.through], check=True)
        took = run(self.env, ["git", "commit", "-q", "-m", "through the workspace"], self.root)
        self._check_synced()
        return took

    def without_hooks(self) -> float:
        self.by_hand, text = self._next_text()
        (self.root / self.by_hand).write_text(text, encoding="utf-8")
        subprocess.run(["git", "-C", str(self.root), "add", self.by_hand], check=True)
        off = {**self.env, "CRDTSPACE_HOOKS": "0"}
        took = run(off, ["git", "commit", "-q", "-m", "by hand"], self.root)
        run(self.env, [sys.executable, "-m", "crdtspace", "-C", str(self.root), "sync-git"])
        return took

    def _check_synced(self) -> None:
        head = subprocess.run(
            ["git", "-C", str(self.root), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        with Workspace.open(self.root) as ws:
            if ws.status().base != head:
                raise SystemExit("post-commit did not bring the commit into the workspace")


def cases(root: Path, env: dict[str, str], commits: Commits) -> dict[str, Callable[[], float]]:
    crdtspace = [sys.executable, "-m", "crdtspace", "-C", str(root)]
    return {
        "crdtspace --help": lambda: run(env, [*crdtspace, "--help"]),
        "git --help": lambda: run(env, ["git", "--help"]),
        "crdtspace status": lambda: run(env, [*crdtspace, "status"]),
        "git status": lambda: run(env, ["git", "-C", str(root), "status"]),
        "git commit (hooks)": commits.with_hooks,
        "git commit (CRDTSPACE_HOOKS=0)": commits.without_hooks,
        "python -c pass": lambda: run(env, [sys.executable, "-c", "pass"]),
    }


def rounds(commands: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs + 1):
        progress(f"round {i}/{runs}")
        for name, command in commands.items():
            took = command()
            if i:
                times[name].append(took)
    return times


PAIRS = {
    "crdtspace --help": "git --help",
    "crdtspace status": "git status",
    "git commit (hooks)": "git commit (CRDTSPACE_HOOKS=0)",
}


def rows(times: dict[str, list[float]]) -> list[dict[str, Any]]:
    out = []
    for name, values in times.items():
        median = statistics.median(values) * 1000
        row: dict[str, Any] = {"what": name, "runs": len(values), "median_ms": round(median, 1)}
        row["min_ms"] = round(min(values) * 1000, 1)
        if name in PAIRS:
            row["vs"] = f"{median / (statistics.median(times[PAIRS[name]]) * 1000):.1f}x"
            row["vs_what"] = PAIRS[name]
            met = median <= TARGETS_MS[name]
            row["target"] = f"<= {TARGETS_MS[name]:g} ms: {'met' if met else 'MISSED'}"
        out.append(row)
    return out


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--package", default=None, help="the installed package to copy")
    p.add_argument("--source", type=Path, default=ROOT, help="the crdtspace checkout to time")
    args = p.parse_args()
    package = args.package or ("flask" if importlib.util.find_spec("flask") else "_pytest")
    files = package_files(package)
    lines = sum(text.count("\n") for text in files.values())
    with tempfile.TemporaryDirectory(prefix="crdtspace-startup-") as tmp:
        # Bytecode cached, as after `pip install` (which compiles it): a first untimed run of
        # each case writes it, even where PYTHONDONTWRITEBYTECODE is set for this shell.
        env = environment(
            PYTHONPATH=str(args.source.resolve()), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc")
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        root = build(Path(tmp), package)
        largest = sorted(files, key=lambda f: -len(files[f]))
        commits = Commits(root, env, largest[: 2 * (args.runs + 1)])
        progress(f"{package}: {len(files)} files, {lines:,} lines; crdtspace of {args.source}")
        times = rounds(cases(root, env, commits), args.runs)
    report(
        rows(times),
        as_json=args.json,
        title=f"start-up on {package} ({len(files)} files, {lines:,} lines), no service, "
        f"crdtspace of {args.source}",
    )


if __name__ == "__main__":
    main()
