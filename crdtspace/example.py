"""The example: `examples/sample-repo` as a fresh git repository with a workspace, and the plan
of `examples/run` (three scripted agents: a new function, a rename it collides with, a test).

It is what the README's first quick-start command runs (``crdtspace run --example``). The files
come from inside the installed package (``crdtspace/_data``), or from a source checkout.
"""

from __future__ import annotations

from pathlib import Path

from crdtspace.testing import make_repo
from crdtspace.workspace import Workspace

_HERE = Path(__file__).resolve().parent


def _data(installed: str, checkout: str) -> Path:
    inside = _HERE / "_data" / installed
    return inside if inside.exists() else _HERE.parent / "examples" / checkout


def sample_repo_dir() -> Path:
    """The example repository's files."""
    return _data("sample-repo", "sample-repo")


def example_plan() -> Path:
    """The example plan (`examples/run/plan.toml`)."""
    return _data("run", "run") / "plan.toml"


def make_example(folder: Path) -> Path:
    """A git repository made from the example's files in ``folder/sample-repo`` (one commit),
    with its durable workspace; its root."""
    source = sample_repo_dir()
    files = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in sorted(source.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(source).parts
    }
    repo = make_repo(
        folder / "sample-repo",
        files,
        message="inventory: first version",
        user="Dana Lead",
        email="dana@example.com",
    )
    Workspace.init(repo, agent="example").close()
    return repo
