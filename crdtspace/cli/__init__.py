"""The command line: thin commands over the library, one module per command."""

from __future__ import annotations

from crdtspace.cli import demo, init, log, outline, render, show, status, write
from crdtspace.cli.common import app

__all__ = ["app", "demo", "init", "log", "main", "outline", "render", "show", "status", "write"]


def main() -> None:
    app()
