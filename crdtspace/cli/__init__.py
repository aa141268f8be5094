"""The command line: thin commands over the library, one module per command."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crdtspace.cli.common import app

COMMANDS = (
    "claims",
    "commit",
    "conflicts",
    "connect",
    "hooks",
    "init",
    "log",
    "mcp",
    "merge",
    "merge_driver",
    "outline",
    "remove",
    "render",
    "repair",
    "replicas",
    "resolve",
    "run",
    "runs",
    "serve",
    "show",
    "state",
    "status",
    "sync_git",
    "watch",
    "write",
)
"""The modules of the commands: each registers itself on `app` when imported."""

NAMES = {
    "agents": "mcp",
    "claim": "claims",
    "hook": "hooks",
    "merge-driver": "merge_driver",
    "mv": "remove",
    "pull": "state",
    "push": "state",
    "release": "claims",
    "rm": "remove",
    "sync-git": "sync_git",
}
"""The commands whose module is not named after them (a test checks this against `load()`)."""


def load(command: str | None = None) -> Any:
    """The typer app with every command registered, or only `command` when it names one (a
    command, and its `--help`, import nothing the others need)."""
    module = NAMES.get(command or "", command)
    if module in COMMANDS:
        importlib.import_module(f"crdtspace.cli.{module}")
    app = importlib.import_module("crdtspace.cli.common").app
    if command not in registered(app):  # (help, or not a command: typer lists them all)
        for name in COMMANDS:
            importlib.import_module(f"crdtspace.cli.{name}")
    return app


def registered(app: Any) -> set[str]:
    """The names of the commands and command groups registered on the typer `app`."""
    names = {
        c.name or c.callback.__name__.lower().replace("_", "-") for c in app.registered_commands
    }
    names |= {g.name or g.typer_instance.info.name for g in app.registered_groups}
    return names


def __getattr__(name: str) -> Any:  # (PEP 562: the commands load on first use)
    if name == "app":
        return load()
    if name in COMMANDS:
        return importlib.import_module(f"crdtspace.cli.{name}")
    raise AttributeError(f"module 'crdtspace.cli' has no attribute {name!r}")


# (and each command module, by its name)
__all__ = ["COMMANDS", "NAMES", "app", "load", "main", "registered"]


def main() -> None:
    """The `crdtspace` command: through the workspace service when one runs (fast: see
    `crdtspace.cli.remote`), else from the workspace's summary when that answers it
    (`crdtspace.cli.quick`), else here; git's calls of the merge driver without typer."""
    if sys.argv[1:2] == ["merge-driver"]:
        from crdtspace.cli import gitdriver

        driven = gitdriver.main(sys.argv[2:])
        if driven is not None:
            sys.exit(driven)
    from crdtspace.cli import quick, remote

    code = remote.run(sys.argv[1:])
    if code is None:
        code = quick.run(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    load(remote.command_of(sys.argv[1:]))(prog_name="crdtspace")
