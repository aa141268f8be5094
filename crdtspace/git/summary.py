"""What a durable workspace says of itself without being opened: small files beside its log.

Opening a workspace costs a python start, the CRDT library and a replay of its log; the conflict
analysis costs compiling the symbols queries on top. The git hooks and ``crdtspace status`` need
a few facts only, so whoever already has the workspace open writes them down when it closes
(`refresh`, registered by `crdtspace.git.workspaces`), in ``.git/crdtspace/<workspace>/``:

``hook-state``
    One line for the hook shims (POSIX sh reads it)::

        crdtspace-hook-state 1 SIZE INODE BASE TREE OPEN WORKSPACE

    the tree git would write for the workspace's converged state (text files rendered, git-only
    files as the document keeps them), the base commit, and ``OPEN`` 1 when conflicts or broken
    code are open, else 0.
``status.json``
    What ``crdtspace status --json`` prints, but the agent asking.
``base-pending``
    Written by the post-commit shim (``hooks/``) after a ``git commit`` of exactly the
    workspace's state on top of its base, instead of starting python for ``sync-git``: there is
    no content to bring in, only the new base to record::

        crdtspace-base-pending 1 SIZE INODE OLD NEW TREE

    The next `open_workspace` records it (`take_pending`: ``Replica.committed(NEW)``, as the
    gate does after its own commit) when the log and the base are still those it was written
    against, and drops it otherwise (then the commit is brought in by ``sync-git`` as any commit
    made outside, as with ``CRDTSPACE_HOOKS=0``); `status_cache` honours it meanwhile.

Each file is valid only for the log it was made from, recognised by the log's fingerprint: its
size and inode (records are only ever appended; a compaction or a repair replaces the file, a
new inode). A file whose fingerprint is not the log's is ignored: the slow path runs, as before
this file existed. They are written atomically (a temporary file renamed), and nothing here ever
fails the operation that writes them.

Only what is cheap to import is imported at module level: ``crdtspace status`` reads
`status_cache` without the CRDT, git or parser libraries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crdtspace.conflicts.findings import Analysis
    from crdtspace.model.replica import Replica

__all__ = [
    "HOOK_STATE",
    "PENDING_BASE",
    "STATUS_CACHE",
    "Fingerprint",
    "HookState",
    "Pending",
    "fingerprint",
    "read_hook_state",
    "read_pending",
    "refresh",
    "status_cache",
    "status_dict",
    "take_pending",
    "tree_id",
    "workspace_tree",
    "write_summary",
]

HOOK_STATE = "hook-state"
STATUS_CACHE = "status.json"
PENDING_BASE = "base-pending"
LOG_NAME = "updates.log"  # (crdtspace.model.storage.LOG_NAME, not imported: it pulls pycrdt in)
STATE_MAGIC = "crdtspace-hook-state"
PENDING_MAGIC = "crdtspace-base-pending"
FORMAT = 1
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_WORKSPACE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Fingerprint:
    """What tells one state of the update log from another: its size and inode."""

    size: int
    inode: int


@dataclass(frozen=True)
class HookState:
    """The parsed ``hook-state`` line."""

    fingerprint: Fingerprint
    base: str
    tree: str
    open: bool
    workspace: str


@dataclass(frozen=True)
class Pending:
    """The parsed ``base-pending`` line: commit `new` holds exactly the state of the log at
    `fingerprint` (tree `tree`), committed on top of `old`, the workspace's base then."""

    fingerprint: Fingerprint
    old: str
    new: str
    tree: str


# -- reading (light) -------------------------------------------------------------------------


def fingerprint(directory: Path) -> Fingerprint | None:
    """The log's fingerprint now; None when there is no log."""
    try:
        info = os.stat(directory / LOG_NAME)
    except OSError:
        return None
    return Fingerprint(info.st_size, info.st_ino)


def _fields(path: Path, magic: str, count: int) -> list[str] | None:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, ValueError):
        return None
    fields = text.split()
    if len(fields) != count or fields[0] != magic or fields[1] != str(FORMAT):
        return None
    return fields


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def read_hook_state(directory: Path) -> HookState | None:
    """The ``hook-state`` file, or None when it is missing or not one."""
    fields = _fields(directory / HOOK_STATE, STATE_MAGIC, 8)
    if fields is None:
        return None
    _, _, size, inode, base, tree, is_open, workspace = fields
    size_n, inode_n = _number(size), _number(inode)
    if size_n is None or inode_n is None or is_open not in ("0", "1"):
        return None
    if not (_OID.fullmatch(base) and _OID.fullmatch(tree) and _WORKSPACE.fullmatch(workspace)):
        return None
    return HookState(Fingerprint(size_n, inode_n), base, tree, is_open == "1", workspace)


def read_pending(directory: Path) -> Pending | None:
    """The ``base-pending`` file, or None when it is missing or not one."""
    fields = _fields(directory / PENDING_BASE, PENDING_MAGIC, 7)
    if fields is None:
        return None
    _, _, size, inode, old, new, tree = fields
    size_n, inode_n = _number(size), _number(inode)
    if size_n is None or inode_n is None:
        return None
    if not all(_OID.fullmatch(oid) for oid in (old, new, tree)):
        return None
    return Pending(Fingerprint(size_n, inode_n), old, new, tree)


def status_cache(directory: Path, workspace: str) -> dict[str, Any] | None:
    """What ``crdtspace status --json`` would print for the workspace in `directory` (but
    ``agent``, the one asking), when a summary of the log as it is now says it; else None (the
    workspace must be opened). A pending base (see the module docstring) is shown recorded, as
    opening the workspace would record it; claims that expired since are left out."""
    now = fingerprint(directory)
    if now is None:
        return None
    try:
        cached = json.loads((directory / STATUS_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or cached.get("format") != FORMAT:
        return None
    if cached.get("log") != [now.size, now.inode] or cached.get("workspace") != workspace:
        return None
    info = cached.get("status")
    if not isinstance(info, dict):
        return None
    if (directory / PENDING_BASE).exists():
        pending = read_pending(directory)
        state = read_hook_state(directory)
        if not _pending_holds(pending, state, now) or pending is None:
            return None  # (opening the workspace sorts it out)
        if info.get("base") != pending.old or info.get("conflicts"):
            return None
        info["base"] = pending.new
        info["changed"] = {}  # (everything is in the commit now, as `committed` records)
    moment = time.time()
    claims = info.get("claims")
    if isinstance(claims, list):
        info["claims"] = [
            c for c in claims if isinstance(c, dict) and float(c.get("until") or 0) > moment
        ]
    return info


def _pending_holds(
    pending: Pending | None, state: HookState | None, now: Fingerprint | None
) -> bool:
    """Whether a pending base is still to be recorded: the log is the one the post-commit shim
    checked, and the hook state it checked against still describes it."""
    return (
        pending is not None
        and state is not None
        and now is not None
        and pending.fingerprint == now == state.fingerprint
        and pending.old == state.base
        and pending.tree == state.tree
        and not state.open
    )


# -- git trees without git -------------------------------------------------------------------


def tree_id(entries: Mapping[str, tuple[str, str]]) -> str:
    """The id git gives the tree holding `entries` (path -> (mode, hex object id)), computed
    the way git hashes tree objects, without writing anything (sha1 repositories)."""
    root: dict[str, Any] = {}
    for path, (mode, oid) in entries.items():
        *folders, name = path.split("/")
        here = root
        for folder in folders:
            below = here.setdefault(folder, {})
            if not isinstance(below, dict):
                raise ValueError(f"{path!r} is below the file {folder!r}")
            here = below
        if name in here:
            raise ValueError(f"{path!r} is both a file and a folder")
        here[name] = (mode, oid)
    return _hash_tree(root)


def _hash_tree(folder: dict[str, Any]) -> str:
    items: list[tuple[bytes, bytes]] = []
    for name, value in folder.items():
        raw = name.encode("utf-8", "surrogateescape")
        if isinstance(value, dict):
            items.append((raw + b"/", b"40000 " + raw + b"\0" + bytes.fromhex(_hash_tree(value))))
        else:
            mode, oid = value
            items.append((raw, mode.lstrip("0").encode() + b" " + raw + b"\0" + bytes.fromhex(oid)))
    body = b"".join(entry for _, entry in sorted(items))  # (git's order: folders as "name/")
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


# -- writing (at close, by whoever had the workspace open) -----------------------------------


def workspace_tree(ws: Replica) -> str:
    """The id of the tree the gate would commit for the workspace's state now."""
    from crdtspace.git import gate, gitio

    if ws.root is None:
        raise ValueError("no repository")
    repo = gitio.open_repo(ws.root)
    try:
        base = repo.commit(str(ws.document.meta.get("base", "")))
        snap = gate.snapshot(ws, repo, base)
    finally:
        repo.close()
    entries = {
        path: (mode, sha if sha is not None else gitio.blob_sha(snap.changed[path].encode()))
        for path, (mode, sha) in snap.entries.items()
    }
    return tree_id(entries)


def status_dict(ws: Replica, analysis: Analysis) -> dict[str, Any]:
    """What ``crdtspace status --json`` prints of the workspace itself (the service adds who
    is connected and their claims)."""
    import dataclasses

    from crdtspace.model import claims as board

    info = dataclasses.asdict(ws.status())
    info["changed"] = ws.changed_files()
    info["conflicts"] = [
        {"id": c.id, "kind": c.kind, "places": [str(p) for p in c.places],
         "agents": list(c.agents), "message": c.message}
        for c in analysis.conflicts
    ]  # fmt: skip
    info["claims"] = [
        {"agent": c.agent, "path": c.path, "node": c.node, "name": c.name,
         "until": c.expires, "note": c.note}
        for c in board.in_document(ws)
    ]  # fmt: skip
    return info


def write_summary(ws: Replica, directory: Path, workspace: str, *, torn: int | None) -> bool:
    """Write ``status.json`` and ``hook-state`` for the workspace's state now (its log must be
    held: nobody writes meanwhile). `torn`: the log's size when it was opened with a torn tail
    (`status` warns about it each time until a write cuts it off: no status cache then).
    Returns whether they were written."""
    from crdtspace.conflicts.analysis import analysis_of

    ws.flush()
    now = fingerprint(directory)
    base = str(ws.document.meta.get("base", ""))
    if now is None or not _OID.fullmatch(base):
        return False
    analysis = analysis_of(ws)
    is_open = bool(analysis.conflicts or analysis.broken)
    if now.size != torn:
        cache = {
            "format": FORMAT,
            "workspace": workspace,
            "log": [now.size, now.inode],
            "status": status_dict(ws, analysis),
        }
        _write_atomic(directory / STATUS_CACHE, json.dumps(cache, ensure_ascii=False))
    try:
        tree = workspace_tree(ws)
    except (ValueError, KeyError):
        return False  # (a tree git could not take: the gate says why; the hooks go slow)
    line = f"{STATE_MAGIC} {FORMAT} {now.size} {now.inode} {base} {tree} {int(is_open)} "
    _write_atomic(directory / HOOK_STATE, line + workspace + "\n")
    return True


def refresh(ws: Replica, directory: Path, workspace: str, *, torn: int | None = None) -> None:
    """At close: bring the summary up to date when it is not, and it is wanted, never failing.

    Wanted when the conflict analysis of this state is at hand anyway (``status``, the gate,
    the pre-commit hook ran it) or when crdtspace's git hooks are installed (their fast paths
    need it; then a change to the workspace pays for the analysis once, at its close)."""
    try:
        now = fingerprint(directory)
        state = read_hook_state(directory)
        current = state is not None and state.fingerprint == now and state.workspace == workspace
        if now is None or (current and _cached(directory)):
            return
        if not (_analysed(ws) or _hooks_installed(ws.root)):
            return
        write_summary(ws, directory, workspace, torn=torn)
    except Exception:  # (a summary is an optimisation: the slow paths stay right without it)
        with contextlib.suppress(OSError):
            (directory / HOOK_STATE).unlink(missing_ok=True)


def _cached(directory: Path) -> bool:
    try:
        cached = json.loads((directory / STATUS_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    now = fingerprint(directory)
    return (
        isinstance(cached, dict) and now is not None and cached.get("log") == [now.size, now.inode]
    )


def _analysed(ws: Replica) -> bool:
    analysis = sys.modules.get("crdtspace.conflicts.analysis")
    return analysis is not None and bool(analysis.has_analyzer(ws))


def _hooks_installed(root: Path | None) -> bool:
    from crdtspace.git import hooks

    if root is None:
        return False
    try:
        return hooks.is_shim(hooks.hooks_dir(root) / "pre-commit")
    except Exception:
        return False


def _write_atomic(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


# -- the pending base (at open) --------------------------------------------------------------


def take_pending(directory: Path, base: str, root: Path) -> str | None:
    """At open, before anything writes to the log: the commit to record as the new base when a
    ``base-pending`` file holds (see the module docstring), else None. The file is removed
    either way (when it does not hold, ``sync-git`` brings the commit in)."""
    path = directory / PENDING_BASE
    if not path.exists():
        return None
    pending = read_pending(directory)
    holds = (
        _pending_holds(pending, read_hook_state(directory), fingerprint(directory))
        and pending is not None
        and pending.old == base
        and _commits_hold(root, pending)
    )
    if not holds:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return pending.new if pending is not None else None


def drop_pending(directory: Path) -> None:
    """Remove the ``base-pending`` file (recorded)."""
    with contextlib.suppress(OSError):
        (directory / PENDING_BASE).unlink()


def _commits_hold(root: Path, pending: Pending) -> bool:
    """Whether `pending.new` descends from `pending.old` along first parents through commits
    that all hold `pending.tree`: there is nothing to bring in (what came after it on the
    branch, if anything, `sync-git` brings in from there)."""
    import subprocess

    done = subprocess.run(
        ["git", "-C", str(root), "log", "--first-parent", "--format=%H %T %P",
         f"{pending.old}..{pending.new}"],
        capture_output=True, stdin=subprocess.DEVNULL, text=True, check=False,
    )  # fmt: skip
    lines = [line.split() for line in done.stdout.splitlines()]
    if done.returncode != 0 or not lines or lines[0][:1] != [pending.new]:
        return False
    chain = [pending.old] + [line[0] for line in reversed(lines)]
    return all(
        line[1:] == [pending.tree, parent]
        for line, parent in zip(reversed(lines), chain, strict=False)
    )
