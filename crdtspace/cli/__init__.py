"""The command line: thin commands over the library, one module per command."""

from __future__ import annotations

from crdtspace.cli import (
    conflicts,
    demo,
    init,
    log,
    merge_driver,
    outline,
    render,
    resolve,
    show,
    status,
    write,
)
from crdtspace.cli.common import app

__all__ = [
    "app",
    "conflicts",
    "demo",
    "init",
    "log",
    "main",
    "merge_driver",
    "outline",
    "render",
    "resolve",
    "show",
    "status",
    "write",
]


def main() -> None:
    app()
