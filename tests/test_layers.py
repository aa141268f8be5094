"""The layers import one way: model <- conflicts <- git <- live <- the Workspace façade <- agents,
cli (see docs/architecture.md). Read from the source with `ast`, every import counted (lazy ones
and those only for type checking too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "crdtspace"

RANK = {
    "errors": 0,
    "model": 1,
    "conflicts": 2,
    "git": 3,
    "live": 4,
    "workspace": 5,
    "agents": 6,
    "cli": 7,
    "testing": 7,
    "example": 7,
    "__init__": 8,
    "__main__": 8,
}
"""Each module's layer, by its first name under `crdtspace`: a module may import its own layer
and those ranked below it (`errors`, the exception hierarchy, is below everything)."""


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer_of(module: str) -> str:
    """`crdtspace.model.replica` -> "model"; `crdtspace` (the package itself) -> "__init__"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported(path: Path, top: Path = PACKAGE.parent) -> list[tuple[int, str]]:
    """(line, module) of every crdtspace module `path` (under `top`) imports."""
    relative = path.relative_to(top).with_suffix("")
    here = ".".join(relative.parts)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "crdtspace":  # `from crdtspace import x`: x is a module or a public name
                out += [(node.lineno, f"crdtspace.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, base))
    return [(line, name) for line, name in out if name.split(".")[0] == "crdtspace"]


def test_every_module_has_a_layer() -> None:
    for path in modules():
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        assert layer_of(module) in RANK, f"{module}: add its layer to RANK"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name == "__init__.py" and module != "crdtspace":
        module += ".__init__"  # (a layer's own package: in the layer)
    own = layer_of(module)
    upward = [
        f"line {line}: {name} ({layer_of(name)})"
        for line, name in imported(path)
        if layer_of(name) in RANK and RANK[layer_of(name)] > RANK[own]
    ]
    assert not upward, f"{module} ({own}) imports from above: " + "; ".join(upward)


def test_the_rule_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The reader finds imports anywhere: in functions, under TYPE_CHECKING, relative ones."""
    probe = tmp_path / "crdtspace" / "model" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from crdtspace.git import gate\n"
        "def f():\n    from crdtspace.workspace import Workspace\n"
        "from crdtspace import live\n"
        "from ..conflicts import findings\n"
        "import os\n"
    )
    names = sorted(name for _, name in imported(probe, tmp_path))
    assert names == [
        "crdtspace.conflicts",
        "crdtspace.git",
        "crdtspace.live",
        "crdtspace.workspace",
    ]
    assert [layer_of(n) for n in names] == ["conflicts", "git", "live", "workspace"]
