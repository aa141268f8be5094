"""Conflict scenarios: load the example folders, replay them on two replicas, score the result.

A scenario is a folder under ``tests/scenarios/conflicts/`` (its README describes the format):
the base commit's files, what agent A (alice) and agent B (bob) each write, and the findings
expected once the two replicas have synced. The test runner and ``benchmarks/conflicts.py``
share this module, so both count the same way.

Matching is deliberately loose on places and strict on the rest: an expected item matches a
found one when the kind, the set of agents and the severity are equal and one of the found
item's places has the expected path (and the expected qualified name, when one is given).
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crdtspace import Workspace, sync
from crdtspace.testing import make_repo

__all__ = [
    "AGENTS",
    "SCENARIOS",
    "Analysis",
    "Expected",
    "Finding",
    "Op",
    "Place",
    "Scenario",
    "Side",
    "apply_side",
    "load_scenario",
    "load_scenarios",
    "match",
    "run_scenario",
    "score",
    "sides",
    "total",
]

SCENARIOS = Path(__file__).parent / "scenarios" / "conflicts"
"""Where the conflict scenarios live."""

AGENTS = ("alice", "bob")
"""Agent A is alice (folder ``a/``, ``a.toml``), agent B is bob (``b/``, ``b.toml``)."""

# Sections of expected.toml and the Analysis list each one is checked against.
_SECTIONS = {"conflict": "conflicts", "broken": "broken", "notice": "notices"}
_ACTIONS = {"delete", "remove", "move", "replace"}


# -- what the detector returns (structurally; conflicts.findings has the real ones) ---


class Place(Protocol):
    """Where a finding is: a file and, for a node, its qualified name."""

    @property
    def path(self) -> str: ...

    @property
    def name(self) -> str | None: ...


class Finding(Protocol):
    """One conflict, notice or breakage as the detector reports it."""

    @property
    def kind(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def agents(self) -> Sequence[str]: ...

    @property
    def places(self) -> Sequence[Place]: ...


class Analysis(Protocol):
    """What `Workspace.analysis()` returns: three lists of findings."""

    @property
    def conflicts(self) -> Sequence[Finding]: ...

    @property
    def notices(self) -> Sequence[Finding]: ...

    @property
    def broken(self) -> Sequence[Finding]: ...


# -- what a scenario folder holds -------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One node edit from ``a.toml`` / ``b.toml``."""

    action: str
    ref: str = ""
    path: str = ""
    parent: str = ""
    after: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Side:
    """What one agent does: whole files written first, then node edits in order."""

    agent: str
    files: dict[str, str] = field(default_factory=dict)
    ops: tuple[Op, ...] = ()


@dataclass(frozen=True)
class Expected:
    """One expected finding. ``severity`` None (notices only) means any severity."""

    section: str  # "conflict", "broken" or "notice"
    kind: str
    path: str
    name: str | None
    agents: frozenset[str]
    severity: str | None

    def __str__(self) -> str:
        where = f"{self.path}::{self.name}" if self.name else self.path
        agents = ",".join(sorted(self.agents))
        return f"{self.section} {self.kind} [{self.severity or 'any'}] {where} ({agents})"


@dataclass(frozen=True)
class Scenario:
    """One folder: base files, the two sides, and the expected findings."""

    name: str
    root: Path
    description: str
    base: dict[str, str]
    a: Side
    b: Side
    expected: tuple[Expected, ...]

    @property
    def language(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def positive(self) -> bool:
        return any(e.section != "notice" for e in self.expected)


def _read_tree(root: Path) -> dict[str, str]:
    """Every file under `root`, by POSIX relative path, read exactly (no newline translation)."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes().decode("utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _ops(path: Path) -> tuple[Op, ...]:
    if not path.is_file():
        return ()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"op"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    ops = []
    for raw in data.get("op", []):
        op = Op(**raw)
        if op.action not in _ACTIONS:
            raise ValueError(f"{path}: unknown action {op.action!r}")
        ops.append(op)
    return tuple(ops)


def _expected(path: Path) -> tuple[str, tuple[Expected, ...]]:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"description", *_SECTIONS}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"{path}: a description is required")
    items = []
    for section in _SECTIONS:
        for raw in data.get(section, []):
            extra = set(raw) - {"kind", "path", "name", "agents", "severity"}
            if extra:
                raise ValueError(f"{path}: unknown keys {sorted(extra)} in [[{section}]]")
            agents = frozenset(raw["agents"])
            if not agents or not agents <= set(AGENTS):
                raise ValueError(f"{path}: agents must be among {AGENTS}")
            if section == "notice" and raw["kind"] != "merged":
                raise ValueError(f"{path}: a notice has kind 'merged'")
            if (section == "broken") != (raw["kind"] == "broken"):
                raise ValueError(f"{path}: kind 'broken' goes in [[broken]] and only there")
            default = None if section == "notice" else "certain"
            items.append(
                Expected(
                    section,
                    raw["kind"],
                    raw["path"],
                    raw.get("name"),
                    agents,
                    raw.get("severity", default),
                )
            )
    return description, tuple(items)


def load_scenario(root: Path) -> Scenario:
    """Read one scenario folder."""
    description, expected = _expected(root / "expected.toml")
    return Scenario(
        name=root.name,
        root=root,
        description=description,
        base=_read_tree(root / "base"),
        a=Side(AGENTS[0], _read_tree(root / "a"), _ops(root / "a.toml")),
        b=Side(AGENTS[1], _read_tree(root / "b"), _ops(root / "b.toml")),
        expected=expected,
    )


def load_scenarios(root: Path = SCENARIOS) -> list[Scenario]:
    """Every scenario folder under `root` (those holding an expected.toml), sorted by name."""
    return [load_scenario(p.parent) for p in sorted(root.glob("*/expected.toml"))]


# -- replaying a scenario ---------------------------------------------------------------------


def apply_side(workspace: Workspace, side: Side) -> None:
    """Apply one agent's whole files, then its node edits, to its replica."""
    for path, text in side.files.items():
        workspace.write(path, text)
    for op in side.ops:
        if op.action == "delete":
            workspace.delete(op.ref)
        elif op.action == "remove":
            workspace.remove(op.path)
        elif op.action == "move":
            workspace.move(op.ref, op.parent, op.after)
        else:
            workspace.replace(op.ref, op.text)


def sides(scenario: Scenario, directory: Path) -> tuple[Workspace, Workspace]:
    """Alice's and bob's replicas of the base commit (made in `directory`), edited, not synced."""
    repo = make_repo(directory, scenario.base)
    alice = Workspace.from_commit(repo, agent=scenario.a.agent)
    bob = Workspace.from_commit(repo, agent=scenario.b.agent)
    apply_side(alice, scenario.a)
    apply_side(bob, scenario.b)
    return alice, bob


def run_scenario(scenario: Scenario, directory: Path | None = None) -> tuple[Analysis, Analysis]:
    """Replay a scenario (in `directory`, else a temporary one): edit both sides, sync, analyse.

    Returns alice's and bob's analyses; they must be equal (conflicts are a pure function of the
    converged document).
    """
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="crdtspace-scenario-") as tmp:
            return run_scenario(scenario, Path(tmp))
    alice, bob = sides(scenario, directory)
    sync(alice, bob)
    return alice.analysis(), bob.analysis()


# -- scoring ----------------------------------------------------------------------------------


def _matches(expected: Expected, found: Finding) -> bool:
    if found.kind != expected.kind or frozenset(found.agents) != expected.agents:
        return False
    if expected.severity is not None and found.severity != expected.severity:
        return False
    return any(
        place.path == expected.path and (expected.name is None or place.name == expected.name)
        for place in found.places
    )


def _pair(
    expected: Sequence[Expected], found: Sequence[Finding]
) -> tuple[list[Expected], list[Finding]]:
    """Greedy one-to-one matching; returns (unmatched expected, unmatched found)."""
    left = list(found)
    missing = []
    for item in expected:
        for index, candidate in enumerate(left):
            if _matches(item, candidate):
                del left[index]
                break
        else:
            missing.append(item)
    return missing, left


def match(scenario: Scenario, analysis: Analysis) -> tuple[list[Expected], list[Finding]]:
    """(expected items not found, found conflicts and breakages nobody expected).

    Expected notices must be found; notices nobody expected are allowed.
    """
    missing: list[Expected] = []
    unexpected: list[Finding] = []
    for section, attribute in _SECTIONS.items():
        wanted = [e for e in scenario.expected if e.section == section]
        absent, extra = _pair(wanted, getattr(analysis, attribute))
        missing += absent
        if section != "notice":
            unexpected += extra
    return missing, unexpected


def score(scenario: Scenario, analysis: Analysis) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) over conflicts and breakages."""
    missing, unexpected = match(scenario, analysis)
    missing = [e for e in missing if e.section != "notice"]
    wanted = sum(1 for e in scenario.expected if e.section != "notice")
    return wanted - len(missing), len(unexpected), len(missing)


def total(scores: Iterable[tuple[int, int, int]]) -> tuple[float, float]:
    """(precision, recall) of summed scores; 1.0 when there is nothing to divide."""
    tp = fp = fn = 0
    for a, b, c in scores:
        tp, fp, fn = tp + a, fp + b, fn + c
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall
