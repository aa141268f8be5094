"""Import every `.py` file of the installed standard library into a document.

Reports seconds, peak memory (max RSS of this process), the size of the import update, and
the ratio to tree-sitter parsing the same files alone. The files are read into memory first
(the same way `read_tree` hands them over) so both timings exclude disk and git. `--repeat N`
alternates N parse and N import runs and keeps the best of each.
"""

from __future__ import annotations

import resource
import sys
import sysconfig
import time
from pathlib import Path

from _common import parser, progress, report

from crdtspace.git import gitio
from crdtspace.model.importing import TrackedFile, import_commit
from crdtspace.model.languages import profile_for


def stdlib_files() -> list[TrackedFile]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("site-packages/", "dist-packages/")):
            continue
        text, reason = gitio.classify(path.read_bytes())
        files.append(TrackedFile(relative, "100644", "0" * 40, text, reason))
    return files


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time parse and import this many times each, alternating, and keep the best "
        "(the machine is shared: the best run is the least disturbed)",
    )
    args = p.parse_args()
    progress("reading the standard library ...")
    files = stdlib_files()
    texts = [f.text for f in files if f.text is not None]
    size = sum(len(t.encode("utf-8")) for t in texts)
    profile = profile_for("x.py")
    assert profile is not None

    parse_s = import_s = float("inf")
    update = b""
    for _ in range(max(1, args.repeat)):
        progress(f"parsing {len(texts):,} files with tree-sitter alone ...")
        began = time.perf_counter()
        for text in texts:
            profile.parser().parse(text.encode("utf-8"))
        parse_s = min(parse_s, time.perf_counter() - began)

        progress(f"importing {len(files):,} files ...")
        update = b""  # the previous update is freed before the next import: peak stays one run
        began = time.perf_counter()
        update = import_commit("0" * 40, files)
        import_s = min(import_s, time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024

    report(
        [
            {
                "case": "stdlib",
                "files": len(files),
                "git_only": len(files) - len(texts),
                "megabytes": size / 1e6,
                "import_s": import_s,
                "parse_s": parse_s,
                "ratio": import_s / parse_s,
                "peak_mb": peak_mb,
                "update_mb": len(update) / 1e6,
            }
        ],
        as_json=args.json,
        title="import_stdlib: the installed standard library into one document",
    )


if __name__ == "__main__":
    main()
