"""The command line: thin commands over the library, one module per command."""

from __future__ import annotations

from crdtspace.cli import (
    commit,
    conflicts,
    connect,
    demo,
    hooks,
    init,
    log,
    mcp,
    merge,
    merge_driver,
    outline,
    render,
    repair,
    resolve,
    serve,
    show,
    state,
    status,
    sync_git,
    watch,
    write,
)
from crdtspace.cli.common import app

__all__ = [
    "app",
    "commit",
    "conflicts",
    "connect",
    "demo",
    "hooks",
    "init",
    "log",
    "main",
    "mcp",
    "merge",
    "merge_driver",
    "outline",
    "render",
    "repair",
    "resolve",
    "serve",
    "show",
    "state",
    "status",
    "sync_git",
    "watch",
    "write",
]


def main() -> None:
    app()
