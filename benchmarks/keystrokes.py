"""Keystroke throughput and document size: `Workspace.splice()` beside one pycrdt Text and Yjs.

Real editing traces, each replayed through `splice()` (one transaction per trace transaction)
and, in the same run, into a single pycrdt Text holding the same file (character offsets
converted to the UTF-8 byte offsets pycrdt Text expects) and into one Yjs ``Y.Text`` in Node
(``benchmarks/yjs_trace.mjs``, with the ``yjs`` package of ``tests/interop``: run
``tests/interop/install``; without node or that package the Yjs columns say why they are
empty). Sizes are the encoded documents (``get_update()``, ``Y.encodeStateAsUpdate``); a
workspace keeps deleted text so that every version can be restored (``skip_gc``), so the size
of one pycrdt Text that keeps it too is given as well (``text_kept_bytes``); ``stored_bytes`` is
what the workspace's log holds once compacted: the document without the deleted content no kept
version shows (`Replica.stored_update`, see ``crdtspace.model.collect``); ``committed_bytes``
the same after a commit of the result through the gate, which squashes the settled history
(every node's entries folded into one, see ``crdtspace.model.squash``): the log still says who
edited each node, and the commit takes ``commit_s``.

1. ``rustcode``: a Rust source file typed from empty in VS Code, with multi-cursor edits and
   refactorings (40,173 patches), replayed on ``src/lib.rs`` (the Rust grammar: units appear
   while typing). The rendered file must equal the trace's ``endContent``, and the outline
   must equal that of a fresh import of it.
2. ``sveltecomponent``: a Svelte component written in VS Code (19,749 patches), as plain text.
3. ``automerge-paper``: M. Kleppmann writing a LaTeX paper (259,778 patches, one per
   transaction), as plain text.
4. ``synthetic``: seeded single-character splices in bursts at random places of a real
   standard-library file of 3,000+ lines (typing.py), 20% of them deletions.

Traces from the editing-traces collection by Joseph Gentle,
https://github.com/josephg/editing-traces, licensed CC BY 4.0 (benchmarks/data/README.md):
``rustcode`` ships in ``benchmarks/data``, the others are read from ``--traces`` (default: the
``shared/traces`` folder beside the checkout), and skipped with a note when absent.

Persistence is off unless ``--persist`` (then every burst is appended and fsynced). A workspace
nobody listens to holds a run of typed text across transactions until something reads the
document (as Yjs in Node, nobody hears of the edits meanwhile); ``--listener`` subscribes a
listener, as a networked or linked replica has, so that every burst is written and encoded as
an update when its transaction ends: what an editor connected to peers pays.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import subprocess
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


TRACES = {"rustcode": "src/lib.rs", "sveltecomponent": "App.svelte", "automerge-paper": "paper.tex"}
"""The real traces and the path each is typed into (.svelte and .tex have no grammar here)."""
INTEROP = ROOT / "tests" / "interop" / "node_modules"


def traces_option(p: argparse.ArgumentParser) -> None:
    """The ``--traces`` option: the folder of the editing traces."""
    p.add_argument(
        "--traces",
        type=Path,
        default=ROOT.parent / "shared" / "traces",
        help="folder of the editing traces (default: shared/traces beside the checkout)",
    )


def trace_file(name: str, folder: Path) -> Path | None:
    for candidate in (ROOT / "benchmarks" / "data" / f"{name}.json.gz", folder / f"{name}.json.gz"):
        if candidate.exists():
            return candidate
    return None


def load_trace(file: Path) -> tuple[str, list[Burst], str]:
    with gzip.open(file) as handle:
        data = json.loads(handle.read())
    bursts = [[(int(p[0]), int(p[1]), str(p[2])) for p in t["patches"]] for t in data["txns"]]
    return str(data["startContent"]), bursts, str(data["endContent"])


def run_yjs(file: Path) -> dict[str, Any] | str:
    """The trace replayed into one Yjs Y.Text in Node; a string says why it was not."""
    node = shutil.which("node")
    if node is None:
        return "node not found"
    if not (INTEROP / "yjs").exists():
        return "yjs not installed (run tests/interop/install)"
    script = ROOT / "benchmarks" / "yjs_trace.mjs"
    done = subprocess.run(
        [node, str(script), str(file), str(INTEROP)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"node failed: {done.stderr.strip()[-200:]}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


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


def run_single_text(
    start: str, bursts: list[Burst], *, keep: bool = False
) -> tuple[float, str, int]:
    """One pycrdt Text, one transaction per burst, with the offset conversion it needs
    (`keep`: deleted text kept, as a workspace keeps it); returns the time, the text, the
    encoded document's size."""
    doc: Doc[Any] = Doc(skip_gc=keep)
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
    return elapsed, str(text), len(doc.get_update())


def run_nodes(
    workdir: Path,
    path: str,
    start: str,
    bursts: list[Burst],
    *,
    persist: bool,
    listener: bool = False,
) -> tuple[float, Workspace]:
    repo = make_repo(workdir / "repo", {path: start})
    ws = (
        Workspace.init(repo, agent="typist")
        if persist
        else Workspace.from_commit(repo, agent="typist")
    )
    updates: list[int] = []
    if listener:
        ws.subscribe(lambda update: updates.append(len(update)))
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
    name: str,
    path: str,
    start: str,
    bursts: list[Burst],
    end: str,
    persist: bool,
    trace: Path | None = None,
    listener: bool = False,
) -> dict[str, Any]:
    count = sum(len(b) for b in bursts)
    progress(f"{name}: {count:,} patches in {len(bursts):,} bursts through splice() ...")
    with tempfile.TemporaryDirectory() as scratch:
        node_s, ws = run_nodes(
            Path(scratch), path, start, bursts, persist=persist, listener=listener
        )
        size = len(ws.doc.get_update())
        stored = len(ws.stored_update())
        progress(f"{name}: a commit through the gate (it squashes the settled history) ...")
        began = time.perf_counter()
        report_ = ws.commit(f"{name}: the trace", run_check=False)
        commit_s = time.perf_counter() - began
        if not report_.ok:
            raise SystemExit(f"{name}: the commit was refused: {report_}")
        committed = len(ws.stored_update())
        rendered = ws.render(path)
        signature = outline_signature(ws, path)
        ws.close()
    progress(f"{name}: the same patches into one pycrdt Text ...")
    text_s, single, text_size = run_single_text(start, bursts)
    _, _, kept_size = run_single_text(start, bursts, keep=True)
    fresh = fresh_signature(path, end)
    kinds = [k for _, k, _ in signature]
    out: dict[str, Any] = {
        "trace": name,
        "patches": count,
        "bursts": len(bursts),
        "persistence": persist,
        "listener": listener,
        "node_patches_per_s": count / node_s,
        "single_text_patches_per_s": count / text_s,
        "ratio": text_s / node_s,
    }
    if trace is not None:
        progress(f"{name}: the same patches into one Yjs Y.Text in Node ...")
        yjs = run_yjs(trace)
        if isinstance(yjs, str):
            out["yjs"] = f"skipped: {yjs}"
        else:
            out["yjs_patches_per_s"] = yjs["patches"] / yjs["seconds"]
            out["vs_yjs"] = out["node_patches_per_s"] / out["yjs_patches_per_s"]
    out["doc_bytes"] = size
    out["stored_bytes"] = stored
    out["committed_bytes"] = committed
    out["commit_s"] = commit_s
    out["text_bytes"] = text_size
    out["text_kept_bytes"] = kept_size
    if trace is not None and "vs_yjs" in out and not isinstance(yjs, str):
        out["yjs_bytes"] = yjs["size"]
        out["size_vs_yjs"] = size / yjs["size"]
        out["stored_vs_yjs"] = stored / yjs["size"]
        out["committed_vs_yjs"] = committed / yjs["size"]
        out["yjs_equals_end"] = yjs["equals_end"]
    out |= {
        "render_equals_end": rendered == end and single == end,
        "outline_equals_fresh_import": signature == fresh,
        "units": len(signature),
        "functions": sum(k in {"function_item", "function_definition"} for k in kinds),
        "structs": sum(k == "struct_item" for k in kinds),
    }
    return out


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=200_000, help="synthetic splices (default 200k)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--persist", action="store_true", help="durable workspace, fsync per burst")
    p.add_argument("--listener", action="store_true", help="a listener hears of every transaction")
    p.add_argument("--only", choices=[*TRACES, "synthetic"], default=None)
    traces_option(p)
    args = p.parse_args()
    cases = []
    for name, path in TRACES.items():
        if args.only not in (None, name):
            continue
        file = trace_file(name, args.traces)
        if file is None:
            progress(f"{name}: no {name}.json.gz in benchmarks/data or {args.traces}: skipped")
            continue
        start, bursts, end = load_trace(file)
        cases.append(case(name, path, start, bursts, end, args.persist, file, args.listener))
    if args.only in (None, "synthetic"):
        source = Path(sysconfig.get_paths()["stdlib"]) / "typing.py"
        text = source.read_text(encoding="utf-8")
        bursts, end = synthetic(text, args.ops, args.seed)
        cases.append(
            case("synthetic", "typing.py", text, bursts, end, args.persist, listener=args.listener)
        )
    report(cases, as_json=args.json, title="keystrokes: splice() on nodes vs one pycrdt Text, Yjs")


if __name__ == "__main__":
    main()
