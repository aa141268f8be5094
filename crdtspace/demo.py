"""The demo: two replicas edit the example repository concurrently, then merge.

It is what the README's first quick-start command runs. Everything is real: a git repository
in a temporary folder, the durable workspace under its ``.git/crdtspace``, two in-memory
replicas that import the commit independently (byte-identical imports), concurrent edits to
different functions and to the same function, a rename that keeps the node's key, the merge,
and a reopen of the durable state.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crdtspace.conflicts.findings import Conflict
from crdtspace.git import gitio
from crdtspace.git.gate import Step
from crdtspace.model.importing import import_commit
from crdtspace.model.links import sync
from crdtspace.model.reads import OutlineEntry
from crdtspace.testing import git, make_repo
from crdtspace.workspace import Workspace

STORE = "inventory/store.py"
TESTS = "tests/test_store.py"


def sample_repo_dir() -> Path:
    """The example repository's files: inside the installed package, or in a source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / "sample-repo"
    if installed.is_dir():
        return installed
    return here.parent / "examples" / "sample-repo"


@dataclass(frozen=True)
class Attribution:
    """Who did what to one node, in log order."""

    ref: str
    ops: list[str]
    agents: list[str]


@dataclass
class DemoReport:
    repo: Path
    base: str
    import_bytes: int
    identical_imports: bool
    steps: list[str] = field(default_factory=list)
    outline: list[OutlineEntry] = field(default_factory=list)
    diff: str = ""
    attribution: list[Attribution] = field(default_factory=list)
    converged: bool = False
    renamed_key_kept: bool = False
    reopened_equal: bool = False
    merged: dict[str, str] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    resolved: bool = False
    gate: list[Step] = field(default_factory=list)
    commit: str | None = None
    git_log: str = ""
    refused_early: bool = False


def run_demo(workdir: Path, *, say: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Run the whole demo in `workdir` (a fresh folder); `say` narrates each step."""
    repo = workdir / "sample-repo"
    make_repo(
        repo,
        _read_tree(sample_repo_dir()),
        message="inventory: first version",
        user="Dana Lead",
        email="dana@example.com",
    )
    head = gitio.resolve_commit(gitio.open_repo(repo)).hexsha

    files = gitio.read_tree(gitio.resolve_commit(gitio.open_repo(repo)))
    first, second = import_commit(head, files), import_commit(head, files)
    report = DemoReport(repo, head, len(first), first == second)
    _step(report, say, f"git repository with {len(files)} files at {repo} (commit {head[:10]})")

    durable = Workspace.init(repo, agent="demo")
    alice = Workspace.from_commit(repo, agent="alice")
    bob = Workspace.from_commit(repo, agent="bob")
    carol = Workspace.from_commit(repo, agent="carol")
    base_text = {p: alice.render(p) for p in alice.paths()}
    base_outline = {e.qualname: e.key for e in alice.outline(STORE)}
    _step(
        report,
        say,
        f"alice and bob imported the commit independently: {len(first):,}-byte updates, "
        + ("byte-identical" if report.identical_imports else "DIFFERENT"),
    )

    with alice.transaction("validate quantities, add a discount, add restock()"):
        add = alice.read(f"{STORE}::Inventory.add")
        alice.replace(
            f"{STORE}::Inventory.add",
            add.replace(
                "        existing = ",
                "        if item.quantity <= 0:\n"
                '            raise ValueError("quantity must be positive")\n'
                "        existing = ",
            ),
        )
        alice.replace(
            f"{STORE}::Inventory.total_value",
            "\n    def total_value(self, discount: float = 0.0) -> float:\n"
            "        gross = sum(i.quantity * i.unit_price for i in self.items.values())\n"
            "        return gross * (1.0 - discount)\n",
        )
        alice.insert(
            STORE,
            "load",
            "\n\ndef restock(inventory: Inventory, line: str) -> None:\n"
            '    """Put more of an item in stock, from a `sku;name;quantity;unit price` line."""\n'
            "    item = parse_line(line)\n"
            "    inventory.items[item.sku].quantity += item.quantity\n",
        )
    _step(
        report,
        say,
        "alice: edited Inventory.add (top) and total_value, added restock() calling parse_line",
    )

    store: str = bob.render(STORE)
    store = store.replace("def parse_line(line: str)", "def parse_record(line: str)")
    store = store.replace("inventory.add(parse_line(line))", "inventory.add(parse_record(line))")
    store = store.replace(
        '"""One `sku;name;quantity;unit price` line."""',
        ('"""One `sku;name;quantity;unit price` record."""'),
    )
    store = store.replace(
        "            existing.quantity += item.quantity\n",
        "            existing.quantity += item.quantity\n"
        "            existing.unit_price = item.unit_price\n",
    )
    store = store.replace(
        "for i in inventory.items.values()]",
        "for i in sorted(inventory.items.values(), key=lambda i: i.sku)]",
    )
    bob.write(STORE, store, description="rename parse_line to parse_record, sort the report")
    _step(
        report,
        say,
        "bob: renamed parse_line to parse_record (whole-file write, re-keyed), "
        "edited Inventory.add (bottom) and format_report",
    )

    tests = carol.render(TESTS)
    carol.write(
        TESTS,
        tests.replace(
            "\n\nif __name__",
            "\n    def test_report_is_sorted_by_sku(self) -> None:\n"
            '        report = format_report(load("B2;bread;1;2.0\\nA1;apple;3;0.5\\n"))\n'
            '        self.assertTrue(report.startswith("A1"))\n'
            "\n\nif __name__",
        ),
        description="test that the report is sorted",
    )
    _step(report, say, "carol: added a test that the report is sorted by SKU")

    everyone = [durable, alice, bob, carol]
    _sync_all(everyone)
    report.merged = alice.render_all()
    report.converged = all(ws.render_all() == report.merged for ws in everyone)
    _step(
        report,
        say,
        "merged by exchanging state vectors: "
        + ("all four replicas render the same files" if report.converged else "REPLICAS DIFFER"),
    )

    report.conflicts = list(alice.analysis())
    kinds = ", ".join(f"{c.kind} ({c.category})" for c in report.conflicts) or "nothing"
    _step(report, say, f"the conflict layer reports: {kinds}")
    refused = durable.commit("too early", run_check=False)
    report.refused_early = refused.commit is None
    _step(
        report,
        say,
        "the commit gate refuses meanwhile: " + refused.steps[-1].detail.split(";")[0]
        if refused.commit is None
        else "the commit gate DID NOT REFUSE",
    )
    restock = alice.read(f"{STORE}::restock")
    alice.replace(f"{STORE}::restock", restock.replace("parse_line(", "parse_record("))
    _sync_all(everyone)
    report.merged = alice.render_all()
    report.resolved = not any(ws.conflicts() for ws in everyone)
    report.converged = report.converged and all(ws.render_all() == report.merged for ws in everyone)
    _step(
        report,
        say,
        "alice calls parse_record instead (an edit that has seen bob's rename): "
        + ("no conflicts left on any replica" if report.resolved else "CONFLICTS REMAIN"),
    )

    report.outline = alice.outline(STORE)
    merged_keys = {e.qualname: e.key for e in report.outline}
    report.renamed_key_kept = merged_keys.get("parse_record") == base_outline.get("parse_line")
    report.diff = "".join(
        "".join(
            difflib.unified_diff(
                base_text[path].splitlines(keepends=True),
                report.merged[path].splitlines(keepends=True),
                f"a/{path}",
                f"b/{path}",
            )
        )
        for path in sorted(report.merged)
        if report.merged[path] != base_text.get(path)
    )
    for entry in report.outline:
        log = alice.document.log(entry.key)
        if log:
            report.attribution.append(
                Attribution(
                    entry.qualname,
                    [e.op for e in log],
                    list(dict.fromkeys(e.agent for e in log)),
                )
            )

    gate = durable.commit("inventory: validation, discounts, restock, sorted report")
    report.gate = gate.steps
    report.commit = gate.commit
    for step in gate.steps:
        _step(report, say, f"gate {step.name}: {'ok' if step.ok else 'REFUSED'} - {step.detail}")
    if gate.commit is not None:
        report.git_log = git(repo, "log", "-1", "--format=%h %an: %s%n%n%b").strip()
    durable.close()
    reopened = Workspace.open(repo, agent="demo")
    report.reopened_equal = reopened.render_all() == report.merged
    reopened.close()
    _step(
        report,
        say,
        "durable workspace reopened from .git/crdtspace: "
        + ("same files" if report.reopened_equal else "DIFFERENT FILES"),
    )
    for ws in (alice, bob, carol):
        ws.close()
    return report


def _sync_all(replicas: list[Workspace]) -> None:
    """Everyone meets everyone (twice round, so the reports for the gate travel too)."""
    for _ in range(2):
        for a, b in itertools.pairwise(replicas):
            sync(a, b)
        sync(replicas[-1], replicas[0])


def _step(report: DemoReport, say: Callable[[str], None], text: str) -> None:
    report.steps.append(text)
    say(text)


def _read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }
