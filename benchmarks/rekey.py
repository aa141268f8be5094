"""Re-keying cost: `Workspace.write()` of a whole 3,000+-line Python file after a small change.

The file is the standard library's typing.py (3,500 lines). Each case alternates between two
versions of the file so that every write is a real change, and reports the median time of a
`write()` (segmenting the changed region, matching units, minimal per-node edits, log entries).
Persistence is off (in-memory replica).

The case "stale base (N edits old)" is a write made from a read that N edits by another agent
have since overtaken (spread over the file's functions): the write is applied on a fork
restored to that read's version and merged back (`crdtspace.model.versions`). Each round changes
another function, from the same old read, so every round pays for the fork.
"""

from __future__ import annotations

import statistics
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import parser, progress, report

from crdtspace.testing import make_repo
from crdtspace.workspace import Workspace

PATH = "typing.py"


def variants(text: str) -> dict[str, str]:
    """Each case: the file after one kind of change."""
    body = "        assert not all_params, all_params\n"
    assert body in text
    rename_from = (
        "def _type_check(arg, msg, is_argument=True, module=None, *, allow_special_forms=False):"
    )
    assert rename_from in text
    end = text.index("\ndef _type_repr(")
    return {
        "one function changed": text.replace(
            body, body.replace("all_params, all_params", "all_params, (params, all_params)"), 1
        ),
        "function renamed and edited": text.replace(
            rename_from, rename_from.replace("_type_check", "_check_type")
        ).replace(
            "    invalid_generic_forms = (Generic, Protocol)", "    invalid_generic_forms = ()", 1
        ),
        "function added": text[:end] + "\n\ndef added(x):\n    return x * 2\n" + text[end:],
        "function moved": _move(text),
    }


def _move(text: str) -> str:
    start = text.index("\ndef _type_repr(")
    stop = text.index("\ndef ", start + 1)
    unit = text[start:stop]
    rest = text[:start] + text[stop:]
    at = rest.index("\ndef _collect_parameters(")
    return rest[:at] + unit + rest[at:]


def measure(ws: Workspace, base: str, changed: str, rounds: int) -> list[float]:
    times = []
    for i in range(rounds):
        target = changed if i % 2 == 0 else base
        began = time.perf_counter()
        ws.write(PATH, target)
        times.append((time.perf_counter() - began) * 1000)
        assert ws.render(PATH) == target
    return times


def stale(repo: Path, text: str, edits: int, rounds: int) -> tuple[Workspace, list[float]]:
    """Writes from a read `edits` edits old, each changing another function."""
    ws = Workspace.from_commit(repo, agent="bench")
    old = ws.read(PATH, agent="late")
    functions = [
        e.qualname for e in ws.outline(PATH) if e.kind == "function_definition" and e.depth == 1
    ]
    for n in range(edits):  # another agent's edits since the late agent's read
        name = functions[n % len(functions)]
        node = ws.read(f"{PATH}::{name}", agent="other")
        ws.replace(f"{PATH}::{name}", node.rstrip("\n") + f"  # edit {n}\n", agent="other")
    times = []
    for i in range(rounds):
        name = functions[(i * 7) % len(functions)]  # another one each round (7 is coprime)
        marker = f"def {name}("
        target = old.replace(marker, f"def {name}(  # late {i}\n    ", 1)
        began = time.perf_counter()
        ws.write(PATH, target, base=old.version, agent="late")
        times.append((time.perf_counter() - began) * 1000)
    rendered = ws.render(PATH)
    assert f"# late {rounds - 1}" in rendered
    assert f"# edit {edits - 1}" in rendered  # nothing the late writer had not seen was undone
    return ws, times


def row(name: str, ws: Workspace, text: str, times: list[float]) -> dict[str, Any]:
    return {
        "case": name,
        "lines": text.count("\n"),
        "units": len(ws.outline(PATH)),
        "rounds": len(times),
        "median_ms": statistics.median(times),
        "p90_ms": sorted(times)[int(len(times) * 0.9) - 1],
        "persistence": False,
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--stale", type=int, default=1000, help="edits since the stale read")
    args = p.parse_args()
    source = Path(sysconfig.get_paths()["stdlib"]) / "typing.py"
    text = source.read_text(encoding="utf-8")
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        repo = make_repo(Path(scratch) / "repo", {PATH: text})
        for name, changed in variants(text).items():
            progress(f"{name} ...")
            ws = Workspace.from_commit(repo, agent="bench")
            times = measure(ws, text, changed, args.rounds)
            cases.append(row(name, ws, text, times))
            ws.close()
        name = f"stale base ({args.stale} edits old)"
        progress(f"{name} ...")
        ws, times = stale(repo, text, args.stale, args.rounds)
        cases.append(row(name, ws, text, times))
        ws.close()
    report(cases, as_json=args.json, title="rekey: write() of a 3,500-line file")


if __name__ == "__main__":
    main()
