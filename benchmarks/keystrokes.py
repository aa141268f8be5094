"""Keystroke throughput: `Workspace.splice()` on node texts beside one pycrdt Text.

Two traces, each replayed through `splice()` (one transaction per editor burst: a trace
transaction, or a synthetic burst) and, in the same run, into a single pycrdt Text holding the
same file (character offsets converted to the UTF-8 byte offsets pycrdt Text expects):

1. ``rustcode``: a Rust source file typed from empty in VS Code, with multi-cursor edits and
   refactorings (40,173 patches), replayed on ``src/lib.rs``. The rendered file must equal the
   trace's ``endContent``, and the outline must equal that of a fresh import of it (so units
   appeared while typing). Trace from the editing-traces collection by Joseph Gentle,
   https://github.com/josephg/editing-traces, licensed CC BY 4.0 (benchmarks/data/README.md).
2. ``synthetic``: seeded single-character splices in bursts at random places of a real
   standard-library file of 3,000+ lines (typing.py), 20% of them deletions.

Persistence is off unless ``--persist`` (then every burst is appended and fsynced).
"""

from __future__ import annotations

import gzip
import json
import random
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import ROOT, parser, progress, report
from pycrdt import Doc, Text

from crdtspace.model.segment import segment_file
from crdtspace.model.textedit import byte_offset
from crdtspace.testing import make_repo
from crdtspace.workspace import Workspace

Patch = tuple[int, int, str]
Burst = list[Patch]


def rustcode() -> tuple[str, list[Burst], str]:
    with gzip.open(ROOT / "benchmarks" / "data" / "rustcode.json.gz") as handle:
        data = json.loads(handle.read())
    bursts = [[(int(p[0]), int(p[1]), str(p[2])) for p in t["patches"]] for t in data["txns"]]
    return str(data["startContent"]), bursts, str(data["endContent"])


def synthetic(text: str, ops: int, seed: int) -> tuple[list[Burst], str]:
    """Bursts of typing at random places: 80% single-character inserts, 20% backspaces."""
    rnd = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz_ ()=.,+-0123456789"
    bursts: list[Burst] = []
    current = text
    done = 0
    while done < ops:
        # a random line, at its end or inside it: where someone edits code
        line_start = rnd.randrange(len(current))
        line_start = current.rfind("\n", 0, line_start) + 1
        line_end = current.find("\n", line_start)
        line_end = len(current) if line_end < 0 else line_end
        cursor = rnd.randint(line_start, line_end)
        burst: Burst = []
        for _ in range(min(rnd.randint(1, 20), ops - done)):
            if rnd.random() < 0.2 and cursor > line_start:
                burst.append((cursor - 1, 1, ""))
                current = current[: cursor - 1] + current[cursor:]
                cursor -= 1
            else:
                ch = rnd.choice(alphabet)
                burst.append((cursor, 0, ch))
                current = current[:cursor] + ch + current[cursor:]
                cursor += 1
            done += 1
        bursts.append(burst)
    return bursts, current


def patches(bursts: list[Burst]) -> Iterator[Patch]:
    for burst in bursts:
        yield from burst


def run_single_text(start: str, bursts: list[Burst]) -> tuple[float, str]:
    """One pycrdt Text, one transaction per burst, with the offset conversion it needs."""
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    text += start
    mirror = start
    began = time.perf_counter()
    for burst in bursts:
        with doc.transaction():
            for pos, delete, insert in burst:
                at = byte_offset(mirror, pos)
                if delete:
                    end = byte_offset(mirror, pos + delete)
                    del text[at:end]
                if insert:
                    text.insert(at, insert)
                mirror = mirror[:pos] + insert + mirror[pos + delete :]
    elapsed = time.perf_counter() - began
    return elapsed, str(text)


def run_nodes(
    workdir: Path, path: str, start: str, bursts: list[Burst], *, persist: bool
) -> tuple[float, Workspace]:
    repo = make_repo(workdir / "repo", {path: start})
    ws = (
        Workspace.init(repo, agent="typist")
        if persist
        else Workspace.from_commit(repo, agent="typist")
    )
    began = time.perf_counter()
    for burst in bursts:
        with ws.transaction():
            for pos, delete, insert in burst:
                ws.splice(path, pos, delete, insert)
    ws.flush()
    elapsed = time.perf_counter() - began
    return elapsed, ws


def outline_signature(ws: Workspace, path: str) -> list[tuple[int, str, str]]:
    return [(e.depth, e.kind, e.qualname) for e in ws.outline(path) if e.depth > 0]


def fresh_signature(path: str, text: str) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []

    def walk(seg: Any, depth: int, prefix: str) -> None:
        for child in seg.children:
            qual = f"{prefix}.{child.name}" if prefix and child.name else (child.name or prefix)
            out.append((depth, child.kind, qual))
            walk(child, depth + 1, qual)

    walk(segment_file(path, text).root, 1, "")
    return out


def case(
    name: str, path: str, start: str, bursts: list[Burst], end: str, persist: bool
) -> dict[str, Any]:
    count = sum(len(b) for b in bursts)
    progress(f"{name}: {count:,} patches in {len(bursts):,} bursts through splice() ...")
    with tempfile.TemporaryDirectory() as scratch:
        node_s, ws = run_nodes(Path(scratch), path, start, bursts, persist=persist)
        rendered = ws.render(path)
        signature = outline_signature(ws, path)
        ws.close()
    progress(f"{name}: the same patches into one pycrdt Text ...")
    text_s, single = run_single_text(start, bursts)
    fresh = fresh_signature(path, end)
    kinds = [k for _, k, _ in signature]
    return {
        "trace": name,
        "patches": count,
        "bursts": len(bursts),
        "persistence": persist,
        "node_patches_per_s": count / node_s,
        "single_text_patches_per_s": count / text_s,
        "ratio": text_s / node_s,
        "render_equals_end": rendered == end and single == end,
        "outline_equals_fresh_import": signature == fresh,
        "units": len(signature),
        "functions": sum(k in {"function_item", "function_definition"} for k in kinds),
        "structs": sum(k == "struct_item" for k in kinds),
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=200_000, help="synthetic splices (default 200k)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--persist", action="store_true", help="durable workspace, fsync per burst")
    p.add_argument("--only", choices=["rustcode", "synthetic"], default=None)
    args = p.parse_args()
    cases = []
    if args.only in (None, "rustcode"):
        start, bursts, end = rustcode()
        cases.append(case("rustcode", "src/lib.rs", start, bursts, end, args.persist))
    if args.only in (None, "synthetic"):
        source = Path(sysconfig.get_paths()["stdlib"]) / "typing.py"
        text = source.read_text(encoding="utf-8")
        bursts, end = synthetic(text, args.ops, args.seed)
        cases.append(case("synthetic", "typing.py", text, bursts, end, args.persist))
    report(cases, as_json=args.json, title="keystrokes: splice() on nodes vs one pycrdt Text")


if __name__ == "__main__":
    main()
