"""Shared by the benchmark scripts: argument parsing, the results table and JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", action="store_true", help="print one JSON object per case")
    return p


def report(cases: Sequence[dict[str, Any]], *, as_json: bool, title: str) -> None:
    """Print the cases as a table (keys are columns), or one JSON object per line."""
    if as_json:
        for case in cases:
            print(json.dumps(case, sort_keys=False))
        return
    print(title)
    columns: list[str] = []
    for case in cases:
        columns.extend(k for k in case if k not in columns)
    cells = [[_cell(case.get(c, "")) for c in columns] for case in cases]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def progress(text: str) -> None:
    """Progress on stderr, so --json output stays clean."""
    print(text, file=sys.stderr, flush=True)
