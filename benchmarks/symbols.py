"""Symbol extraction speed: `file_symbols` on typing.py (3,500 lines) and on the stdlib.

Reports the best of `--repeat` runs on typing.py (fresh text each time, so the cache does not
answer), and the total over every `.py` of the installed standard library.
"""

from __future__ import annotations

import sysconfig
import time
import typing
from pathlib import Path

from _common import parser, progress, report

from crdtspace.conflicts.symbols import file_symbols


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    text = Path(typing.__file__).read_text(encoding="utf-8")
    file_symbols("warmup.py", "x = 1\n")
    best = float("inf")
    for i in range(args.repeat):
        began = time.perf_counter()
        file_symbols("typing.py", text + f"\n# run {i}\n")
        best = min(best, time.perf_counter() - began)
    progress("the standard library ...")
    root = Path(sysconfig.get_paths()["stdlib"])
    files = [p for p in sorted(root.rglob("*.py")) if "site-packages" not in p.parts]
    began = time.perf_counter()
    references = 0
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found = file_symbols(path.name, source)
        references += len(found.references) if found else 0
    total = time.perf_counter() - began
    report(
        [
            {"case": "typing.py", "lines": text.count("\n"), "best_ms": best * 1000},
            {
                "case": "stdlib",
                "files": len(files),
                "references": references,
                "total_s": total,
                "ms_per_file": total / len(files) * 1000,
            },
        ],
        as_json=args.json,
        title="Symbol extraction",
    )


if __name__ == "__main__":
    main()
