"""The public API: a small, sorted, importable `__all__`, and type information shipped."""

from __future__ import annotations

from pathlib import Path

import crdtspace


def test_all_is_sorted_and_importable() -> None:
    names = list(crdtspace.__all__)
    assert names == sorted(names)
    for name in names:
        assert getattr(crdtspace, name) is not None, name


def test_conflict_types_are_public() -> None:
    for name in ("Analysis", "Conflict", "Place", "Side", "Workspace", "sync"):
        assert name in crdtspace.__all__


def test_the_package_ships_type_information() -> None:
    assert (Path(crdtspace.__file__).parent / "py.typed").is_file()


def test_versions_are_public() -> None:
    for name in ("Reading", "Outline", "VersionError"):
        assert name in crdtspace.__all__
    assert issubclass(crdtspace.VersionError, crdtspace.DocumentError)


def test_the_facade_is_a_replica() -> None:
    """`Workspace` is the model's `Replica` with the conveniences of the layers above it."""
    assert issubclass(crdtspace.Workspace, crdtspace.Replica)
    for name in ("analysis", "conflicts", "resolve_conflict", "commit", "sync_git", "connect"):
        assert hasattr(crdtspace.Workspace, name)
        assert not hasattr(crdtspace.Replica, name), name


def test_importing_the_package_loads_no_library_until_a_name_is_used() -> None:
    """A command through the workspace service imports only what it needs: the public names
    load on first use."""
    import subprocess
    import sys

    probe = (
        "import sys, crdtspace, crdtspace.cli.remote\n"
        "heavy = [m for m in ('pycrdt', 'git', 'tree_sitter', 'typer', 'rich', 'websockets')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
        "from crdtspace import Workspace, sync\n"
        "print(Workspace.__name__, sync.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["", "Workspace sync"]
