"""What every command shares: the app, options, error handling, output helpers."""

from __future__ import annotations

import contextvars
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO
from urllib.parse import quote

import typer
from rich.console import Console

from crdtspace.errors import CrdtspaceError, CrdtspaceWarning

if TYPE_CHECKING:  # (imported where used: `--help` and the service's client start without them)
    from crdtspace.workspace import Workspace

app = typer.Typer(
    name="crdtspace",
    help="A git-native CRDT workspace for concurrent coding agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain (click's) help: rich's imports markdown and pygments, a third of a `--help`.
    rich_markup_mode=None,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

AGENT_ENV = "CRDTSPACE_AGENT"
LOCK_WAIT_ENV = "CRDTSPACE_LOCK_WAIT"
LOCK_WAIT = 30.0
"""Seconds a command queues by default for a workspace another command holds."""
"""The environment variable naming the agent when --agent is not given (like GIT_AUTHOR_NAME)."""

AgentOption = Annotated[
    str | None,
    typer.Option(
        "--agent",
        help=f"Who is reading or editing (default: ${AGENT_ENV}, else git's user.name).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
CheckOption = Annotated[
    str | None,
    typer.Option("--check", help="Check command (default: [tool.crdtspace] check)."),
]
NoCheckOption = Annotated[
    bool, typer.Option("--no-check", help="Skip the project's check command.")
]


@dataclass
class Context:
    """Options given before the command: which repository and which workspace."""

    repo: Path
    named: str | None = None
    """The workspace `--workspace` named, if it did."""

    @functools.cached_property
    def workspace(self) -> str:
        """The workspace named, else the repository's (git config crdtspace.workspace, else
        "default")."""
        from crdtspace.git import gitio

        return self.named or gitio.configured_workspace(self.repo)


@app.callback()
def _options(
    ctx: typer.Context,
    repo: Annotated[
        Path,
        typer.Option("-C", "--repo", help="Run as if started in this directory (like git -C)."),
    ] = Path("."),
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Name of the workspace in this repository "
            "[default: git config crdtspace.workspace, else 'default'].",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = Context(repo=repo.absolute(), named=workspace)
    # Every command's warnings (a torn log tail, a workspace that predates versions, ...) as
    # one line each on stderr, for the command's lifetime (the filters come back after it).
    # crdtspace's own are messages to the user: shown whatever the filters say.
    ctx.with_resource(warnings.catch_warnings())
    warnings.filterwarnings("default", category=CrdtspaceWarning)
    warnings.showwarning = show_warning


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """`warnings.showwarning` for the command line: `warning: <message>`, one line on stderr
    (no file, line number or category: those are for Python programmers)."""
    text = " ".join(str(message).split()) or category.__name__
    err.print(f"warning: {text}", markup=False)


def context(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    if isinstance(obj, Context):
        return obj
    return Context(repo=Path.cwd())


@contextmanager
def handled(secrets: Iterable[str | None] = ()) -> Iterator[None]:
    """Turn crdtspace's errors into one clear line on stderr and the error's exit code.

    `secrets` (a token given on the command line) never appear in that line, however the
    error came to quote them (a URL with `?token=`, a library's message)."""
    try:
        yield
    except CrdtspaceError as exc:
        line = f"error: {exc.message}"
        if exc.hint:
            line += f" (hint: {exc.hint})"
        err.print(scrub(line, secrets), markup=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        raise typer.Exit(130) from None


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret (as given, and as quoted in a URL) replaced by `***`."""
    for secret in secrets:
        if secret:
            for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
                text = text.replace(form, "***")
    return text


def agent_name(agent: str | None = None) -> str | None:
    """Who the command acts as: `--agent`, else $CRDTSPACE_AGENT, else None (the library's
    default, git's user.name). Every command that names an agent asks this."""
    if agent is not None and agent.strip():
        return agent
    served = SERVED_AGENT.get()
    if served is not None:
        return served.strip() or None
    return os.environ.get(AGENT_ENV, "").strip() or None


SERVED: contextvars.ContextVar[Workspace | None] = contextvars.ContextVar("served", default=None)
"""The workspace service's own replica, while the service runs a command for a client."""
SERVED_AGENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("agent", default=None)
"""The client's $CRDTSPACE_AGENT, while the service runs its command."""
SERVED_STATUS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "service", default=None
)
"""What the service says of itself (`Server.status`: clients, claims), while it runs a command."""


def open_workspace(
    ctx: typer.Context, agent: str | None = None
) -> AbstractContextManager[Workspace]:
    """The repository's durable workspace, acting as `agent_name(agent)` (to use in `with`):
    in the workspace service, its own replica, lent for the command."""
    served = SERVED.get()
    if served is not None:
        return _lent(served, agent_name(agent) or served.agent)
    from crdtspace.workspace import Workspace

    options = context(ctx)
    return Workspace.open(
        options.repo,
        agent=agent_name(agent),
        workspace=options.workspace,
        lock_wait=lock_wait(),
    )


def joined_or_opened(ctx: typer.Context, agent: str) -> AbstractContextManager[Workspace]:
    """For a long-running command (watch, run): the workspace service's workspace, joined as a
    networked replica named `agent` when a service runs (commands typed meanwhile go on);
    else the workspace opened here."""
    from crdtspace.live.service import find_service
    from crdtspace.workspace import Workspace

    options = context(ctx)
    service = find_service(options.repo, options.workspace)
    if service is None:
        return open_workspace(ctx)
    return Workspace.connect(
        service.url, service.token, agent=agent, root=options.repo, workspace=service.workspace
    )


@contextmanager
def _lent(workspace: Workspace, agent: str) -> Iterator[Workspace]:
    with workspace.kept_open(), workspace.acting_as(agent):
        yield workspace


def lock_wait() -> float:
    """Seconds a command queues for a workspace another process holds: $CRDTSPACE_LOCK_WAIT,
    else LOCK_WAIT."""
    raw = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        return max(0.0, float(raw)) if raw.strip() else LOCK_WAIT
    except ValueError:
        raise CrdtspaceError(
            f"${LOCK_WAIT_ENV} is {raw!r}, not a number of seconds.",
            hint=f"e.g. {LOCK_WAIT_ENV}=30",
        ) from None


def absolute(ctx: typer.Context, path: str) -> str:
    """A path given on the command line, relative to where the command runs (or -C)."""
    if os.path.isabs(path):
        return path
    return str(context(ctx).repo / path)


def split_ref(ctx: typer.Context, ref: str) -> str:
    """`PATH[::NODE]` with PATH made absolute (a bare node key is kept as is)."""
    path, sep, node = ref.partition("::")
    return absolute(ctx, path) + sep + node


def print_json(value: Any) -> None:
    """`value` as indented JSON on stdout (plain: a table of a thousand nodes costs rich a
    tenth of a second to lay out)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def plain_table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Left-aligned columns two spaces apart under a header line (what rich's borderless
    table prints, without its cost)."""
    lines = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


@contextmanager
def progress(description: str, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar (on stderr) fed by a `(done, total)` callback."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
