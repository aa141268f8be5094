"""The CRDT state as git objects on ``refs/crdtspace/<workspace>``, pushed and pulled by git.

A state commit's tree holds two blobs:

- ``state.bin``: the workspace's whole document as one pycrdt update (``update_since(None)``),
  compacted: it does not depend on any earlier state commit;
- ``meta.json``: the format version, the base commit, the state vector, the agents and the time.

Its parents are the previous state commit(s) on the ref: a history of states, where a push that
met a remote state it had not seen makes a merge commit of both (the CRDT merge never fails).
Because each commit holds the full state, old ones are never needed to read the newest one and
could be pruned; nothing prunes them yet (git's pack deltas keep the history small, and the
history tells who synced when). Keep it simple: one ref per workspace, one blob per state.

Objects are written with ``git hash-object -w``, ``git mktree`` and ``git commit-tree``, and the
ref is moved with ``git update-ref`` giving the old value (a compare-and-swap): the index, the
working tree and the branches are never touched.

A state that arrives from a remote is checked before it reaches the workspace: it must decode,
be complete, be a crdtspace document and share history with the local one. It is applied into
a scratch copy first, so a bad remote state never damages the local workspace
(:class:`~crdtspace.errors.SyncError`); a failing git command is a
:class:`~crdtspace.errors.GitStateError`. The replicas whose edits a merged state brought are
noted in the workspace (`Replica.note_exchanged`, kept locally, not in the document): the
commit gate takes them as covered by the exchange instead of waiting for them to report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
from pycrdt import Doc
from pycrdt import get_update as diff_update

from crdtspace.errors import GitStateError, PathError, SyncError
from crdtspace.git import gitio
from crdtspace.model.document import Document
from crdtspace.model.logentry import decode_state
from crdtspace.model.replica import Replica

__all__ = [
    "FORMAT",
    "PullReport",
    "PushReport",
    "SaveReport",
    "load",
    "merge_into",
    "pull",
    "push",
    "remote_ref",
    "save",
    "state_ref",
]

FORMAT = 1
"""Version of the state commit's layout (``state.bin`` + ``meta.json``)."""
STATE_BLOB = "state.bin"
META_BLOB = "meta.json"
PUSH_ATTEMPTS = 5
"""Pushes tried before giving up when the remote ref keeps moving under us."""

# commit-tree needs an identity; a state commit is made by crdtspace, whatever user.name says
# (which a fresh clone may not even have).
_IDENTITY = {
    "GIT_AUTHOR_NAME": "crdtspace",
    "GIT_AUTHOR_EMAIL": "crdtspace@localhost",
    "GIT_COMMITTER_NAME": "crdtspace",
    "GIT_COMMITTER_EMAIL": "crdtspace@localhost",
}
# Variables that would redirect our git commands to another repository or index.
_GIT_ENVIRONMENT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")
_WORKSPACE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_REF_PART = re.compile(r"[^A-Za-z0-9._-]+")
_REJECTED = ("non-fast-forward", "fetch first", "stale info", "already exists")


@dataclass(frozen=True)
class SaveReport:
    """What `save` did."""

    ref: str
    commit: str
    """the state commit the ref now points to"""
    previous: str | None
    """where the ref pointed before (None: it did not exist)"""
    changed: bool
    """False when the saved state already held everything: the ref did not move"""
    bytes: int
    """size of the state blob"""
    agents: list[str]


@dataclass(frozen=True)
class PushReport:
    """What `push` exchanged with a remote."""

    remote: str
    ref: str
    commit: str
    """the state commit the remote's ref points to now"""
    pushed: bool
    """whether the remote's ref moved (False: it already had everything)"""
    sent_bytes: int
    """size of the state blob pushed (0 when nothing was pushed)"""
    merged: bool
    """whether the remote held a state we had not seen, merged in before pushing"""
    received_bytes: int
    """size of the remote states fetched and merged"""
    new_from_remote: bool
    """whether a merged remote state brought edits the workspace lacked"""
    attempts: int
    agents: list[str]


@dataclass(frozen=True)
class PullReport:
    """What `pull` brought in from a remote."""

    remote: str
    ref: str
    commit: str
    """the remote's state commit that was applied"""
    received_bytes: int
    new: bool
    """whether the remote's state held edits the workspace lacked"""
    agents: list[str]
    """the agents named in the remote's state"""


# ---------------------------------------------------------------------------------------------
# Names


def state_ref(workspace: str = "default") -> str:
    """``refs/crdtspace/<workspace>``: where a workspace's state commits live."""
    _check_name(workspace)
    return f"refs/crdtspace/{workspace}"


def remote_ref(remote: str, workspace: str = "default") -> str:
    """``refs/crdtspace-remote/<remote>/<workspace>``: the last state fetched from a remote.

    A remote given as a URL or path is folded into one ref component (``/`` and other
    characters git refuses in a ref become ``_``).
    """
    _check_name(workspace)
    part = _REF_PART.sub("_", remote).replace("..", "_").strip("._") or "remote"
    if part.endswith(".lock"):  # git refuses ref components ending in .lock
        part += "_"
    return f"refs/crdtspace-remote/{part}/{workspace}"


def _check_name(workspace: str) -> None:
    # The same rule as the state directory's name (gitio.state_dir), which also makes a valid
    # ref component once a leading "." is excluded.
    if not _WORKSPACE_NAME.fullmatch(workspace) or workspace.startswith(".") or ".." in workspace:
        raise PathError(
            f"The workspace name {workspace!r} is not valid.",
            hint="use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'",
        )


# ---------------------------------------------------------------------------------------------
# Running git


class _Git:
    """One repository's git, run as a subprocess with no index or working tree involved."""

    def __init__(self, repo: git.Repo | Path | str) -> None:
        if isinstance(repo, git.Repo):
            self.git_dir = str(repo.git_dir)
        else:
            opened = gitio.open_repo(Path(repo))
            self.git_dir = str(opened.git_dir)
            opened.close()

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> _Done:
        env = {k: v for k, v in os.environ.items() if k not in _GIT_ENVIRONMENT}
        env.update(_IDENTITY)
        env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password
        command = ["git", f"--git-dir={self.git_dir}", *args]
        try:
            done = subprocess.run(command, input=input, capture_output=True, env=env, check=False)
        except OSError as error:
            raise GitStateError(f"git could not be run: {error}.") from None
        result = _Done(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))
        if check and done.returncode != 0:
            raise GitStateError(f"git {args[0]} failed: {result.message()}")
        return result

    def text(self, *args: str, input: bytes | None = None) -> str:
        return self.run(*args, input=input).stdout.decode("utf-8", "replace").strip()

    def resolve(self, ref: str) -> str | None:
        done = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        sha = done.stdout.decode().strip()
        return sha if done.code == 0 and sha else None

    def blob(self, commit: str, name: str) -> bytes:
        done = self.run("cat-file", "blob", f"{commit}:{name}", check=False)
        if done.code != 0:
            raise SyncError(
                f"The state commit {commit[:12]} has no {name}: it is not a crdtspace state.",
                hint="was the ref written by something else?",
            )
        return done.stdout


@dataclass(frozen=True)
class _Done:
    code: int
    stdout: bytes
    stderr: str

    def message(self) -> str:
        """git's reason in one sentence: its first line that says what went wrong (not the
        generic advice it adds after a remote failed, nor a progress line)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        telling = [line for line in lines if not any(g in line for g in _GIT_BOILERPLATE)]
        text = (telling or lines or [f"git exited with {self.code}"])[0]
        for prefix in ("fatal: ", "error: "):
            text = text.removeprefix(prefix)
        return text.rstrip(".") + "."


_GIT_BOILERPLATE = (
    "Could not read from remote repository",
    "Please make sure you have the correct access rights",
    "and the repository exists",
    "error: failed to push some refs",
)


# ---------------------------------------------------------------------------------------------
# Saving and loading


def save(
    workspace: Replica,
    repo: git.Repo | Path | str,
    *,
    name: str = "default",
    parents: tuple[str, ...] = (),
) -> SaveReport:
    """Write the workspace's state as a commit on ``refs/crdtspace/<name>``.

    Nothing is written when the ref's state already holds everything the workspace has and no
    extra ``parents`` are given (a merge of remote states always makes a commit). The ref moves
    with a compare-and-swap; if another process moved it meanwhile, GitStateError.
    """
    runner = _Git(repo)
    ref = state_ref(name)
    previous = runner.resolve(ref)
    update = workspace.update_since(None)
    agents = _agents(workspace.doc)
    blob = runner.text("hash-object", "-w", "--stdin", input=update)
    extra = tuple(p for p in parents if p != previous)
    if previous is not None and not extra and _holds(runner, previous, blob, update):
        return SaveReport(ref, previous, previous, False, len(update), agents)
    meta = _meta(workspace, agents)
    meta_blob = runner.text("hash-object", "-w", "--stdin", input=meta)
    tree = runner.text(
        "mktree",
        input=f"100644 blob {meta_blob}\t{META_BLOB}\n100644 blob {blob}\t{STATE_BLOB}\n".encode(),
    )
    lineage = ([previous] if previous else []) + list(extra)
    args = [arg for parent in lineage for arg in ("-p", parent)]
    message = f"crdtspace state of {name!r}: {len(update)} bytes, agents: {', '.join(agents)}\n"
    commit = runner.text("commit-tree", tree, *args, "-F", "-", input=message.encode())
    _move_ref(runner, ref, commit, previous)
    return SaveReport(ref, commit, previous, True, len(update), agents)


def _holds(runner: _Git, commit: str, blob: str, update: bytes) -> bool:
    """Whether the state saved in ``commit`` already holds everything in ``update``."""
    tree_blob = runner.run(
        "rev-parse", "--verify", "--quiet", f"{commit}:{STATE_BLOB}", check=False
    )
    if tree_blob.stdout.decode().strip() == blob:
        return True
    try:
        saved = runner.blob(commit, STATE_BLOB)
        return not _adds_anything(saved, update)
    except (SyncError, ValueError):  # an unreadable old state: write a new one over it
        return False


def _move_ref(runner: _Git, ref: str, new: str, old: str | None) -> None:
    expected = old if old is not None else "0" * 40
    done = runner.run("update-ref", "-m", "crdtspace save", ref, new, expected, check=False)
    if done.code != 0:
        raise GitStateError(
            f"The ref {ref} moved while the state was being saved: {done.message()}",
            hint="another crdtspace process saved at the same time; run the command again",
        )


def _meta(workspace: Replica, agents: list[str]) -> bytes:
    state = decode_state(workspace.state())
    meta = {
        "format": FORMAT,
        "base": str(workspace.document.meta.get("base", "")),
        "state_vector": {str(client): clock for client, clock in state},
        "agents": agents,
        "saved_by": workspace.agent,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()


def _agents(doc: Doc[Any]) -> list[str]:
    document = Document(doc)
    return sorted({str(value.get("name", "")) for value in document.agents.values()} - {""})


def load(repo: git.Repo | Path | str, ref: str) -> bytes:
    """The update saved in the state commit ``ref`` names, checked: SyncError if it is not one."""
    runner = _Git(repo)
    commit = runner.resolve(ref)
    if commit is None:
        raise GitStateError(f"There is no state commit at {ref}.", hint="save or push one first")
    return _load_commit(runner, commit)[0]


def _load_commit(runner: _Git, commit: str) -> tuple[bytes, Doc[Any]]:
    """The update a state commit holds, and a scratch Doc holding it alone (checked)."""
    meta_data = runner.blob(commit, META_BLOB)
    try:
        meta = json.loads(meta_data)
        version = meta["format"]
    except (ValueError, KeyError, TypeError):
        raise SyncError(f"The state commit {commit[:12]} has an unreadable {META_BLOB}.") from None
    if version != FORMAT:
        raise SyncError(
            f"The state commit {commit[:12]} has format {version!r}; "
            f"this crdtspace reads format {FORMAT}.",
            hint="upgrade crdtspace on this side",
        )
    update = runner.blob(commit, STATE_BLOB)
    return update, _checked_doc(update, f"The state in commit {commit[:12]}")


def _checked_doc(update: bytes, what: str) -> Doc[Any]:
    """A scratch Doc holding ``update`` alone, or SyncError saying why it is not a state."""
    doc: Doc[Any] = Doc()
    try:
        doc.apply_update(update)
        missing = diff_update(update, doc.get_state())[:1] != b"\x00"
        base = Document(doc).meta.get("base")
    except Exception as exc:  # pycrdt raises plain exceptions for malformed input
        raise SyncError(f"{what} is not a valid update: {exc}.") from None
    if missing:
        raise SyncError(f"{what} is incomplete: it depends on updates it does not hold.")
    if not base:
        raise SyncError(f"{what} is not a crdtspace workspace (it names no base commit).")
    return doc


def _adds_anything(base: bytes, update: bytes) -> bool:
    """Whether applying ``update`` to a doc holding ``base`` changes it (inserts or deletes)."""
    doc: Doc[Any] = Doc()
    doc.apply_update(base)
    before = bytes(doc.get_update())
    doc.apply_update(update)
    return bytes(doc.get_update()) != before


def merge_into(workspace: Replica, update: bytes) -> bool:
    """Apply a saved state to the workspace (idempotent); True when it brought anything new.

    The state is checked on its own and then applied to a scratch copy of the workspace first,
    so a malformed or unrelated state raises SyncError and leaves the workspace as it was.
    """
    return _merge(workspace, update, _checked_doc(update, "The state"))


def _merge(workspace: Replica, update: bytes, remote: Doc[Any]) -> bool:
    local = workspace.update_since(None)
    ours = {client for client, _ in decode_state(workspace.state())}
    theirs = {client for client, _ in decode_state(bytes(remote.get_state()))}
    if ours and not ours & theirs:
        raise SyncError(
            "The state shares no history with this workspace (it was imported from "
            f"{Document(remote).meta.get('base')!s:.12}, this one from "
            f"{workspace.document.meta.get('base')!s:.12}).",
            hint="init both workspaces from the same commit",
        )
    try:
        new = _adds_anything(local, update)
    except Exception as exc:  # pycrdt raises plain exceptions for malformed input
        raise SyncError(f"The state cannot be merged into this workspace: {exc}.") from None
    if new:
        before = dict(decode_state(workspace.state()))
        workspace.apply_update(update)
        workspace.note_exchanged(_arrived(remote, before))
    return new


def _arrived(remote: Doc[Any], before: dict[int, int]) -> dict[int, int]:
    """The replicas (they edited) whose edits a merged state brought, with their clocks in
    it: the commit gate takes them as covered by the exchange (`Replica.exchanged`)."""
    editors = Document(remote).replicas()
    return {
        client: clock
        for client, clock in decode_state(bytes(remote.get_state()))
        if client in editors and clock > before.get(client, 0)
    }


# ---------------------------------------------------------------------------------------------
# Remotes


def pull(
    workspace: Replica, repo: git.Repo | Path | str, remote: str, *, name: str = "default"
) -> PullReport:
    """Fetch the remote's state into ``refs/crdtspace-remote/<remote>/<name>`` and apply it."""
    runner = _Git(repo)
    commit = _fetch(runner, remote, name)
    if commit is None:
        raise GitStateError(
            f"The remote {remote!r} has no crdtspace state for the workspace {name!r}.",
            hint=f"push one first: `crdtspace push {remote}`",
        )
    update, doc = _load_commit(runner, commit)
    new = _merge(workspace, update, doc)
    agents = _agents(doc)
    return PullReport(remote, state_ref(name), commit, len(update), new, agents)


def push(
    workspace: Replica,
    repo: git.Repo | Path | str,
    remote: str,
    *,
    name: str = "default",
    attempts: int = PUSH_ATTEMPTS,
) -> PushReport:
    """Save, then push ``refs/crdtspace/<name>`` to the remote, merging its state when it moved.

    When the remote holds a state we have not seen (git refuses the push as not a fast-forward),
    its state is fetched, checked and merged into the workspace, a merge commit of both states
    is saved, and the push is tried again, up to ``attempts`` times.
    """
    runner = _Git(repo)
    ref = state_ref(name)
    merged = new = False
    received = 0
    report = save(workspace, runner.git_dir, name=name)
    for attempt in range(1, attempts + 1):
        outcome = _push_once(runner, remote, ref)
        if outcome != "rejected":
            pushed = outcome == "pushed"
            sent = report.bytes if pushed else 0
            return PushReport(
                remote,
                ref,
                report.commit,
                pushed,
                sent,
                merged,
                received,
                new,
                attempt,
                report.agents,
            )
        theirs = _fetch(runner, remote, name)
        if theirs is None:  # the ref vanished between the push and the fetch: try again
            continue
        update, doc = _load_commit(runner, theirs)
        received += len(update)
        new = _merge(workspace, update, doc) or new
        merged = True
        report = _save_over(workspace, runner, name, theirs, update)
    raise GitStateError(
        f"The remote {remote!r} kept moving: {attempts} pushes of {ref} were refused.",
        hint="others are pushing at the same time; run the command again",
    )


def _save_over(
    workspace: Replica, runner: _Git, name: str, theirs: str, update: bytes
) -> SaveReport:
    """After merging the remote state ``theirs``: a merge commit of both states, or, when the
    workspace holds nothing the remote lacks, the local ref moved to the remote's commit."""
    local = workspace.update_since(None)
    if _adds_anything(update, local):
        return save(workspace, runner.git_dir, name=name, parents=(theirs,))
    ref = state_ref(name)
    previous = runner.resolve(ref)
    if previous != theirs:
        _move_ref(runner, ref, theirs, previous)
    return SaveReport(
        ref, theirs, previous, previous != theirs, len(update), _agents(workspace.doc)
    )


def _push_once(runner: _Git, remote: str, ref: str) -> str:
    """``"pushed"``, ``"up to date"`` or ``"rejected"`` (not a fast-forward); else GitStateError."""
    done = runner.run("push", "--porcelain", remote, f"{ref}:{ref}", check=False)
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    status = next((line for line in lines if f"\t{ref}:{ref}\t" in line), "")
    if status.startswith("="):
        return "up to date"
    if done.code == 0 and status[:1] in ("*", " ", "+"):
        return "pushed"
    if status.startswith("!") and any(reason in status for reason in _REJECTED):
        return "rejected"
    if status.startswith("!"):  # the remote turned it down: a hook, a protected ref, ...
        reason = status.split("\t")[-1].strip() or done.message()
        said = re.search(r"\(([^()]+)\)$", reason)  # "[remote rejected] (hook declined)"
        reason = said.group(1) if said else reason
        raise GitStateError(
            f"The remote {_shown(remote)!r} refused the push of {ref}: {reason.rstrip('.')}.",
            hint="its hooks or settings do not take this ref; ask its owner, or push elsewhere",
        )
    raise _remote_error(runner, remote, "push to", done)


def _fetch(runner: _Git, remote: str, name: str) -> str | None:
    """Fetch the remote's state ref; its commit, or None when the remote has none."""
    ref = state_ref(name)
    listed = runner.run("ls-remote", "--refs", remote, ref, check=False)
    if listed.code != 0:
        raise _remote_error(runner, remote, "fetch from", listed)
    if not listed.stdout.strip():
        return None
    local = remote_ref(remote, name)
    done = runner.run("fetch", "--no-tags", "--quiet", remote, f"+{ref}:{local}", check=False)
    if done.code != 0:
        raise _remote_error(runner, remote, "fetch from", done)
    return runner.resolve(local)


def _remote_error(runner: _Git, remote: str, verb: str, done: _Done) -> GitStateError:
    """One sentence for a remote git could not use: no remote by that name, or one it could
    not reach (git's reason), each with what to do."""
    names = runner.run("remote", check=False).stdout.decode("utf-8", "replace").split()
    looks_like_address = any(c in remote for c in "/:\\") or remote.startswith(".")
    if remote not in names and not looks_like_address and not Path(remote).exists():
        known = (
            f"this repository's remotes: {', '.join(names)}"
            if names
            else ("this repository has no remotes")
        )
        return GitStateError(
            f"There is no git remote named {remote!r} ({known}).",
            hint="give a remote's name, a URL or a path; `git remote add NAME URL` adds one",
        )
    reason = done.message().replace(remote, _shown(remote))
    return GitStateError(
        f"Cannot {verb} the remote {_shown(remote)!r}: {reason}",
        hint="check its address (`git remote -v`), that a repository is there and that you "
        "may use it",
    )


def _shown(remote: str) -> str:
    """A remote as messages show it: a URL without the password or token it may carry."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1***@", remote)
