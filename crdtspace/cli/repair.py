"""`crdtspace repair`: rewrite a damaged update log to its valid records, keeping a copy."""

from __future__ import annotations

from typing import Annotated

import typer

from crdtspace.cli.common import JsonOption, app, context, handled, out, print_json
from crdtspace.model.storage import RepairReport, repair_log


@app.command()
def repair(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be kept and dropped.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Keep every valid record of a damaged update log: those before the damage and, by
    resynchronising, those after it. A copy of the whole original file is written beside it
    (updates.log.damaged-<timestamp>) before the log is replaced atomically."""
    options = context(ctx)
    with handled():
        from crdtspace.git import gitio

        directory = gitio.state_dir(gitio.open_repo(options.repo), options.workspace)
        report = repair_log(directory, dry_run=dry_run)
    if as_json:
        print_json(
            {
                "path": str(report.path),
                "size": report.original_size,
                "records": report.records,
                "kept": [list(span) for span in report.kept],
                "dropped": [
                    {"start": d.start, "end": d.end, "reason": d.reason} for d in report.dropped
                ],
                "copy": str(report.copy) if report.copy is not None else None,
                "dry_run": report.dry_run,
            }
        )
        return
    if not report.needed:
        out.print(f"{report.path} is sound ({report.records} records): nothing to repair.")
        return
    for line in _lines(report):
        out.print(line, markup=False)
    if report.dry_run:
        out.print("Dry run: nothing was changed.")
        return
    out.print(f"Kept a copy of the original ({report.original_size} bytes) in {report.copy}.")
    out.print(f"Rewrote {report.path} with {report.records} records.")


def _lines(report: RepairReport) -> list[str]:
    """The file in order: runs of kept records and dropped byte ranges."""
    events: list[tuple[int, str]] = [
        (d.start, f"  dropped bytes {d.start}..{d.end} ({d.size} bytes): {d.reason}")
        for d in report.dropped
    ]
    run: list[tuple[int, int, int]] = []  # (first index, start, end) of each run of records
    for index, (start, end) in enumerate(report.kept):
        if run and run[-1][2] == start:
            run[-1] = (run[-1][0], run[-1][1], end)
        else:
            run.append((index, start, end))
    bounds = [first for first, _, _ in run[1:]] + [len(report.kept)]
    for (first, start, end), stop in zip(run, bounds, strict=True):
        records = f"record {first}" if stop - first == 1 else f"records {first}-{stop - 1}"
        events.append((start, f"  kept {records} (bytes {start}..{end})"))
    verb = "would keep" if report.dry_run else "kept"
    head = (
        f"{report.path}: {report.original_size} bytes; {verb} {report.records} records, "
        f"{'would drop' if report.dry_run else 'dropped'} {len(report.dropped)} damaged "
        f"stretch{'es' if len(report.dropped) != 1 else ''}:"
    )
    return [head, *(line for _, line in sorted(events))]
