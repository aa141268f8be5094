"""`crdtspace sync-git`: bring commits made outside the workspace in, as their authors' edits."""

from __future__ import annotations

import typer

from crdtspace.cli.common import JsonOption, app, handled, open_workspace, out, print_json


@app.command("sync-git")
def sync_git(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Apply the branch's new commits (a person's commit, a pull, a checkout) to the workspace."""
    with handled(), open_workspace(ctx) as workspace:
        from crdtspace.git.gitsync import sync_git as run_sync

        report = run_sync(workspace)
    if as_json:
        print_json(
            {
                "branch": report.branch,
                "old_base": report.old_base,
                "new_base": report.new_base,
                "commits": report.commits,
                "files": report.files,
                "rewritten": report.rewritten,
            }
        )
        return
    if not report.changed:
        out.print(f"up to date with {report.branch} ({report.new_base[:10]})", markup=False)
        return
    how = " (history was rewritten: applied as one change)" if report.rewritten else ""
    out.print(
        f"applied {len(report.commits)} commit(s), {len(report.files)} file(s), "
        f"now at {report.new_base[:10]}{how}",
        markup=False,
    )
