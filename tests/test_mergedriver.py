"""The merge driver: the scenarios, the strategy's fallbacks, the CLI and a real git merge."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace.conflicts.analysis import analysis_of
from crdtspace.git import mergedriver
from crdtspace.git.mergecheck import may_hide_conflict
from crdtspace.git.mergedriver import (
    SEMANTIC_KINDS,
    MergeOutcome,
    driver_command,
    driver_config,
    git_merge_file,
    gitattributes_lines,
    merge_files,
    take_side,
)
from crdtspace.model.languages import profile_for
from crdtspace.testing import GitFailed, commit_files, git, make_repo

MERGE_SCENARIOS = Path(__file__).parent / "scenarios" / "merge"
LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java")


@dataclass(frozen=True)
class MergeCase:
    """One folder of tests/scenarios/merge (format in its README)."""

    name: str
    ext: str
    base: str
    left: str
    right: str
    expected: str
    conflict: bool

    @property
    def path(self) -> str:
        return f"file{self.ext}"

    @property
    def language(self) -> str:
        return self.name.split("-", 1)[0]

    def merge(self) -> MergeOutcome:
        return merge_files(self.base, self.left, self.right, self.path)

    def check(self, outcome: MergeOutcome) -> None:
        assert outcome.text == self.expected, f"{outcome.method}: {outcome.fallback_reason}"
        assert outcome.clean is not self.conflict


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def load_cases(folder: Path) -> list[MergeCase]:
    """Every case folder directly inside `folder`, sorted by name."""
    cases = []
    for case in sorted(p for p in folder.iterdir() if any(p.glob("Base.*"))):
        ext = next(case.glob("Base.*")).suffix
        base, left, right, expected = (
            _read(case / f"{part}{ext}") for part in ("Base", "Left", "Right", "Expected")
        )
        cases.append(
            MergeCase(
                case.name,
                ext,
                base,
                left,
                right,
                expected,
                conflict=(case / "expect-conflict").exists(),
            )
        )
    return cases


WORKING = load_cases(MERGE_SCENARIOS)
FAILING = load_cases(MERGE_SCENARIOS / "failing")


# -- the scenarios --------------------------------------------------------------------------


def test_the_corpus_covers_every_language() -> None:
    assert len(WORKING) + len(FAILING) >= 60
    for language in LANGUAGES:
        mine = [c for c in WORKING if c.language == language]
        assert sum(c.conflict for c in mine) >= 3, language
        assert sum(not c.conflict for c in mine) >= 6, language
    for case in WORKING + FAILING:
        assert case.conflict == ("conflict" in case.name), case.name


@pytest.mark.parametrize("case", WORKING + FAILING, ids=[c.name for c in WORKING + FAILING])
def test_scenario_sides_parse(case: MergeCase) -> None:
    profile = profile_for(case.path)
    assert profile is not None
    for text in (case.base, case.left, case.right):
        assert profile.parses(text)


@pytest.mark.parametrize("case", WORKING, ids=[c.name for c in WORKING])
def test_scenario(case: MergeCase) -> None:
    case.check(case.merge())


@pytest.mark.parametrize("case", FAILING, ids=[c.name for c in FAILING])
@pytest.mark.xfail(strict=True, reason="recorded in tests/scenarios/merge/failing/")
def test_failing_scenario(case: MergeCase) -> None:
    case.check(case.merge())


def test_crdtspace_beats_git_on_the_corpus() -> None:
    """Fewer conflicts than git's line merge, and no clean result that differs from Expected."""
    ours = git_conflicts = 0
    for case in WORKING:
        outcome = case.merge()
        ours += not outcome.clean
        git_conflicts += git_merge_file(case.base, case.left, case.right)[1] > 0
        if outcome.clean:
            assert outcome.text == case.expected, case.name
    assert ours < git_conflicts


# -- the strategy ---------------------------------------------------------------------------

BASE = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"


def test_identical_sides_need_no_merge() -> None:
    changed = BASE.replace("1", "10")
    assert merge_files(BASE, changed, BASE, "m.py") == MergeOutcome(changed, True, "identical")
    assert merge_files(BASE, BASE, changed, "m.py").text == changed
    assert merge_files(BASE, changed, changed, "m.py").method == "identical"


def test_a_clean_git_merge_is_returned_unchanged() -> None:
    left = BASE.replace("return 1", "return 10")
    right = BASE.replace("return 2", "return 20")
    outcome = merge_files(BASE, left, right, "m.py")
    assert outcome.method == "git-line"
    assert outcome.clean
    assert outcome.text == git_merge_file(BASE, left, right)[0]


def test_a_clean_git_merge_with_a_semantic_conflict_is_flagged() -> None:
    left = BASE.replace("def a(", "def first(")
    right = BASE + "\n\ndef c():\n    return a()\n"
    assert git_merge_file(BASE, left, right)[1] == 0
    outcome = merge_files(BASE, left, right, "m.py")
    assert not outcome.clean
    assert [c.kind for c in outcome.conflicts] == ["dangling-reference"]
    assert "# crdtspace dangling-reference: left renamed a to first" in outcome.text


def test_a_file_of_no_language_gets_git_line_merge() -> None:
    outcome = merge_files("a\nb\nc\n", "a1\nb\nc\n", "a\nb\nc1\n", "notes.txt")
    assert (outcome.text, outcome.clean, outcome.method) == ("a1\nb\nc1\n", True, "git-line")


def test_a_side_that_does_not_parse_falls_back_to_git() -> None:
    left = BASE + "\n\ndef broken(:\n"
    right = BASE + "\n\ndef c():\n    return 3\n"
    outcome = merge_files(BASE, left, right, "m.py")
    assert outcome.method == "fallback"
    assert outcome.fallback_reason == "the left version does not parse as python"
    assert (outcome.text, outcome.clean) == (git_merge_file(BASE, left, right)[0], False)


def test_the_timeout_falls_back_to_git() -> None:
    left, right = BASE + "\n\ndef c():\n    return 3\n", BASE + "\n\ndef d():\n    return 4\n"
    outcome = merge_files(BASE, left, right, "m.py", timeout=0)
    assert outcome.method == "fallback"
    assert "longer than 0 s" in outcome.fallback_reason
    assert outcome.text == git_merge_file(BASE, left, right)[0]


def test_a_structured_result_that_does_not_parse_falls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mergedriver._Structured, "render_with", lambda *args: "def broken(:\n")
    left, right = BASE + "\n\ndef c():\n    return 3\n", BASE + "\n\ndef d():\n    return 4\n"
    outcome = merge_files(BASE, left, right, "m.py")
    assert (outcome.method, outcome.fallback_reason) == (
        "fallback",
        "the structured merge does not parse",
    )
    assert not outcome.clean


def test_conflict_markers_that_do_not_parse_on_one_side_fall_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marked = "<<<<<<< left\ndef c(:\n||||||| base\n=======\ndef c(): pass\n>>>>>>> right\n"
    monkeypatch.setattr(mergedriver._Structured, "render_with", lambda *args: marked)
    left = BASE.replace("return 2", "return 3")
    right = BASE.replace("return 2", "return 4")
    outcome = merge_files(BASE, left, right, "m.py")
    assert outcome.method == "fallback"
    assert outcome.fallback_reason == "the structured merge does not parse when left is taken"


def test_an_internal_error_falls_back_to_git(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(mergedriver._Structured, "run", fail)
    left, right = BASE + "\n\ndef c():\n    return 3\n", BASE + "\n\ndef d():\n    return 4\n"
    outcome = merge_files(BASE, left, right, "m.py")
    assert outcome.method == "fallback"
    assert "RuntimeError('boom')" in outcome.fallback_reason
    assert outcome.text == git_merge_file(BASE, left, right)[0]


def test_markers_surround_only_the_conflicting_lines() -> None:
    base = BASE.replace("return 2", "x = 0\n    return 2")
    base = base.replace("return 1", "z = 5\n    return 1")
    left = base.replace("return 2", "return 3").replace("return 1", "return 10")
    right = base.replace("return 2", "return 4").replace("def a():\n", "def a():\n    pass\n")
    outcome = merge_files(base, left, right, "m.py")
    assert outcome.text == (
        "def a():\n    pass\n    z = 5\n    return 10\n\n\ndef b():\n    x = 0\n"
        "<<<<<<< left\n    return 3\n||||||| base\n    return 2\n=======\n    return 4\n"
        ">>>>>>> right\n"
    )
    assert [c.kind for c in outcome.conflicts] == ["overlap"]


def test_the_marker_size_is_git_s() -> None:
    left, right = BASE.replace("return 2", "return 3"), BASE.replace("return 2", "return 4")
    outcome = merge_files(BASE, left, right, "m.py", marker_size=10)
    assert "<<<<<<<<<< left\n" in outcome.text
    assert ">>>>>>>>>> right\n" in outcome.text
    assert take_side(outcome.text, "right", 10) == right


def test_take_side_keeps_one_side_of_every_block() -> None:
    text = "a\n<<<<<<< left\nl\n||||||| base\no\n=======\nr\n>>>>>>> right\nz\n"
    assert take_side(text, "left") == "a\nl\nz\n"
    assert take_side(text, "right") == "a\nr\nz\n"


# -- keeping git's clean merge without the node model ----------------------------------------


@pytest.mark.parametrize("case", WORKING + FAILING, ids=[c.name for c in WORKING + FAILING])
def test_the_cheap_check_gives_what_the_node_model_gives(
    case: MergeCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = case.merge()
    monkeypatch.setattr(mergedriver, "_may_hide", lambda *args: True)
    slow = case.merge()
    assert (fast.text, fast.clean, fast.conflicts) == (slow.text, slow.clean, slow.conflicts)


@pytest.mark.parametrize("case", WORKING + FAILING, ids=[c.name for c in WORKING + FAILING])
def test_the_cheap_check_never_misses_a_semantic_conflict(case: MergeCase) -> None:
    """Whatever git does with the case: a semantic conflict the node model finds is one the
    cheap check says may hide."""
    merged = mergedriver._Structured.run(case.base, case.left, case.right, case.path, 1e12)
    found = [c for c in analysis_of(merged.workspace).conflicts if c.kind in SEMANTIC_KINDS]
    profile = profile_for(case.path)
    assert profile is not None
    if found:
        assert may_hide_conflict(case.base, case.left, case.right, profile)


def test_a_clean_merge_of_unrelated_edits_builds_no_node_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("the node model was built")

    monkeypatch.setattr(mergedriver._Structured, "run", fail)
    left = BASE.replace("return 1", "return 10")
    right = BASE.replace("return 2", "return 20")
    outcome = merge_files(BASE, left, right, "m.py")
    assert (outcome.method, outcome.clean) == ("git-line", True)
    assert outcome.text == git_merge_file(BASE, left, right)[0]


CALLS_A = BASE + "\n\ndef c():\n    return a()\n"
IMPORTS = "import os\n\n\n" + BASE


@pytest.mark.parametrize(
    ("base", "left", "right"),
    [
        (BASE, BASE.replace("def a(", "def first("), CALLS_A),
        (BASE, BASE.replace("def a():", "def a(x):"), CALLS_A),
        (BASE, BASE + "\n\ndef c():\n    return 3\n", BASE.replace("def b(", "def c(")),
        (IMPORTS, BASE, IMPORTS.replace("return 2", "return os.sep")),
    ],
    ids=["rename-and-call", "parameters-and-call", "two-new-names", "import-and-use"],
)
def test_the_cheap_check_sees_each_cause_and_use(base: str, left: str, right: str) -> None:
    profile = profile_for("m.py")
    assert profile is not None
    assert may_hide_conflict(base, left, right, profile)
    assert may_hide_conflict(base, right, left, profile)
    assert not may_hide_conflict(base, base, right, profile)


RUST_USE = "use std::collections::{HashMap, HashSet};\n\nfn a() -> i32 {\n    1\n}\n"
GO_IMPORTS = 'package p\n\nimport (\n\t"os"\n\t"strings"\n)\n\nfunc a() int {\n\treturn 1\n}\n'
JAVA_IMPORTS = (
    "import java.util.List;\nimport java.util.Map;\n\nclass C {\n    int a() { return 1; }\n}\n"
)
TS_IMPORTS = 'import { a, b } from "./m";\n\nexport function f(): number {\n  return 1;\n}\n'


@pytest.mark.parametrize(
    ("path", "base", "left", "right"),
    [
        (
            "m.rs",
            RUST_USE,
            RUST_USE.replace("{HashMap, HashSet}", "HashMap"),
            RUST_USE.replace("    1\n", "    let s: HashSet<i32> = HashSet::new();\n    1\n"),
        ),
        (
            "m.go",
            GO_IMPORTS,
            GO_IMPORTS.replace('\t"strings"\n', ""),
            GO_IMPORTS.replace("\treturn 1\n", '\treturn len(strings.Repeat("a", 2))\n'),
        ),
        (
            "C.java",
            JAVA_IMPORTS,
            JAVA_IMPORTS.replace("import java.util.Map;\n", ""),
            (JAVA_IMPORTS.replace("return 1;", "Map<String, Integer> m = null; return 1;")),
        ),
        (
            "m.ts",
            TS_IMPORTS,
            TS_IMPORTS.replace("{ a, b }", "{ a }"),
            TS_IMPORTS.replace("return 1;", "return b();"),
        ),
    ],
    ids=["rust-use", "go-import", "java-import", "ts-import"],
)
def test_an_import_removed_and_used_is_never_kept_from_git_unchecked(
    path: str, base: str, left: str, right: str
) -> None:
    """Whatever the node model finds, the cheap check sees the removal meet the new use (a
    Rust ``use`` is an import, as the semantic checks count it)."""
    profile = profile_for(path)
    assert profile is not None
    assert may_hide_conflict(base, left, right, profile)
    assert may_hide_conflict(base, right, left, profile)
    merged = mergedriver._Structured.run(base, left, right, path, 1e12)
    found = [c for c in analysis_of(merged.workspace).conflicts if c.kind in SEMANTIC_KINDS]
    outcome = merge_files(base, left, right, path)
    assert bool(found) == (not outcome.clean)


USES_LEN = "def a(x):\n    return len(x)\n\n\ndef b():\n    return 2\n"
JAVA_BASE = (
    "class C {\n    int m(int x) { return x; }\n\n    int m(String s) { return 0; }\n\n"
    "    int f() { return 0; }\n}\n"
)
GO_BASE = (
    "package p\n\ntype T struct{}\n\nfunc (t *T) M(a int) int {\n\treturn a\n}\n\n"
    "func f(t *T) int {\n\treturn 0\n}\n"
)


@pytest.mark.parametrize(
    ("path", "base", "left", "right"),
    [
        # a body edit of a unit naming a called word, no parameter changed
        (
            "m.py",
            USES_LEN,
            USES_LEN.replace("len(x)", "len(x) + 1"),
            USES_LEN.replace("return 2", "return len('ab')"),
        ),
        # a called name edited inside, the signature the same
        (
            "m.py",
            BASE,
            BASE.replace("return 1", "return b() + 1"),
            BASE.replace("return 2", "return 2\n\n\ndef c():\n    return a()"),
        ),
        (
            "g.go",
            GO_BASE,
            GO_BASE.replace("\treturn a\n", "\treturn a + 1\n"),
            GO_BASE.replace("\treturn 0\n", "\treturn t.M(1)\n"),
        ),
    ],
    ids=["body-edit-and-builtin-call", "body-edit-and-call", "go-method-body-and-call"],
)
def test_an_edit_that_keeps_the_parameters_meets_no_call(
    path: str, base: str, left: str, right: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = profile_for(path)
    assert profile is not None
    assert not may_hide_conflict(base, left, right, profile)
    assert not may_hide_conflict(base, right, left, profile)

    def fail(*args: object) -> None:
        raise AssertionError("the node model was built")

    monkeypatch.setattr(mergedriver._Structured, "run", fail)
    outcome = merge_files(base, left, right, path)
    assert (outcome.method, outcome.clean) == ("git-line", True)


@pytest.mark.parametrize(
    ("path", "base", "left", "right"),
    [
        (
            "g.go",
            GO_BASE,
            GO_BASE.replace("M(a int)", "M(a, b int)"),
            GO_BASE.replace("\treturn 0\n", "\treturn t.M(1)\n"),
        ),
        # overloads: units this check cannot pair by name (re-keying pairs them by similarity)
        (
            "C.java",
            JAVA_BASE,
            JAVA_BASE.replace("m(int x)", "m(int x, int y)"),
            JAVA_BASE.replace("return 0; }\n}", "return m(1); }\n}"),
        ),
    ],
    ids=["go-method-parameters-and-call", "java-overload-parameters-and-call"],
)
def test_a_parameter_change_still_meets_a_new_call(
    path: str, base: str, left: str, right: str
) -> None:
    profile = profile_for(path)
    assert profile is not None
    assert may_hide_conflict(base, left, right, profile)
    assert may_hide_conflict(base, right, left, profile)


_PARAMS = st.sampled_from(["", "x", "x, y", "x=1", "*args", "x, *, k"])
_ARGS = st.sampled_from(["", "1", "1, 2", "k=1", "*v"])
_BODIES = st.sampled_from(["return 1", "return len([])", "return a()", "return b(1)"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.tuples(_PARAMS, _PARAMS, _PARAMS),
    bodies=st.tuples(_BODIES, _BODIES),
    calls=st.lists(st.tuples(st.sampled_from(["a", "b", "len"]), _ARGS), max_size=3),
    rename=st.booleans(),
)
def test_the_cheap_check_never_misses_what_the_node_model_finds(
    params: tuple[str, str, str],
    bodies: tuple[str, str],
    calls: list[tuple[str, str]],
    rename: bool,
) -> None:
    """Left re-signs (maybe renames) `a` and edits `b`'s body; right adds calls: whatever the
    node model reports as a semantic conflict, the cheap check says may hide."""
    base = f"def a({params[0]}):\n    return 1\n\n\ndef b({params[2]}):\n    return 2\n"
    name = "a2" if rename else "a"
    left = f"def {name}({params[1]}):\n    {bodies[0]}\n\n\ndef b({params[2]}):\n    {bodies[1]}\n"
    lines = "".join(f"    {callee}({args})\n" for callee, args in calls) or "    pass\n"
    right = base + f"\n\ndef c():\n{lines}"
    merged = mergedriver._Structured.run(base, left, right, "m.py", 1e12)
    found = [c for c in analysis_of(merged.workspace).conflicts if c.kind in SEMANTIC_KINDS]
    profile = profile_for("m.py")
    assert profile is not None
    if found:
        assert may_hide_conflict(base, left, right, profile)
        assert may_hide_conflict(base, right, left, profile)


# -- registration ---------------------------------------------------------------------------


def test_driver_config_and_attributes() -> None:
    from crdtspace.git import mergeclient

    config = driver_config("/usr/bin/python3")
    assert config["merge.crdtspace.driver"] == (
        f"'/usr/bin/python3' -I -S '{mergeclient.SCRIPT}' %O %A %B %P %L"
    )
    assert config["merge.crdtspace.name"]
    lines = gitattributes_lines()
    for ext in (".py", ".js", ".ts", ".tsx", ".go", ".rs", ".java"):
        assert f"*{ext} merge=crdtspace" in lines


# -- the command line -----------------------------------------------------------------------


def _driver(folder: Path, base: str, current: str, other: str, *extra: str, **env: str) -> int:
    for name, text in (("O", base), ("A", current), ("B", other)):
        (folder / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    command = [sys.executable, "-m", "crdtspace", "merge-driver", "O", "A", "B", "pkg/m.py"]
    done = subprocess.run(
        [*command, *extra],
        cwd=folder,
        capture_output=True,
        check=False,
        env={**os.environ, **env},
    )
    assert b"Traceback" not in done.stderr
    return done.returncode


def test_cli_writes_a_clean_merge_into_current(tmp_path: Path) -> None:
    left, right = BASE + "\n\ndef c():\n    return 3\n", BASE + "\n\ndef d():\n    return 4\n"
    assert _driver(tmp_path, BASE, left, right) == 0
    assert (tmp_path / "A").read_text() == BASE + "\n\ndef c():\n    return 3\n\n\ndef d():\n" + (
        "    return 4\n"
    )


def test_cli_exits_1_with_markers(tmp_path: Path) -> None:
    left, right = BASE.replace("return 2", "return 3"), BASE.replace("return 2", "return 4")
    assert _driver(tmp_path, BASE, left, right, "--marker-size", "9") == 1
    assert "<<<<<<<<< left\n    return 3\n" in (tmp_path / "A").read_text()


def test_cli_merges_non_utf8_as_git_does(tmp_path: Path) -> None:
    base, left, right = b"a\nb\xff\nc\n", b"a1\nb\xff\nc\n", b"a\nb\xff\nc1\n"
    assert _driver(tmp_path, base, left, right) == 0  # type: ignore[arg-type]
    assert (tmp_path / "A").read_bytes() == b"a1\nb\xff\nc1\n"


def test_cli_kill_switch_is_plain_git(tmp_path: Path) -> None:
    left, right = BASE + "\n\ndef c():\n    return 3\n", BASE + "\n\ndef d():\n    return 4\n"
    assert _driver(tmp_path, BASE, left, right, CRDTSPACE_MERGE_DRIVER="off") == 1
    assert (tmp_path / "A").read_text() == git_merge_file(BASE, left, right)[0]


def test_git_s_calls_skip_typer_and_anything_else_reaches_it(tmp_path: Path) -> None:
    from crdtspace.cli import gitdriver

    assert gitdriver.main(["--help"]) is None
    assert gitdriver.main(["O", "A", "B", "m.py", "--colour"]) is None
    assert gitdriver.main(["O", "A", "B"]) is None
    assert gitdriver.main(["O", "A", "B", "m.py", "--marker-size", "x"]) is None
    left, right = BASE.replace("return 2", "return 3"), BASE.replace("return 2", "return 4")
    for name, text in (("O", BASE), ("A", left), ("B", right)):
        (tmp_path / name).write_text(text)
    files = [str(tmp_path / n) for n in "OAB"]
    assert gitdriver.main([*files, "m.py", "--marker-size=9", "--timeout", "5"]) == 1
    assert "<<<<<<<<< left\n" in (tmp_path / "A").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "crdtspace", "merge-driver", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "%O" in done.stdout


# -- a real git merge -----------------------------------------------------------------------


def _repo_with_driver(tmp_path: Path, files: dict[str, str]) -> Path:
    root = make_repo(tmp_path / "repo", files)
    driver = f"{shlex.quote(sys.executable)} -m crdtspace merge-driver %O %A %B %P"
    git(root, "config", "merge.crdtspace.driver", driver)
    git(root, "config", "merge.crdtspace.name", "crdtspace")
    commit_files(root, {".gitattributes": "*.py merge=crdtspace\n"}, "attributes")
    return root


def test_a_real_git_merge_uses_the_driver(tmp_path: Path) -> None:
    case = next(c for c in WORKING if c.name == "python-move-edit")
    root = _repo_with_driver(tmp_path, {"src/app.py": case.base})
    git(root, "checkout", "-q", "-b", "feature")
    commit_files(root, {"src/app.py": case.right}, "right")
    git(root, "checkout", "-q", "main")
    commit_files(root, {"src/app.py": case.left}, "left")
    assert git_merge_file(case.base, case.left, case.right)[1] > 0  # git alone conflicts
    git(root, "merge", "-q", "--no-edit", "feature")
    assert (root / "src" / "app.py").read_text() == case.expected
    assert git(root, "status", "--porcelain") == ""


def test_a_real_git_merge_with_a_conflict_stops(tmp_path: Path) -> None:
    case = next(c for c in WORKING if c.name == "python-conflict-same-line")
    root = _repo_with_driver(tmp_path, {"app.py": case.base})
    git(root, "checkout", "-q", "-b", "feature")
    commit_files(root, {"app.py": case.right}, "right")
    git(root, "checkout", "-q", "main")
    commit_files(root, {"app.py": case.left}, "left")
    with pytest.raises(GitFailed):
        git(root, "merge", "-q", "--no-edit", "feature")
    merged = (root / "app.py").read_text()
    assert merged.count("<<<<<<< ") == 1
    assert "    value = 10\n" in merged
    assert "    value = 11\n" in merged
    assert git(root, "diff", "--name-only", "--diff-filter=U").split() == ["app.py"]


def test_driver_command_runs(tmp_path: Path) -> None:
    """The command `hooks install` registers runs as git would run it, through a shell."""
    left, right = BASE + "\n\ndef c():\n    return 3\n", BASE + "\n\ndef d():\n    return 4\n"
    for name, text in (("O", BASE), ("A", left), ("B", right)):
        (tmp_path / name).write_text(text)
    command = driver_command().replace("%O", "O").replace("%A", "A").replace("%B", "B")
    command = command.replace("%P", "'m.py'").replace("%L", "7")
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "def d():" in (tmp_path / "A").read_text()


def _big_merge(functions: int, timeout: float) -> tuple[float, object]:
    """Merge two one-line edits of a file of `functions` functions: (seconds, outcome)."""
    import time

    from crdtspace.git import mergedriver

    base = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(functions))
    left = base.replace("return x + 1\n", "return x + 100\n", 1)
    right = base.replace("return x + 7\n", "return x + 700\n", 1)
    began = time.monotonic()
    outcome = mergedriver.merge_files(base, left, right, "big.py", timeout=timeout)
    return time.monotonic() - began, outcome


def test_a_file_over_the_structured_limit_is_merged_by_git_at_once() -> None:
    # about 5.5 MB, as in the report (a minute to merge before)
    seconds, outcome = _big_merge(150_000, timeout=10)
    assert isinstance(outcome, MergeOutcome)
    assert seconds < 10
    assert outcome.method == "fallback"
    assert "over" in outcome.fallback_reason
    assert outcome.clean
    assert "return x + 100\n" in outcome.text
    assert "return x + 700\n" in outcome.text


def test_the_timeout_holds_even_inside_a_long_native_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crdtspace.git import mergedriver

    monkeypatch.setattr(mergedriver, "STRUCTURED_LIMIT", 1 << 30)
    # ~1 MB: parsing and re-keying it takes far longer than 0.3 s
    seconds, outcome = _big_merge(30_000, timeout=0.3)
    assert isinstance(outcome, MergeOutcome)
    assert seconds < 3
    assert outcome.method == "fallback"
    assert "longer than 0.3 s" in outcome.fallback_reason
    assert "return x + 100\n" in outcome.text


def test_git_s_entry_point_uses_the_driver_s_marker_size() -> None:
    """`cli.gitdriver` keeps its own copy (it must not import the model): the two agree."""
    from crdtspace.cli import gitdriver
    from crdtspace.git import mergedriver

    assert gitdriver.MARKER_SIZE == mergedriver.MARKER_SIZE


def test_the_timeout_holds_when_its_signal_fires_inside_a_gc_callback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A timer signal that fires while the garbage collector runs a callback (as when a test
    suite's hypothesis times its collections) does not raise there, where Python would swallow
    it; it fires again until the merge is over."""
    import gc
    import time

    from crdtspace.git import mergedriver

    monkeypatch.setattr(mergedriver, "STRUCTURED_LIMIT", 1 << 30)
    monkeypatch.setattr(mergedriver, "FORK_ABOVE", 1 << 30)  # the signal alone bounds it
    slept: list[bool] = []

    def slow_once(phase: str, info: dict[str, int]) -> None:
        if not slept:  # the first collection outlasts the timeout: the signal lands here
            slept.append(True)
            time.sleep(0.5)

    gc.callbacks.append(slow_once)
    try:
        seconds, outcome = _big_merge(30_000, timeout=0.3)
    finally:
        gc.callbacks.remove(slow_once)
    assert slept
    assert isinstance(outcome, MergeOutcome)
    assert outcome.method == "fallback"
    assert "longer than 0.3 s" in outcome.fallback_reason
    assert seconds < 3


def test_the_timeout_never_raises_inside_a_gc_callback() -> None:
    """An exception raised in a gc callback is swallowed: the timer waits until it is out."""
    import gc
    import sys

    from crdtspace.git.mergedriver import _in_finalizer

    seen: list[bool] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        seen.append(_in_finalizer(sys._getframe()))

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)
    assert seen
    assert all(seen)
    assert not _in_finalizer(sys._getframe())


# (per language: an import block, a function `a` with parameters, a function `b`, and where new
# code goes; the left side re-signs, renames or deletes `a`, edits `b`, drops an import; the
# right side adds a function that calls and uses names)
_LANGUAGES: dict[str, dict[str, Any]] = {
    "m.go": {
        "imports": ['"fmt"', '"strings"'],
        "module": "package p\n\nimport (\n{imports})\n\nfunc {name}({params}) int {{\n"
        "\treturn 1\n}}\n\nfunc b() int {{\n\t{body}\n}}\n{extra}",
        "import_line": "\t{}\n",
        "params": ["", "x int", "x, y int", "x ...int"],
        "bodies": ["return 2", "return a()", 'fmt.Println("b")\n\treturn 2'],
        "uses": ["a()", "a(1)", "a(1, 2)", "b()", 'strings.Repeat("x", 2)', 'fmt.Sprint("y")'],
        "new": "\nfunc c() {{\n{lines}}}\n",
        "line": "\t_ = {}\n",
    },
    "m.rs": {
        "imports": ["std::collections::HashMap", "std::fmt::Debug"],
        "module": "{imports}\nfn {name}({params}) -> i32 {{\n    1\n}}\n\nfn b() -> i32 {{\n"
        "    {body}\n}}\n{extra}",
        "import_line": "use {};\n",
        "params": ["", "x: i32", "x: i32, y: i32"],
        "bodies": ["2", "a()", "let m: HashMap<i32, i32> = HashMap::new();\n    2"],
        "uses": ["a()", "a(1)", "a(1, 2)", "b()", "HashMap::<i32, i32>::new()", "&1 as &dyn Debug"],
        "new": "\nfn c() {{\n{lines}}}\n",
        "line": "    let _ = {};\n",
    },
    "C.java": {
        "imports": ["java.util.List", "java.util.Map"],
        "module": "{imports}\nclass C {{\n    int {name}({params}) {{ return 1; }}\n\n"
        "    int b() {{ {body} }}\n{extra}}}\n",
        "import_line": "import {};\n",
        "params": ["", "int x", "int x, int y"],
        "bodies": ["return 2;", "return a();", "List<String> l = null; return 2;"],
        "uses": ["a()", "a(1)", "a(1, 2)", "b()", "(Map<String, String>) null"],
        "new": "\n    void c() {{\n{lines}    }}\n",
        "line": "        Object o = {};\n",
    },
    "m.ts": {
        "imports": ["m", "n"],
        "module": 'import {{ {imports} }} from "./lib";\n\nexport function {name}({params}): '
        "number {{\n  return 1;\n}}\n\nexport function b(): number {{\n  {body}\n}}\n{extra}",
        "import_line": "{}",
        "params": ["", "x: number", "x: number, y: number"],
        "bodies": ["return 2;", "return a();", "return m();"],
        "uses": ["a()", "a(1)", "a(1, 2)", "b()", "m()", "n()"],
        "new": "\nexport function c(): void {{\n{lines}}}\n",
        "line": "  console.log({});\n",
    },
}


def _module(lang: dict[str, Any], imports: list[str], name: str, params: str, body: str) -> str:
    if lang["import_line"] == "{}":
        block = ", ".join(imports)
    else:
        block = "".join(lang["import_line"].format(i) for i in imports)
    text: str = lang["module"].format(
        imports=block, name=name, params=params, body=body, extra="{extra}"
    )
    return text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), path=st.sampled_from(sorted(_LANGUAGES)))
def test_the_cheap_check_never_misses_what_the_node_model_finds_in_each_language(
    data: st.DataObject, path: str
) -> None:
    """In Go, Rust, Java and TypeScript as in Python: whatever semantic conflict the node model
    reports between a side that re-signs, renames or deletes a function, edits another or drops
    an import, and a side that adds code using names, the cheap check says may hide."""
    lang = _LANGUAGES[path]
    params = data.draw(st.sampled_from(lang["params"]), "base parameters")
    base = _module(lang, lang["imports"], "a", params, lang["bodies"][0])
    left = _module(
        lang,
        data.draw(st.sampled_from([lang["imports"], lang["imports"][:1]]), "left imports"),
        data.draw(st.sampled_from(["a", "a2"]), "left name"),
        data.draw(st.sampled_from(lang["params"]), "left parameters"),
        data.draw(st.sampled_from(lang["bodies"]), "left body"),
    )
    uses = data.draw(st.lists(st.sampled_from(lang["uses"]), max_size=3), "right uses")
    lines = "".join(lang["line"].format(use) for use in uses)
    base_text = base.replace("{extra}", "")
    left_text = left.replace("{extra}", "")
    right_text = base.replace("{extra}", lang["new"].format(lines=lines) if uses else "")
    merged = mergedriver._Structured.run(base_text, left_text, right_text, path, 1e12)
    found = [c for c in analysis_of(merged.workspace).conflicts if c.kind in SEMANTIC_KINDS]
    profile = profile_for(path)
    assert profile is not None
    if found:
        assert may_hide_conflict(base_text, left_text, right_text, profile), found
        assert may_hide_conflict(base_text, right_text, left_text, profile), found
