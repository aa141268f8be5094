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


def load() -> Any:
    """The typer app with every command registered."""
    for name in COMMANDS:
        importlib.import_module(f"crdtspace.cli.{name}")
    return importlib.import_module("crdtspace.cli.common").app


def __getattr__(name: str) -> Any:  # (PEP 562: the commands load on first use)
    if name == "app":
        return load()
    if name in COMMANDS:
        return importlib.import_module(f"crdtspace.cli.{name}")
    raise AttributeError(f"module 'crdtspace.cli' has no attribute {name!r}")


__all__ = ["COMMANDS", "app", "load", "main"]  # (and each command module, by its name)


def main() -> None:
    """The `crdtspace` command: through the workspace service when one runs (fast: see
    `crdtspace.cli.remote`), else here; git's calls of the merge driver without typer."""
    if sys.argv[1:2] == ["merge-driver"]:
        from crdtspace.cli import gitdriver

        driven = gitdriver.main(sys.argv[2:])
        if driven is not None:
            sys.exit(driven)
    from crdtspace.cli import remote

    code = remote.run(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    load()(prog_name="crdtspace")
