"""Conflict detection over the scenario folders in tests/scenarios/conflicts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from crdtspace import Workspace, sync
from crdtspace.model.segment import TEXT_KIND, segment_file
from tests.scenario_support import (
    SCENARIOS,
    Analysis,
    Finding,
    Scenario,
    load_scenarios,
    match,
    run_scenario,
    score,
    sides,
    total,
)

ALL = load_scenarios(SCENARIOS)
LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java")


def _describe(finding: Finding) -> str:
    places = ", ".join(f"{p.path}::{p.name}" if p.name else p.path for p in finding.places)
    return f"{finding.kind} [{finding.severity}] {places} ({','.join(finding.agents)})"


def _parses(path: str, text: str) -> bool:
    return segment_file(path, text).root.kind != TEXT_KIND


def _qualnames(workspace: Workspace) -> set[tuple[str, str]]:
    return {
        (path, entry.qualname) for path in workspace.paths() for entry in workspace.outline(path)
    }


def test_the_corpus_covers_every_language() -> None:
    by_language = {language: [s for s in ALL if s.language == language] for language in LANGUAGES}
    assert {s.language for s in ALL} <= set(LANGUAGES)
    for language, scenarios in by_language.items():
        positive = sum(1 for s in scenarios if s.positive)
        assert positive >= 2, language
        assert len(scenarios) - positive >= 2, language
    assert len(ALL) >= 48


@pytest.mark.parametrize("scenario", ALL, ids=[s.name for s in ALL])
def test_scenario_files_parse(scenario: Scenario) -> None:
    """The base and every whole file an agent writes parse in their language."""
    assert scenario.base, "a scenario needs base files"
    assert scenario.a.files or scenario.a.ops or scenario.b.files or scenario.b.ops
    for label, files in (("base", scenario.base), ("a", scenario.a.files), ("b", scenario.b.files)):
        for path, text in files.items():
            assert _parses(path, text), f"{label}/{path} does not parse"
            if label != "base":
                assert text != scenario.base.get(path), f"{label}/{path} is the base file"


@pytest.mark.parametrize("scenario", ALL, ids=[s.name for s in ALL])
def test_scenario_sides_apply(scenario: Scenario, tmp_path: Path) -> None:
    """Each side's edits apply, every file still parses on each side and merged, and each
    expected place names a node that exists somewhere (base, a side, or the merge)."""
    alice, bob = sides(scenario, tmp_path / "repo")
    for side, workspace in ((scenario.a, alice), (scenario.b, bob)):
        for path, text in side.files.items():
            assert workspace.render(path) == text, f"{side.agent} wrote {path}"
    names = _qualnames(alice) | _qualnames(bob)
    sync(alice, bob)
    assert alice.render_all() == bob.render_all()
    names |= _qualnames(alice)
    for workspace in (alice, bob):
        for path, text in workspace.render_all().items():
            assert _parses(path, text), f"{workspace.agent}: {path} does not parse"
    base = Workspace.from_commit(tmp_path / "repo", agent="base")
    names |= _qualnames(base)
    for item in scenario.expected:
        if item.name is not None:
            assert (item.path, item.name) in names, f"no node for {item}"
        else:
            assert any(path == item.path for path, _ in names) or item.path in {
                *scenario.base,
                *scenario.a.files,
                *scenario.b.files,
            }, f"no file for {item}"


def _check(scenario: Scenario, found: Analysis) -> None:
    missing, unexpected = match(scenario, found)
    lines = [f"{scenario.name}: {scenario.description}"]
    lines += [f"  missing:    {item}" for item in missing]
    lines += [f"  unexpected: {_describe(item)}" for item in unexpected]
    assert not missing, "\n".join(lines)
    assert not unexpected, "\n".join(lines)


@pytest.mark.parametrize("scenario", ALL, ids=[s.name for s in ALL])
def test_scenario(scenario: Scenario, tmp_path: Path) -> None:
    """Both replicas report the same findings, and exactly the expected ones."""
    found_a, found_b = run_scenario(scenario, tmp_path / "repo")
    assert list(found_a.conflicts) == list(found_b.conflicts)
    assert list(found_a.notices) == list(found_b.notices)
    assert list(found_a.broken) == list(found_b.broken)
    _check(scenario, found_a)


FAILING = load_scenarios(SCENARIOS.parent / "conflicts-failing")

if FAILING:  # (an empty quarantine has nothing to run, rather than a skipped test)

    @pytest.mark.xfail(strict=True, reason="known gap, see the scenario's description")
    @pytest.mark.parametrize("scenario", FAILING, ids=[s.name for s in FAILING])
    def test_known_gap(scenario: Scenario, tmp_path: Path) -> None:
        """Quarantined scenarios: what crdtspace should report and does not yet."""
        found, _ = run_scenario(scenario, tmp_path / "repo")
        _check(scenario, found)


def test_precision_and_recall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Over the whole corpus: precision and recall of conflicts and breakages, at least 0.9."""
    scores = []
    for index, scenario in enumerate(ALL):
        found, _ = run_scenario(scenario, tmp_path / f"repo{index}")
        scores.append(score(scenario, found))
    precision, recall = total(scores)
    tp, fp, fn = (sum(column) for column in zip(*scores, strict=True))
    with capsys.disabled():
        print(
            f"\nconflict scenarios: {len(ALL)}  tp={tp} fp={fp} fn={fn}  "
            f"precision={precision:.3f} recall={recall:.3f}"
        )
    assert precision >= 0.9
    assert recall >= 0.9
