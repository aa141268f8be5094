"""What an agent pays per call: CLI commands and MCP tool calls on a flask-sized repository.

The repository is built offline from the source of an installed pure-Python package (default
anyio: 46 files, ~16.7k lines; flask is ~80 files, ~15k lines), one commit, `crdtspace init`.

1. CLI commands, wall time per command with the interpreter's start (`python -m crdtspace -C
   REPO ...` subprocesses): `status`, `show PATH`, `outline PATH`, `write PATH::NODE` (stdin,
   one function) through a running workspace service (`crdtspace serve --port 0`), the same
   commands without a service (CRDTSPACE_SERVICE=0: the workspace is opened in the process),
   and `git status` / `git show HEAD:PATH` as the alternative users know. PATH is the largest
   file of the package. Target: <= 150 ms per command through the service.
2. Agent tool calls: `read` of the function (named PATH::name, and PATH::KEY as outline gives
   it), `outline` of PATH, `edit` of the function (both ways of naming it), `status`, through
   `crdtspace mcp` over stdio (the MCP SDK's client; the server joins the running service),
   and the same tools called in process on a `crdtspace.agents.tools.Session` (no MCP
   framing): one joined to the same service, one on the workspace opened locally. Target:
   <= 20 ms p50 per tool call over MCP.

Every command or tool is run once untimed first; the runs are interleaved (round robin). Each
phase (commands without the service, through it, tools locally, over MCP, on a replica of the
service) starts from a fresh copy of the repository: the tools' costs grow with the history of
the nodes edited (every call reads the logs of the edited nodes for its news and conflicts),
and every phase edits the function about 2 x --calls times (--runs times for the commands).

Usage: python benchmarks/agents.py [--runs 20] [--calls 50] [--package anyio] [--json]
"""

from __future__ import annotations

import ast
import importlib.util
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
from _common import ROOT, parser, progress, report
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from crdtspace import Workspace
from crdtspace.agents.setup import join
from crdtspace.agents.tools import Session
from crdtspace.live.service import find_service
from crdtspace.testing import make_repo

AGENT = "bench"
CLI_TARGET_MS = 150.0
MCP_TARGET_MS = 20.0
MARK = "# crdtspace benchmark edit: "
"""The comment line the edits of the function alternate (MARK + "a", MARK + "b")."""


# -- the repository -----------------------------------------------------------------------------


class Repo:
    """The benchmark's repository: the package's files, the file and function used, and the
    current copy (`fresh` makes a new one, so that every phase starts from the same history)."""

    def __init__(self, folder: Path, package: str) -> None:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"{package!r} is not an installed package")
        source = Path(next(iter(spec.submodule_search_locations)))
        self.sources: dict[str, str] = {}
        for path in sorted(source.rglob("*.py")):
            if "__pycache__" not in path.parts:
                rel = path.relative_to(source.parent).as_posix()
                self.sources[rel] = path.read_text(encoding="utf-8")
        self.folder = folder
        self.package = package
        self.files = len(self.sources)
        self.lines = sum(text.count("\n") for text in self.sources.values())
        self.path, self.function = _target(self.sources)
        self.path_lines = self.sources[self.path].count("\n")
        self.ref = f"{self.path}::{self.function}"
        self.key_ref = self.ref
        self.variants = ("", "")
        self.roots: list[Path] = []
        self.root = self.fresh()

    def fresh(self) -> Path:
        """A new repository with the package's files, its workspace made, and the function
        marked "a" (variants[0]) by the agent "setup"."""
        root = make_repo(
            self.folder / f"repo-{len(self.roots) + 1}",
            self.sources,
            message=f"the source of {self.package}",
        )
        self.roots.append(root)
        Workspace.init(root, agent="setup").close()
        with Workspace.open(root, agent="setup") as ws:
            original = str(ws.read(self.ref))
            self.variants = (_marked(original, "a"), _marked(original, "b"))
            ws.replace(self.ref, self.variants[0], description="benchmark setup")
            self.key_ref = f"{self.path}::{ws.resolve(self.ref)[1]}"
        self.root = root
        return root

    def describe(self) -> str:
        return (
            f"{self.package} ({self.files} files, {self.lines:,} lines); PATH {self.path} "
            f"({self.path_lines:,} lines), NODE {self.function}"
        )


def _target(files: dict[str, str]) -> tuple[str, str]:
    """The largest file that has an undecorated top-level function with its body on lines of
    its own, and the first such function."""
    for path in sorted(files, key=lambda p: -files[p].count("\n")):
        for node in ast.parse(files[path]).body:
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and not node.decorator_list
                and node.body[0].lineno > node.lineno
            ):
                return path, node.name
    raise SystemExit("no file of the package has a plain top-level function")


def _marked(function: str, value: str) -> str:
    """The function's text with the comment line MARK + value before its first statement."""
    body = ast.parse(function).body[0]
    assert isinstance(body, ast.FunctionDef | ast.AsyncFunctionDef)
    first = body.body[0]
    lines = function.splitlines(keepends=True)
    at = first.lineno - 1
    lines.insert(at, " " * first.col_offset + MARK + value + "\n")
    return "".join(lines)


# -- figures --------------------------------------------------------------------------------------


def p90(values: list[float]) -> float:
    """The 90th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def figures(times: list[float]) -> tuple[float, float]:
    """(p50, p90) in milliseconds of times in seconds."""
    return statistics.median(times) * 1000, p90(times) * 1000


def row(part: str, what: str, via: str, times: list[float], **more: Any) -> dict[str, Any]:
    p50, p90_ms = figures(times)
    return {
        "part": part,
        "what": what,
        "via": via,
        "runs": len(times),
        "p50_ms": round(p50, 2),
        "p90_ms": round(p90_ms, 2),
        **more,
    }


def ratio(a: list[float], b: list[float]) -> float:
    """p50(a) / p50(b)."""
    return statistics.median(a) / statistics.median(b)


def verdict(times: list[float], target_ms: float) -> str:
    met = statistics.median(times) * 1000 <= target_ms
    return f"<= {target_ms:g} ms: {'met' if met else 'MISSED'}"


# -- part 1: the command line -------------------------------------------------------------------


def crdtspace(repo: Repo, *args: str) -> list[str]:
    return [sys.executable, "-m", "crdtspace", "-C", str(repo.root), *args]


def environment(*, service: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRDTSPACE_AGENT": AGENT}
    env.pop("CRDTSPACE_SERVICE", None)
    if not service:
        env["CRDTSPACE_SERVICE"] = "0"
    return env


def timed_run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:])} failed ({done.returncode}): {done.stderr}")
    return took


def rounds(commands: dict[str, Callable[[int], float]], runs: int) -> dict[str, list[float]]:
    """Each command `runs` times (after one untimed run), round robin; their times."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs + 1):
        for name, command in commands.items():
            took = command(i)
            if i:
                times[name].append(took)
    return times


def cli_commands(repo: Repo, *, service: bool) -> dict[str, Callable[[int], float]]:
    env = environment(service=service)

    def run(*args: str) -> Callable[[int], float]:
        return lambda i: timed_run(crdtspace(repo, *args), env)

    def write(i: int) -> float:
        text = repo.variants[(i + 1) % 2]  # (the mark is "a" at first)
        return timed_run(crdtspace(repo, "write", repo.ref), env, stdin=text)

    # show PATH comes before write: the write's base is the agent's last read, the current file
    return {
        "status": run("status"),
        "show PATH": run("show", repo.path),
        "outline PATH": run("outline", repo.path),
        "write PATH::NODE": write,
    }


def alternatives(repo: Repo) -> dict[str, Callable[[int], float]]:
    env = environment(service=False)
    git_status = ["git", "-C", str(repo.root), "status"]
    git_show = ["git", "-C", str(repo.root), "show", f"HEAD:{repo.path}"]
    return {
        "git status": lambda i: timed_run(git_status, env),
        "git show HEAD:PATH": lambda i: timed_run(git_show, env),
        "python -c pass": lambda i: timed_run([sys.executable, "-c", "pass"], env),
    }


def cli_rows(
    served: dict[str, list[float]], local: dict[str, list[float]], other: dict[str, list[float]]
) -> list[dict[str, Any]]:
    known = {"status": "git status", "show PATH": "git show HEAD:PATH"}
    cases = []
    for name, times in served.items():
        versus = f"{ratio(local[name], times):.1f}x faster than without"
        if name in known:
            versus += f"; {ratio(times, other[known[name]]):.1f}x {known[name]}"
        cases.append(
            row("cli", f"crdtspace {name}", "service", times, vs=versus)
            | {"target": verdict(times, CLI_TARGET_MS)}
        )
        cases.append(row("cli", f"crdtspace {name}", "no service (in process)", local[name]))
    for name, times in other.items():
        via = "interpreter start" if name.startswith("python") else "git"
        cases.append(row("cli", name, via, times))
    return cases


# -- services ---------------------------------------------------------------------------------


@contextmanager
def service(repo: Repo) -> Iterator[None]:
    """`crdtspace serve --port 0` running for the repository while inside."""
    log = repo.root.parent / f"{repo.root.name}-serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            crdtspace(repo, "serve", "--port", "0"),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment(service=True),
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while find_service(repo.root) is None:
            if process.poll() is not None:
                raise SystemExit(f"the service did not start: {log.read_text()}")
            if time.monotonic() > deadline:
                raise SystemExit("the service did not announce itself within 60 s")
            time.sleep(0.05)
        yield
    finally:
        stop_services(repo.root)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_services(root: Path) -> None:
    """SIGTERM to the repository's workspace service (whoever started it), once; waits until
    it is gone (its announcement withdrawn), SIGKILL after 20 s."""
    signalled: set[int] = set()
    deadline = time.monotonic() + 20
    while (found := find_service(root)) is not None:
        with suppress(ProcessLookupError):
            if found.pid not in signalled:
                os.kill(found.pid, signal.SIGTERM)
                signalled.add(found.pid)
            elif time.monotonic() > deadline:
                os.kill(found.pid, signal.SIGKILL)
                return
        time.sleep(0.05)


# -- part 2: tool calls -----------------------------------------------------------------------


class Calls:
    """The tool calls of one round, in order, with their arguments. A node is named by its
    qualified name (PATH::function) or by its key (PATH::KEY, as outline gives it); each edit
    turns the function's mark from "a" to "b" or back, so every edit changes something."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.mark = "a"
        """The function's mark now (a fresh repository's is "a")."""

    def __iter__(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(label, tool, arguments) of each call of a round."""
        repo = self.repo
        yield "read PATH::name", "read", {"ref": repo.ref}
        yield "read PATH::KEY", "read", {"ref": repo.key_ref}
        yield "outline PATH", "outline", {"path": repo.path}
        yield "edit PATH::name", "edit", self.edit(repo.ref)
        yield "edit PATH::KEY", "edit", self.edit(repo.key_ref)
        yield "status", "status", {}

    def edit(self, ref: str) -> dict[str, Any]:
        new = "b" if self.mark == "a" else "a"
        arguments = {"ref": ref, "old": MARK + self.mark, "new": MARK + new}
        self.mark = new
        return arguments


def unexpected(tool: str, result: str) -> None:
    """Stop when a call made a conflict: the edits are meant to follow each other cleanly."""
    if "New conflict" in result:
        raise SystemExit(f"{tool} made a conflict: {result}")


def session_rounds(session: Session, plan: Calls, calls: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for i in range(calls + 1):
        for label, name, arguments in plan:
            began = time.perf_counter()
            text = session.call(name, arguments)
            took = time.perf_counter() - began
            unexpected(name, text)
            if i:
                times.setdefault(label, []).append(took)
    return times


def local_session(repo: Repo, calls: int) -> dict[str, list[float]]:
    """The tools in process on the workspace opened here (no service running)."""
    plan = Calls(repo)
    with Workspace.open(repo.root, agent=AGENT) as ws:
        return session_rounds(Session(ws, AGENT), plan, calls)


def joined_session(repo: Repo, calls: int) -> dict[str, list[float]]:
    """The tools in process on a replica joined to the running service (as `crdtspace mcp`
    makes its session)."""
    plan = Calls(repo)
    session = join(repo.root, agent=AGENT)
    try:
        return session_rounds(session, plan, calls)
    finally:
        session.workspace.close()


def mcp_session(repo: Repo, calls: int) -> dict[str, list[float]]:
    """The tools through `crdtspace mcp --agent bench` over stdio, with the MCP SDK's client."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "crdtspace", "-C", str(repo.root), "mcp", "--agent", AGENT],
        env={**os.environ, "PYTHONPATH": str(ROOT), "CRDTSPACE_AGENT": ""},
        cwd=str(ROOT),
    )
    plan = Calls(repo)
    times: dict[str, list[float]] = {}

    async def main() -> None:
        async with Client(params, read_timeout_seconds=60) as client:
            for i in range(calls + 1):
                for label, name, arguments in plan:
                    began = time.perf_counter()
                    result = await client.call_tool(name, arguments)
                    took = time.perf_counter() - began
                    body = "".join(c.text for c in result.content if c.type == "text")
                    if result.is_error:
                        raise SystemExit(f"{name} failed over MCP: {body}")
                    unexpected(name, body)
                    if i:
                        times.setdefault(label, []).append(took)

    anyio.run(main)
    return times


def mcp_rows(
    over_mcp: dict[str, list[float]],
    joined: dict[str, list[float]],
    local: dict[str, list[float]],
) -> list[dict[str, Any]]:
    cases = []
    for name, times in over_mcp.items():
        versus = (
            f"{ratio(times, joined[name]):.1f}x in process (service replica), "
            f"{ratio(times, local[name]):.1f}x in process (local)"
        )
        cases.append(
            row("mcp", name, "MCP stdio", times, vs=versus)
            | {"target": verdict(times, MCP_TARGET_MS)}
        )
        cases.append(row("mcp", name, "in process, replica of the service", joined[name]))
        cases.append(row("mcp", name, "in process, workspace opened here", local[name]))
    return cases


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="timed runs of each command (part 1)")
    p.add_argument("--calls", type=int, default=50, help="timed calls of each tool (part 2)")
    p.add_argument("--package", default="anyio", help="the installed package to copy")
    args = p.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crdtspace-agents-") as folder:
        repo = Repo(Path(folder), args.package)
        progress(f"repository: {repo.describe()}")
        try:
            progress(f"commands without a service, and git, {args.runs} runs ...")
            commands = cli_commands(repo, service=False) | alternatives(repo)
            measured = rounds(commands, args.runs)
            other = {name: measured.pop(name) for name in alternatives(repo)}
            repo.fresh()
            with service(repo):
                progress(f"commands through the service, {args.runs} runs ...")
                served = rounds(cli_commands(repo, service=True), args.runs)
            repo.fresh()
            progress(f"tools in process on the workspace opened here, {args.calls} calls ...")
            local_tools = local_session(repo, args.calls)
            repo.fresh()
            with service(repo):
                progress(f"tools over MCP stdio, {args.calls} calls each ...")
                over_mcp = mcp_session(repo, args.calls)
            repo.fresh()
            with service(repo):
                progress(f"tools in process on a replica of the service, {args.calls} calls ...")
                joined_tools = joined_session(repo, args.calls)
        finally:
            for root in repo.roots:
                stop_services(root)
    progress(f"done in {time.monotonic() - began:.0f} s")
    where = f"{repo.describe()}; {os.cpu_count()} cores"
    report(
        cli_rows(served, measured, other),
        as_json=args.json,
        title=f"CLI commands, wall time with the interpreter's start - {where}",
    )
    if not args.json:
        print()
    report(
        mcp_rows(over_mcp, joined_tools, local_tools),
        as_json=args.json,
        title=f"Agent tool calls - {where}",
    )


if __name__ == "__main__":
    main()
