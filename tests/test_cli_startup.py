"""The command line's start-up: help and a command's own module import nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crdtspace import cli

HEAVY = ("pycrdt", "git", "tree_sitter", "rich.markdown", "pygments", "anyio")
"""Modules no `--help` imports (the CRDT, gitpython, the parsers, rich's markdown)."""

PROBE = """
import contextlib, io, json, sys
sys.argv = ["crdtspace", *json.loads(sys.argv[1])]
from crdtspace.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main()
print(json.dumps(sorted(sys.modules)))
"""


def _imported(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(argv))],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "argv",
    [("--help",), (), ("status", "--help"), ("commit", "--help"), ("hooks", "--help")],
)
def test_help_imports_nothing_heavy(argv: tuple[str, ...]) -> None:
    modules = _imported(*argv)
    assert not [name for name in HEAVY if name in modules]
    if len(argv) < 2:  # (typer >= 0.2x coerces the options before a command through pydantic)
        assert "pydantic" not in modules


def test_a_command_loads_only_its_module() -> None:
    modules = _imported("status", "--help")
    loaded = {m.removeprefix("crdtspace.cli.") for m in modules if m.startswith("crdtspace.cli.")}
    assert "status" in loaded
    assert not loaded & {"serve", "watch", "run", "merge", "commit", "write"}


def test_every_command_is_found_by_its_name() -> None:
    """`cli.NAMES` names the module of every command not named after its module."""
    app = cli.load()
    for command in cli.registered(app):
        module = cli.NAMES.get(command, command)
        assert module in cli.COMMANDS, command
    assert set(cli.NAMES.values()) <= set(cli.COMMANDS)


def test_help_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crdtspace", "--help"], capture_output=True, text=True, check=True
    )
    for command in cli.registered(cli.load()) - {"hook"}:  # (hook is hidden: the shims run it)
        assert f"  {command} " in done.stdout or f"  {command}\n" in done.stdout, command
