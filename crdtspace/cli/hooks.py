"""`crdtspace hooks install|uninstall|status`, and `crdtspace hook NAME`, which the shims run."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from crdtspace.cli.common import JsonOption, app, context, err, handled, out, print_json

if TYPE_CHECKING:
    from crdtspace.git import hooks as library

hooks_app = typer.Typer(
    name="hooks",
    help="Install, remove or inspect crdtspace's git hooks and merge driver.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(hooks_app, name="hooks")


@hooks_app.command()
def install(ctx: typer.Context) -> None:
    """Install the hooks (chaining yours), the merge driver and the .gitattributes lines.

    Running it again refreshes them."""
    from crdtspace.git import hooks as library

    with handled():
        report = library.install(context(ctx).repo, python=sys.executable)
    out.print(f"hooks in {report.hooks_dir}: {', '.join(report.installed) or 'none'}")
    for name in report.chained:
        out.print(f"  {name}: your hook still runs first ({name}{library.CHAINED_SUFFIX})")
    for name, reason in report.skipped:
        err.print(f"  {name} not installed: {reason}", markup=False)
    out.print(f"merge driver  {report.driver.get('merge.crdtspace.driver', '')}", markup=False)
    if report.native is not None and report.native.path is not None:
        out.print(f"native client {report.native.path} (in use)", markup=False)
    elif report.native is not None:
        out.print(f"native client not in use: {report.native.reason}", markup=False)
    changed = "updated" if report.gitattributes_changed else "unchanged"
    out.print(f"attributes    {report.gitattributes} ({changed})", markup=False)
    for note in report.notes:
        err.print(f"note: {note}", markup=False)
    if report.skipped:
        raise typer.Exit(1)


@hooks_app.command()
def uninstall(ctx: typer.Context) -> None:
    """Remove the hooks (putting yours back), the merge driver and the .gitattributes lines.

    Running it again does nothing."""
    from crdtspace.git import hooks as library

    with handled():
        report = library.uninstall(context(ctx).repo)
    out.print(f"hooks in {report.hooks_dir}: removed {', '.join(report.removed) or 'none'}")
    if report.restored:
        out.print(f"  restored your {', '.join(report.restored)}")
    for name, reason in report.skipped:
        err.print(f"  {name}: {reason}", markup=False)
    out.print(f"merge driver  {'removed' if report.driver_removed else 'not configured'}")
    out.print(f"attributes    {'removed' if report.gitattributes_changed else 'none'}")


@hooks_app.command("status")
def hooks_status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Which hooks are installed, what they chain, the python they run, the merge driver.

    Exits with 1 when something is missing."""
    from crdtspace.git import hooks as library

    with handled():
        info = library.status(context(ctx).repo)
    if as_json:
        value = dataclasses.asdict(info)
        value["hooks_dir"] = str(info.hooks_dir)
        value["installed"] = info.installed
        print_json(value)
    else:
        out.print(f"hooks in {info.hooks_dir}", markup=False)
        for hook in info.hooks:
            out.print(f"  {hook.name:<14} {_describe(hook)}", markup=False)
        driver = info.driver.get("merge.crdtspace.driver", "not configured")
        out.print(f"merge driver  {driver}", markup=False)
        out.print(f"attributes    {'present' if info.gitattributes else 'missing'}")
        if info.disabled:
            out.print("CRDTSPACE_HOOKS=0: the hooks are switched off in this environment")
    if not info.installed or not info.driver or not info.gitattributes:
        raise typer.Exit(1)


def _describe(hook: library.HookState) -> str:
    from crdtspace.git import hooks as library

    text = hook.state
    if hook.state == "installed":
        text += f", runs {hook.python}" + ("" if hook.python_exists else " (missing!)")
    if hook.chained:
        text += f", chains {hook.name}{library.CHAINED_SUFFIX}"
    return text


@app.command(
    "hook",
    hidden=True,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def hook(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The git hook being run, e.g. pre-commit.")],
    args: Annotated[list[str] | None, typer.Argument(help="The hook's arguments.")] = None,
) -> None:
    """Run one git hook's crdtspace part (the installed shims call this).

    Exit codes: 0 go ahead, 10 open conflicts, 11 staged content differs from the workspace,
    12 the workspace is behind HEAD. Anything unexpected lets git go ahead, with a warning."""
    from crdtspace.git import hookrun

    options = context(ctx)
    try:
        result = hookrun.run_hook(
            name, options.repo, [*(args or []), *ctx.args], workspace=options.named
        )
    except Exception as exc:  # a hook must never block git because crdtspace is broken
        err.print(f"crdtspace: {name} failed ({exc!r}); git proceeds without it", markup=False)
        raise typer.Exit(hookrun.ALLOW) from None
    if result.message:
        err.print(result.message, markup=False)
    raise typer.Exit(result.exit_code)
