"""`crdtspace demo`: two replicas edit the example repository concurrently, then merge."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.syntax import Syntax
from rich.table import Table

from crdtspace.cli.common import JsonOption, app, handled, out, print_json
from crdtspace.demo import STORE, run_demo


@app.command()
def demo(
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Run in this (new or empty) folder and keep the result."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Init a workspace on examples/sample-repo; alice and bob edit at once; merge; report."""
    with handled(), tempfile.TemporaryDirectory(prefix="crdtspace-demo-") as scratch:
        workdir = keep.absolute() if keep is not None else Path(scratch)
        if keep is not None and workdir.exists() and any(workdir.iterdir()):
            raise typer.BadParameter(f"{workdir} is not empty", param_hint="--keep")
        workdir.mkdir(parents=True, exist_ok=True)
        say = (lambda _: None) if as_json else (lambda text: out.print(f"• {text}"))
        report = run_demo(workdir, say=say)
    ok = (
        report.converged
        and report.identical_imports
        and report.reopened_equal
        and report.resolved
        and report.refused_early
        and report.commit is not None
    )
    if as_json:
        print_json(
            {
                "base": report.base,
                "import_bytes": report.import_bytes,
                "identical_imports": report.identical_imports,
                "converged": report.converged,
                "renamed_key_kept": report.renamed_key_kept,
                "reopened_equal": report.reopened_equal,
                "conflicts": [
                    {
                        "kind": c.kind,
                        "category": c.category,
                        "places": [str(p) for p in c.places],
                        "agents": list(c.agents),
                        "message": c.message,
                    }
                    for c in report.conflicts
                ],
                "resolved": report.resolved,
                "refused_early": report.refused_early,
                "commit": report.commit,
                "gate": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in report.gate],
                "git_log": report.git_log,
                "steps": report.steps,
                "outline": [
                    {
                        "key": e.key,
                        "kind": e.kind,
                        "name": e.qualname,
                        "lines": [e.start_line, e.end_line],
                        "last_editor": e.last_editor,
                    }
                    for e in report.outline
                ],
                "attribution": [
                    {"node": a.ref, "ops": a.ops, "agents": a.agents} for a in report.attribution
                ],
                "diff": report.diff,
            }
        )
    else:
        out.rule("what the conflict layer said after the merge")
        found = Table(box=None, pad_edge=False)
        for column in ("kind", "place", "agents", "explanation"):
            found.add_column(column, overflow="fold")
        for finding in report.conflicts:
            found.add_row(
                f"{finding.kind} ({finding.category})",
                "\n".join(str(p) for p in finding.places),
                ", ".join(finding.agents),
                finding.message,
            )
        out.print(found)
        out.rule(f"outline of {STORE} after the merge and alice's fix")
        table = Table(box=None, pad_edge=False)
        for column in ("key", "kind", "name", "lines", "last editor"):
            table.add_column(column)
        for entry in report.outline:
            table.add_row(
                entry.key,
                entry.kind,
                "  " * (entry.depth - 1) + entry.name,
                f"{entry.start_line}-{entry.end_line}",
                entry.last_editor,
            )
        out.print(table)
        out.rule("rendered diff against the base commit")
        out.print(Syntax(report.diff, "diff", theme="ansi_dark", background_color="default"))
        out.rule("per-node attribution")
        for item in report.attribution:
            out.print(f"{item.ref:28} {' + '.join(item.agents):14} {', '.join(item.ops)}")
        out.rule()
        out.print(
            "parse_line → parse_record kept its node key: "
            + ("yes" if report.renamed_key_kept else "NO")
        )
        out.rule("git log -1 (the commit the gate made)")
        out.print(report.git_log or "(no commit)", markup=False)
        if keep is not None:
            out.print(f"the repository and its workspace are in {workdir / 'sample-repo'}")
    if not ok:
        raise typer.Exit(1)
