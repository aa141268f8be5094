"""What an agent pays per call: CLI commands, MCP tool calls, and a run of many agents.

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
3. A run of many agents: `crdtspace.agents.runner.Runner` running 3, 8 and 16 (--agents)
   scripted agents at once in one asyncio loop, on the durable workspace (`Workspace.open(repo,
   agent="runner")`), then its gate commit. Each agent makes --steps (20) tool calls, waiting
   0-20 ms before each (seeded): status, outline, read of a function by name
   (PATH::Class.method), claim, edit (old -> new: a comment appended to a line found once in the
   function, base `{version}` from its last read), read again, search in the file and in the
   package, release. Agents 2k and 2k+1 work in one file; in every other file they share a
   function (editing different lines of it: real concurrent edits, merged), else each has its
   own; each also edits a second function of its own and reads its partner's. Each run's calls
   are then made again, in the run's order, back to back on one fresh workspace (a `Session` per
   agent, no runner, no waits): the tools' own cost, the "bare" time. Figures, the calls of
   --repeat (2) runs pooled: tool calls/s over the run's time without the gate; p50/p99 of a
   call's time in the run (from its tool_call event to its tool_result event,
   `time.perf_counter()` in the callback: the call, the runner's bookkeeping and transcript
   line); bare p50/p99; "call +ms", the median over the calls of their time in the run less
   their bare time; edit->read: for each successful edit by A and each other agent B that later
   reads the same node (or its file), the time from A's edit result to B's first such read's
   result. In one process an edit is in the document as soon as the call returns, so this is
   scheduling: how long B's script takes to get to its read (its own waits and calls, and the
   other agents' calls in between), not propagation. "overhead %": what the runner adds around
   the calls (events, transcripts, the open conflicts looked at after every call, the loop):
   (run wall time - gate time - the loop's idle time, when all agents wait) less the calls' time
   in the run, against the calls' time in the run; "vs bare %": the same wall time against the
   sum of the bare times (the replay runs at another moment, so on a noisy machine this one is
   noisier). Refused calls (tool errors) are counted and their messages printed; gate s is the
   commit through the gate (after the last agent ended), outside the tool figures.

Every command or tool is run once untimed first; the runs are interleaved (round robin). Each
phase (commands without the service, through it, tools locally, over MCP, on a replica of the
service, each run of agents and its replay) starts from a fresh copy of the repository: the
tools' costs grow with the history of the nodes edited (every call reads the logs of the edited
nodes for its news and conflicts), and every phase edits the function about 2 x --calls times
(--runs times for the commands).

Usage: python benchmarks/agents.py [--runs 20] [--calls 50] [--agents 3,8,16] [--steps 20]
       [--repeat 2] [--seed 1] [--package anyio] [--only cli,tools,run] [--json]
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import itertools
import math
import os
import random
import re
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from _common import ROOT, parser, progress, report
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from crdtspace import Workspace
from crdtspace.agents.plan import AgentPlan, Budget, Plan, Step
from crdtspace.agents.runner import Runner
from crdtspace.agents.setup import join
from crdtspace.agents.tools import Session, ToolError
from crdtspace.errors import CrdtspaceError
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


# -- part 3: a run of many agents ---------------------------------------------------------------

RUN_MESSAGE = "benchmark: a run of scripted agents"
MAX_WAIT = 0.020
"""Seconds a scripted agent waits before a step at most (drawn uniformly from 0 to this)."""
EDIT_LINES = 4
"""Editable lines a function needs to be a target (a pair sharing one edits two each)."""
FUNCTIONS_PER_FILE = 4
"""Target functions a file needs: two agents work in it, on two functions each."""
_VERSION_NAMED = re.compile(r"\bversion (v[0-9a-f]{16})\b")


@dataclass(frozen=True)
class Target:
    """A function agents work on: its reference, its own name, and lines of it an edit may
    change (single-line statements found once in the function as the workspace reads it)."""

    ref: str
    name: str
    lines: tuple[str, ...]


def run_targets(repo: Repo, files: int) -> list[tuple[str, list[Target]]]:
    """`files` files of the package (most candidate functions first), each with
    FUNCTIONS_PER_FILE target functions (top-level functions and methods of top-level classes
    with a name used once in the file, at least EDIT_LINES editable lines; not the function
    the other parts edit)."""
    ranked = sorted(
        ((path, _candidates(text)) for path, text in repo.sources.items()),
        key=lambda item: (-len(item[1]), item[0]),
    )
    chosen: list[tuple[str, list[Target]]] = []
    with Workspace.open(repo.root, agent="setup") as ws:
        for path, candidates in ranked:
            found: list[Target] = []
            for qualname, lines in candidates:
                if path == repo.path and qualname == repo.function:
                    continue
                ref = f"{path}::{qualname}"
                try:
                    text = str(ws.read(ref))
                except CrdtspaceError:
                    continue
                once = tuple(line for line in lines if text.count(line) == 1)
                if len(once) >= EDIT_LINES:
                    found.append(Target(ref, qualname.rpartition(".")[2], once))
                if len(found) == FUNCTIONS_PER_FILE:
                    chosen.append((path, found))
                    break
            if len(chosen) == files:
                return chosen
    raise SystemExit(f"{repo.package} has too few functions for {files} files of agents")


def _candidates(source: str) -> list[tuple[str, list[str]]]:
    """(qualified name, editable lines) of the file's functions and methods, in file order."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            found += [
                (f"{node.name}.{child.name}", child)
                for child in node.body
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    names = [name for name, _ in found]
    out = []
    for name, function in found:
        if names.count(name) == 1:
            editable = _editable(lines, function)
            if len(editable) >= EDIT_LINES:
                out.append((name, editable))
    return out


def _editable(lines: list[str], function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Whole lines of single-line statements inside the function (no nested definitions), each
    found once in the function's text, in order: appending a comment to one keeps it valid."""
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    text = "\n".join(lines[first - 1 : function.end_lineno])
    out: dict[int, str] = {}
    for node in ast.walk(function):
        if (
            isinstance(node, ast.stmt)
            and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.lineno == node.end_lineno
        ):
            line = lines[node.lineno - 1]
            if line.strip() and "{" not in line and text.count(line) == 1:
                out[node.lineno] = line
    return [out[number] for number in sorted(out)]


def agent_name(index: int) -> str:
    return f"agent-{index + 1:02d}"


def agent_scripts(
    files: list[tuple[str, list[Target]]], agents: int, steps: int, seed: int
) -> Plan:
    """The run's plan: `agents` scripted agents, `steps` tool calls each (see `agent_steps`)."""
    rng = random.Random(seed)
    plans = []
    for index in range(agents):
        calls = itertools.islice(agent_steps(index, agents, files), steps)
        script = tuple(Step(tool, args, round(rng.uniform(0, MAX_WAIT), 3)) for tool, args in calls)
        plans.append(AgentPlan(agent_name(index), script=script, budget=Budget(turns=steps + 1)))
    return Plan(tuple(plans), message=RUN_MESSAGE)


def agent_steps(
    index: int, agents: int, files: list[tuple[str, list[Target]]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """One agent's tool calls (tool, arguments), endless. Agents 2k and 2k+1 work in file k;
    in every other file (k even) they share its first function, editing two lines of it each,
    else each has a function of its own; each has a second function of its own, and reads its
    partner's function now and then. The first 20 calls: status, outline, read, claim, edit,
    read the partner's, search the file, read, edit, read, status, outline, read the second,
    claim it, edit it, search the package, read the partner's, release both, read, status; then
    rounds of read, edit, read the partner's, search the file, status."""
    path, functions = files[index // 2]
    slot = index % 2
    shared = (index // 2) % 2 == 0 and (index ^ 1) < agents
    main = functions[0] if shared else functions[slot]
    second = functions[2 + slot]
    partner = functions[3 - slot] if shared else functions[1 - slot]
    lines = {
        main.ref: list(main.lines[2 * slot : 2 * slot + 2] if shared else main.lines[:2]),
        second.ref: [second.lines[0]],
    }
    made = 0

    def edit(target: Target, which: int) -> tuple[str, dict[str, Any]]:
        nonlocal made
        made += 1
        own = lines[target.ref]
        old = own[which % len(own)]
        new = f"{old}  # {agent_name(index)} edit {made}"
        own[which % len(own)] = new
        return "edit", {"ref": target.ref, "old": old, "new": new, "base": "{version}"}

    def read(target: Target) -> tuple[str, dict[str, Any]]:
        return "read", {"ref": target.ref}

    def search(target: Target, glob: str | None) -> tuple[str, dict[str, Any]]:
        pattern = rf"\b{target.name}\b"
        return "search", {"pattern": pattern} | ({"glob": glob} if glob else {})

    yield "status", {}
    yield "outline", {"path": path}
    yield read(main)
    yield "claim", {"refs": main.ref}
    yield edit(main, 0)
    yield read(partner)
    yield search(main, path)
    yield read(main)
    yield edit(main, 1)
    yield read(main)
    yield "status", {}
    yield "outline", {"path": path}
    yield read(second)
    yield "claim", {"refs": second.ref}
    yield edit(second, 0)
    yield search(second, None)
    yield read(partner)
    yield "release", {"refs": [main.ref, second.ref]}
    yield read(main)
    yield "status", {}
    for round_ in itertools.count():
        yield read(main)
        yield edit(main, round_)
        yield read(partner)
        yield search(main, path)
        yield "status", {}


class _TimedSelector(selectors.DefaultSelector):
    """The event loop's selector, adding up the time it waits (the loop is idle then)."""

    idle = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        began = time.perf_counter()
        try:
            return super().select(timeout)
        finally:
            self.idle += time.perf_counter() - began


@dataclass
class Call:
    """One tool call of the run (times from the runner's events) and of its replay."""

    agent: str
    step: int
    tool: str
    args: dict[str, Any]
    began: float = 0.0
    ended: float = 0.0
    error: bool = False
    text: str = ""
    bare: float = 0.0
    """Its time made back to back on a `Session`, without the runner."""

    @property
    def took(self) -> float:
        return self.ended - self.began


@dataclass
class RunFigures:
    """What one run measured."""

    agents: int
    calls: list[Call]
    wall: float
    gate: float
    idle: float
    committed: bool
    conflicts: int
    replay_errors: int = 0


def agents_run(repo: Repo, plan: Plan) -> RunFigures:
    """The plan run by `Runner` on the durable workspace of a fresh copy of the repository;
    each call's time is from its tool_call event to its tool_result event."""
    root = repo.fresh()
    calls: list[Call] = []
    open_calls: dict[str, Call] = {}
    steps: dict[str, int] = {}
    finished: list[float] = []
    ended: list[float] = []

    def on_event(event: dict[str, Any]) -> None:
        now = time.perf_counter()
        kind, agent = event["type"], str(event.get("agent", ""))
        if kind == "tool_call":
            step = steps.get(agent, 0)
            steps[agent] = step + 1
            call = Call(agent, step, event["tool"], dict(event["args"]), began=now)
            open_calls[agent] = call
            calls.append(call)
        elif kind == "tool_result":
            call = open_calls.pop(agent)
            call.ended, call.error, call.text = now, bool(event["error"]), str(event["text"])
        elif kind == "agent" and event["state"] != "working":
            finished.append(now)
        elif kind == "end":
            ended.append(now)

    selector = _TimedSelector()
    with Workspace.open(root, agent="runner") as ws:
        runner = Runner(ws, plan, on_event=on_event)
        with asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(selector)) as loop:
            began = time.perf_counter()
            report = loop.run(runner.run_async())
            wall = time.perf_counter() - began
    for agent in report.agents:
        if agent.state != "done":
            raise SystemExit(f"{agent.name} ended {agent.state!r}")
    return RunFigures(
        agents=len(plan.agents),
        calls=calls,
        wall=wall,
        gate=ended[0] - max(finished),
        idle=selector.idle,
        committed=report.commit is not None,
        conflicts=len(report.conflicts),
    )


def replay(repo: Repo, plan: Plan, run: RunFigures) -> None:
    """The run's tool calls again, in the run's order, back to back on a fresh copy of the
    repository: one `Session` per agent on one durable workspace, no runner and no waits
    (`{version}` filled as the runner does); each call's time is its `bare` time."""
    root = repo.fresh()
    scripts = {a.name: a.script or () for a in plan.agents}
    with Workspace.open(root, agent="runner") as ws:
        sessions = {name: Session(ws, name) for name in scripts}
        seen = dict.fromkeys(scripts, "")
        for call in run.calls:
            step = scripts[call.agent][call.step]
            args = {k: _filled(v, seen[call.agent]) for k, v in step.args.items()}
            began = time.perf_counter()
            try:
                text = sessions[call.agent].call(step.tool, args)
            except ToolError as error:
                text = error.message
                run.replay_errors += 1
            call.bare = time.perf_counter() - began
            found = _VERSION_NAMED.search(text)
            seen[call.agent] = found.group(1) if found else seen[call.agent]


def _filled(value: Any, version: str) -> Any:
    if isinstance(value, str):
        return value.replace("{version}", version)
    if isinstance(value, list):
        return [_filled(v, version) for v in value]
    return value


def edit_to_read(calls: list[Call]) -> list[float]:
    """For each successful edit and each other agent that later reads the node edited (or its
    file), the time from the edit's result to that agent's first such read's result: when it
    has the edited text in hand."""
    delays = []
    for at, edit in enumerate(calls):
        if edit.tool != "edit" or edit.error:
            continue
        node = str(edit.args["ref"])
        places = {node, node.partition("::")[0]}
        waiting = {c.agent for c in calls} - {edit.agent}
        for read in calls[at + 1 :]:
            if read.agent in waiting and read.tool == "read" and read.args.get("ref") in places:
                waiting.discard(read.agent)
                if not read.error:
                    delays.append(read.ended - edit.ended)
    return delays


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run_row(runs: list[RunFigures]) -> dict[str, Any]:
    """One line of the table: the runs of one number of agents, their calls pooled."""
    timed = [c for run in runs for c in run.calls if c.ended]
    took = [c.took for c in timed]
    bare = [c.bare for c in timed]
    delays = [d for run in runs for d in edit_to_read([c for c in run.calls if c.ended])]
    working = sum(run.wall - run.gate for run in runs)
    busy = working - sum(run.idle for run in runs)
    return {
        "agents": runs[0].agents,
        "runs": len(runs),
        "calls": len(timed),
        "calls/s": round(len(timed) / working, 1),
        "p50 ms": round(percentile(took, 50) * 1000, 2),
        "p99 ms": round(percentile(took, 99) * 1000, 2),
        "bare p50 ms": round(percentile(bare, 50) * 1000, 2),
        "bare p99 ms": round(percentile(bare, 99) * 1000, 2),
        "call +ms": round(
            statistics.median(a - b for a, b in zip(took, bare, strict=True)) * 1000, 2
        ),
        "edit->read p50 ms": round(percentile(delays, 50) * 1000, 1) if delays else "-",
        "edit->read p99 ms": round(percentile(delays, 99) * 1000, 1) if delays else "-",
        "reads": len(delays),
        "overhead %": round((busy - sum(took)) / sum(took) * 100, 1),
        "vs bare %": round((busy - sum(bare)) / sum(bare) * 100, 1),
        "idle s": round(sum(run.idle for run in runs) / len(runs), 2),
        "gate s": round(statistics.median(run.gate for run in runs), 2),
        "refused": sum(c.error for c in timed),
        "edits": sum(c.tool == "edit" and not c.error for c in timed),
        "conflicts": sum(run.conflicts for run in runs),
        "commits": f"{sum(run.committed for run in runs)}/{len(runs)}",
    }


# -- main ---------------------------------------------------------------------------------------


PARTS = ("cli", "tools", "run")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="timed runs of each command (part 1)")
    p.add_argument("--calls", type=int, default=50, help="timed calls of each tool (part 2)")
    p.add_argument("--agents", default="3,8,16", help="agents of each run (part 3)")
    p.add_argument("--steps", type=int, default=20, help="tool calls of each agent (part 3)")
    p.add_argument("--repeat", type=int, default=2, help="runs of each number (part 3)")
    p.add_argument("--seed", type=int, default=1, help="seed of the agents' waits (part 3)")
    p.add_argument("--package", default="anyio", help="the installed package to copy")
    p.add_argument(
        "--only", default=",".join(PARTS), help=f"the parts to run, of {', '.join(PARTS)}"
    )
    args = p.parse_args()
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    if not parts or parts - set(PARTS):
        p.error(f"--only takes parts of {', '.join(PARTS)}")
    try:
        counts = [int(n) for n in args.agents.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1 or min(args.steps, args.repeat) < 1:
        p.error("--agents takes numbers of agents (3,8,16); --steps and --repeat, at least 1")
    began = time.monotonic()
    tables: list[tuple[str, list[dict[str, Any]]]] = []
    with tempfile.TemporaryDirectory(prefix="crdtspace-agents-") as folder:
        repo = Repo(Path(folder), args.package)
        progress(f"repository: {repo.describe()}")
        where = f"{repo.describe()}; {os.cpu_count()} cores"
        try:
            if "cli" in parts:
                title = f"CLI commands, wall time with the interpreter's start - {where}"
                tables.append((title, cli_part(repo, args.runs)))
            if "tools" in parts:
                tables.append((f"Agent tool calls - {where}", tools_part(repo, args.calls)))
            if "run" in parts:
                title = (
                    f"A run of scripted agents, {args.steps} tool calls each (Runner, durable "
                    f"workspace) - {repo.package}; {os.cpu_count()} cores"
                )
                cases = run_part(repo, counts, args.steps, args.seed, args.repeat)
                tables.append((title, cases))
        finally:
            for root in repo.roots:
                stop_services(root)
    progress(f"done in {time.monotonic() - began:.0f} s")
    for number, (title, cases) in enumerate(tables):
        if number and not args.json:
            print()
        report(cases, as_json=args.json, title=title)


def cli_part(repo: Repo, runs: int) -> list[dict[str, Any]]:
    """Part 1: the commands without a service and git, then through a service."""
    progress(f"commands without a service, and git, {runs} runs ...")
    commands = cli_commands(repo, service=False) | alternatives(repo)
    measured = rounds(commands, runs)
    other = {name: measured.pop(name) for name in alternatives(repo)}
    repo.fresh()
    with service(repo):
        progress(f"commands through the service, {runs} runs ...")
        served = rounds(cli_commands(repo, service=True), runs)
    return cli_rows(served, measured, other)


def tools_part(repo: Repo, calls: int) -> list[dict[str, Any]]:
    """Part 2: the tools in process, over MCP, and on a replica of the service."""
    repo.fresh()
    progress(f"tools in process on the workspace opened here, {calls} calls ...")
    local_tools = local_session(repo, calls)
    repo.fresh()
    with service(repo):
        progress(f"tools over MCP stdio, {calls} calls each ...")
        over_mcp = mcp_session(repo, calls)
    repo.fresh()
    with service(repo):
        progress(f"tools in process on a replica of the service, {calls} calls ...")
        joined_tools = joined_session(repo, calls)
    return mcp_rows(over_mcp, joined_tools, local_tools)


def run_part(
    repo: Repo, counts: list[int], steps: int, seed: int, repeat: int
) -> list[dict[str, Any]]:
    """Part 3: `repeat` runs of each number of agents (interleaved), each followed by its calls
    replayed without the runner; one untimed run first."""
    files = run_targets(repo, (max(counts) + 1) // 2)
    plans = {agents: agent_scripts(files, agents, steps, seed) for agents in counts}
    runs: dict[int, list[RunFigures]] = {agents: [] for agents in counts}
    progress(f"a run of {counts[0]} agents, untimed (the process's first calls cost more) ...")
    replay(repo, plans[counts[0]], agents_run(repo, plans[counts[0]]))
    for number in range(repeat):
        for agents, plan in plans.items():
            progress(f"run {number + 1}/{repeat} of {agents} agents, {steps} tool calls each ...")
            run = agents_run(repo, plan)
            replay(repo, plan, run)
            refused = sorted({c.text.splitlines()[0] for c in run.calls if c.error})
            for message in refused[:5]:
                progress(f"  refused: {message}")
            if run.replay_errors:
                progress(f"  {run.replay_errors} call(s) refused in the replay")
            runs[agents].append(run)
    return [run_row(runs[agents]) for agents in counts]


if __name__ == "__main__":
    main()
