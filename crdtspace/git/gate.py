"""The commit gate: the one place where a converged, conflict-free state becomes a git commit.

CRDTs give availability; the gate gives agreement. It checks, in order, and stops at the first
refusal (a refused commit changes nothing):

1. convergence: every replica known from the document has reported having seen every edit
   (`Replica.report()`, written when replicas sync), or is an earlier session of this
   durable workspace (its edits are all in the local log), or finished (closed cleanly: only
   its edits must be here), or came through a git state exchange, or was forgotten
   (`crdtspace.git.presence` says how each one is judged); connected peers are judged by the
   state vector they publish (`peer_states`); one not heard of for `silent_after` seconds is
   silent and no longer waited for (its edits that are not here are named);
   behind or silent ones are named, the gate waits up to `wait` seconds, then refuses, or with
   `allow_behind` commits without them;
2. no open conflicts and no broken code (`conflicts.analysis`), every file parses where its
   language parses (unless it did not parse in the base commit either);
3. the project's check command (`[tool.crdtspace] check` in the rendered pyproject.toml, or
   the `check` argument) run on the rendered tree in a temporary git worktree;
4. then it writes blobs, tree and commit with GitPython into the object store (through a
   temporary index), with the agents who edited since the last commit as ``Co-authored-by:``
   trailers and a ``Crdtspace-State:`` trailer, and moves the branch with a compare-and-swap
   on its old value;
5. the checked-out branch's index and working tree then follow, path by path, where they
   hold no uncommitted work (`crdtspace.git.worktree`): anyone's uncommitted work is never
   touched, and a `git status` after the commit is clean where it was clean before.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import git
from git.index.base import IndexFile
from git.index.typ import BaseIndexEntry
from gitdb.base import IStream  # type: ignore[import-untyped]  # gitdb ships no type hints

from crdtspace.conflicts.analysis import analysis_of
from crdtspace.errors import GitStateError, PathError
from crdtspace.git import gitio
from crdtspace.git.presence import SILENT_AFTER, Connected, Presence, replicas
from crdtspace.git.worktree import follow
from crdtspace.model import versions
from crdtspace.model.languages import profile_for

if TYPE_CHECKING:
    from crdtspace.model.replica import Replica

CHECK_TIMEOUT = 600.0
"""Seconds the project's check command may run before the gate refuses."""


@dataclass(frozen=True)
class Step:
    """One check of the gate: its name, whether it passed, and what it saw."""

    name: str
    ok: bool
    detail: str


@dataclass
class GateReport:
    """What the gate checked and did; `commit` is set when it committed."""

    steps: list[Step] = field(default_factory=list)
    commit: str | None = None
    branch: str = ""
    files_changed: list[str] = field(default_factory=list)
    coauthors: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)
    """Changed paths whose index or working tree was left alone (uncommitted work), and why."""

    @property
    def ok(self) -> bool:
        return self.commit is not None

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok


# -- 1. convergence --------------------------------------------------------------------------


def behind(
    ws: Replica,
    *,
    silent_after: float = SILENT_AFTER,
    connected: Iterable[Connected] | None = None,
) -> list[str]:
    """The replicas the gate waits for (`crdtspace.git.presence`), named as it names them:
    `agent (client id, behind|silent, last heard ...)`, a connected one `agent (connected,
    behind)`."""
    survey = replicas(ws, silent_after=silent_after, connected=connected)
    return [p.label for p in survey if p.blocking]


def peer_states(ws: Replica) -> dict[str, dict[int, int]]:
    """The state vectors connected peers publish (agent -> client -> clock), when the
    workspace is a networked replica (`crdtspace.live.netreplica`); else none."""
    provider = getattr(ws, "peer_states", None)
    return dict(provider()) if callable(provider) else {}


def check_convergence(
    ws: Replica,
    report: GateReport,
    *,
    wait: float,
    allow_behind: bool,
    silent_after: float = SILENT_AFTER,
    connected: Iterable[Connected] | None = None,
) -> bool:
    deadline = time.monotonic() + max(0.0, wait)
    peers = None if connected is None else list(connected)
    survey = replicas(ws, silent_after=silent_after, connected=peers)
    while any(p.blocking for p in survey) and time.monotonic() < deadline:
        time.sleep(0.2)
        survey = replicas(ws, silent_after=silent_after, connected=peers)
    lagging = [p for p in survey if p.blocking]
    notes = _convergence_notes(survey)
    if not lagging:
        known = len(ws.document.replicas())
        counts = _counts(survey)
        return report.add(
            "convergence", True, f"{known} replica(s) known, none behind{counts}{notes}"
        )
    names = ", ".join(p.label for p in lagging)
    if allow_behind:
        return report.add(
            "convergence", True, f"committing without the unseen edits of: {names}{notes}"
        )
    hint = "sync them, wait (--wait), or --allow-behind"
    if any(not p.connected for p in lagging):
        hint += (
            f"; one not heard of for {silent_after:g} s stops blocking (--silent-after), "
            "or drop it with `crdtspace replicas forget ID`"
        )
    return report.add("convergence", False, f"not converged: {names}; {hint}{notes}")


def _counts(survey: list[Presence]) -> str:
    """`` (2 live, 1 finished)``: the replicas besides this one, by state."""
    counts: dict[str, int] = {}
    for p in survey:
        if p.state != "this":
            counts[p.state] = counts.get(p.state, 0) + 1
    return f" ({', '.join(f'{n} {s}' for s, n in counts.items())})" if counts else ""


def _convergence_notes(survey: list[Presence]) -> str:
    """The replicas the gate stopped waiting for, and edits known to be missing."""
    notes = []
    gave_up = [p.label for p in survey if p.gave_up]
    if gave_up:
        notes.append("not waited for (silent): " + ", ".join(gave_up))
    unseen = [p.label for p in survey if p.unseen and not p.blocking and not p.gave_up]
    if unseen:
        notes.append("edits not here: " + ", ".join(unseen))
    return "".join(f"; {note}" for note in notes)


# -- 2. conflicts and syntax -----------------------------------------------------------------


def check_conflicts(ws: Replica, report: GateReport, paths: Sequence[str] = ()) -> bool:
    """No open conflicts or broken code, and nothing malformed (a peer's update that broke
    the document's schema) in `paths`, the files about to be committed from the document."""
    from crdtspace.conflicts.analysis import malformed

    analysis = analysis_of(ws)
    known = {c.id for c in analysis}
    shapes = [c for c in malformed(ws.document, paths) if c.id not in known]
    if analysis.conflicts or analysis.broken or shapes:
        items = [*analysis.conflicts, *analysis.broken, *shapes]
        listed = "; ".join(f"{c.id} {c.kind}: {c.message}" for c in items[:5])
        more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
        return report.add(
            "conflicts", False, f"{len(items)} open: {listed}{more}; see `crdtspace conflicts`"
        )
    return report.add("conflicts", True, "no conflicts, no broken code")


def check_tree(
    repo: git.Repo, snap: Snapshot, report: GateReport, *, also: Sequence[str] = ()
) -> bool:
    """The tree about to be written is one a checkout can take safely (`gitio.tree_problems`):
    links, submodules and modes as git made them in the base (and the commits `also` names: a
    merge's branches), no path below a file or into `.git`, every new blob present. Checked
    before the project's check writes the files into a worktree (a path through a link would
    land outside it)."""
    allowed = dict(snap.base_entries)
    for commit in also:
        for path, entry in gitio.tree_entries(repo, commit).items():
            allowed.setdefault(path, entry)

    def has_blob(sha: str) -> bool:
        try:
            return bool(repo.odb.has_object(bytes.fromhex(sha)))
        except ValueError:
            return False

    problems = gitio.tree_problems(snap.entries, allowed, has_blob)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return report.add("tree", False, "refused: " + "; ".join(problems[:3]) + more)
    return report.add("tree", True, f"{len(snap.entries)} entries, each one git can check out")


def check_syntax(base: git.Commit, files: dict[str, str], report: GateReport) -> bool:
    failing = []
    for path, text in sorted(files.items()):
        profile = profile_for(path)
        if profile is None or profile.parses(text):
            continue
        old = _base_text(base, path)
        if old is not None and not profile.parses(old):
            continue  # it did not parse in the base commit either: not this commit's doing
        failing.append(path)
    if failing:
        return report.add("syntax", False, "does not parse: " + ", ".join(failing))
    return report.add(
        "syntax", True, f"{len(files)} changed file(s) parse where their language does"
    )


def _base_text(base: git.Commit, path: str) -> str | None:
    try:
        blob = base.tree / path
    except KeyError:
        return None
    try:
        return bytes(blob.data_stream.read()).decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- 3. the project's check command ----------------------------------------------------------


def check_command(files: dict[str, str], explicit: str | None) -> str | None:
    """The check command: the explicit one, else `[tool.crdtspace] check` of pyproject.toml."""
    if explicit:
        return explicit
    pyproject = files.get("pyproject.toml")
    if pyproject is None:
        return None
    try:
        config = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError:
        return None
    value = config.get("tool", {}).get("crdtspace", {}).get("check")
    return str(value) if value else None


def run_check(
    repo: git.Repo,
    base: git.Commit,
    files: dict[str, str],
    command: str,
    report: GateReport,
    *,
    removed: Sequence[str] = (),
    timeout: float = CHECK_TIMEOUT,
    output: list[str] | None = None,
) -> bool:
    """Run `command` in a temporary worktree of `base` holding the rendered files (`removed`:
    files of the base the workspace no longer has); `output`, when given, gets what the command
    printed (stdout, then stderr)."""
    with tempfile.TemporaryDirectory(prefix="crdtspace-check-") as scratch:
        tree = Path(scratch) / "tree"
        try:
            repo.git.worktree("add", "--detach", "--quiet", str(tree), base.hexsha)
        except git.GitCommandError as error:
            raise GitStateError(f"Cannot make a worktree for the check: {error}") from None
        try:
            try:
                _write_rendered(tree, files, removed)
            except PathError as error:
                return report.add("check", False, f"not run: {error.message}")
            env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
            try:
                done = subprocess.run(
                    command_line(command),
                    cwd=tree,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    env=env,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return report.add("check", False, f"`{command}` ran over {timeout:.0f} s")
            except OSError as error:
                return report.add("check", False, f"`{command}` could not start: {error}")
        finally:
            repo.git.worktree("remove", "--force", str(tree))
    if output is not None:
        output.append(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return report.add(
            "check", False, f"`{command}` exited {done.returncode}: " + " | ".join(tail)
        )
    return report.add("check", True, f"`{command}` passed")


def command_line(command: str) -> list[str]:
    """The check command as arguments; a leading `python` or `python3` is the interpreter
    running crdtspace (so a project's check runs in the environment crdtspace was installed
    in, wherever `python` points on PATH)."""
    args = shlex.split(command)
    if args and args[0] in ("python", "python3"):
        args[0] = sys.executable
    return args


def _write_rendered(tree: Path, files: dict[str, str], removed: Sequence[str]) -> None:
    """The worktree (a checkout of the base) made to hold the rendered files; git-only files
    stay as checked out."""
    for path in removed:
        folder, _, name = path.rpartition("/")
        target = (gitio.safe_target(tree, folder) if folder else tree) / name
        if target.is_symlink() or target.is_file():
            target.unlink()  # (a link itself, never what it points to)
    for path, text in files.items():
        target = gitio.safe_target(tree, path)  # never through a link checked out there
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


# -- what the commit holds ------------------------------------------------------------------


@dataclass
class Snapshot:
    """The tree to commit against the base: the files whose text changed (rendered), those
    removed, and every entry (unchanged ones reuse the base's blobs)."""

    changed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    entries: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # mode, sha|None
    base_entries: dict[str, tuple[str, str]] = field(default_factory=dict)  # the base's tree


def snapshot(ws: Replica, repo: git.Repo, base: git.Commit) -> Snapshot:
    """Render only what can differ from the base: files holding nodes edited since the import,
    and files the base does not have. A file no edit touched renders as it was imported, and
    every later base was made from the workspace (the gate) or applied to it (sync-git), so
    it is still the base's blob."""
    from crdtspace.conflicts.findings import Context

    base_entries = gitio.tree_entries(repo, base.hexsha)
    context = Context(ws.document)
    touched = {context.home(n) for n in ws.document.edited_nodes()}
    out = Snapshot(base_entries=base_entries)
    for path in ws.document.paths():
        mode = ws.document.mode(path)
        old = base_entries.get(path)
        if old is not None and path not in touched:
            out.entries[path] = (mode, old[1])
            continue
        text = ws.document.render(path)
        sha = gitio.blob_sha(text.encode("utf-8"))
        if old is not None and old == (mode, sha):
            out.entries[path] = (mode, sha)
            continue
        out.changed[path] = text
        out.entries[path] = (mode, None)
    for path, (blob, mode) in ws.document.gitonly_entries().items():
        out.entries[path] = (mode, blob)
    out.removed = sorted(p for p in base_entries if p not in out.entries)
    return out


# -- 4. writing the commit -------------------------------------------------------------------


def write_commit(
    ws: Replica,
    repo: git.Repo,
    base: git.Commit,
    snap: Snapshot,
    message: str,
    coauthors: list[str],
    *,
    parents: Sequence[git.Commit] | None = None,
) -> tuple[str, list[str]]:
    """Blobs, tree and commit in the object store (parents: the base, or those given for a
    merge); returns (commit sha, paths changed against the base)."""
    entries: list[BaseIndexEntry] = []
    for path, (mode, sha) in snap.entries.items():
        binsha = (
            _store(repo, snap.changed[path].encode("utf-8")) if sha is None else bytes.fromhex(sha)
        )
        entries.append(BaseIndexEntry((int(mode, 8), binsha, 0, path)))
    with tempfile.TemporaryDirectory(prefix="crdtspace-index-") as scratch:
        index = IndexFile(repo, file_path=str(Path(scratch) / "index"))
        index.add(entries, write=False)
        tree = index.write_tree()
    changed = sorted(str(d.a_path or d.b_path) for d in base.tree.diff(tree))
    trailers = [f"Co-authored-by: {name} <{_email(name)}>" for name in coauthors]
    trailers.append(f"Crdtspace-State: {ws.state().hex()}")
    body = message.rstrip("\n") + "\n\n" + "\n".join(trailers) + "\n"
    author = _actor(repo, ws.agent)
    commit = git.Commit.create_from_tree(
        repo,
        tree,
        body,
        parent_commits=list(parents) if parents is not None else [base],
        head=False,
        author=author,
        committer=author,
    )
    return commit.hexsha, changed


def _store(repo: git.Repo, data: bytes) -> bytes:
    import io

    stream = repo.odb.store(IStream("blob", len(data), io.BytesIO(data)))
    return bytes(stream.binsha)


def _email(name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower()).strip("-")
    return f"{slug or 'agent'}@agents.crdtspace.invalid"


def _actor(repo: git.Repo, agent: str) -> git.Actor:
    reader = repo.config_reader()
    name = reader.get_value("user", "name", agent) if reader.has_section("user") else agent
    email = reader.get_value("user", "email", _email(agent)) if reader.has_section("user") else ""
    return git.Actor(str(name), str(email or _email(agent)))


def move_branch(repo: git.Repo, branch: str, new: str, old: str) -> None:
    """Compare-and-swap the branch from `old` to `new`; refuses if it moved meanwhile."""
    try:
        repo.git.update_ref(f"refs/heads/{branch}", new, old, "-m", "crdtspace commit")
    except git.GitCommandError:
        raise GitStateError(
            f"The branch {branch!r} moved while committing; nothing was changed.",
            hint="run `crdtspace sync-git` to bring the new commits in, then commit again",
        ) from None


def follow_checkout(repo: git.Repo, branch: str, old: str, new: str, report: GateReport) -> None:
    """After the branch moved from `old` to `new`: when it is the one checked out, its index
    and working tree follow where they hold no uncommitted work (`crdtspace.git.worktree`); the
    report says what was left alone. The commit stands whatever happens here."""
    try:
        checked_out = str(repo.git.symbolic_ref("-q", "HEAD")) == f"refs/heads/{branch}"
    except git.GitCommandError:  # a detached HEAD
        checked_out = False
    if not checked_out:
        return
    try:
        followed = follow(repo, old, new)
    except (GitStateError, OSError) as error:
        report.add("worktree", False, f"the index and working tree stay as they were: {error}")
        return
    report.kept = followed.kept
    report.add("worktree", True, followed.summary())


# -- the gate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateOptions:
    message: str
    check: str | None = None
    wait: float = 0.0
    allow_behind: bool = False
    run_check: bool = True
    progress: Callable[[Step], None] | None = None
    silent_after: float = SILENT_AFTER
    """Seconds after which a replica not heard of stops blocking (see `crdtspace.git.presence`)."""
    connected: tuple[Connected, ...] | None = None
    """Peers seen connected by whoever runs the gate (a workspace service's clients), besides
    those a networked replica sees itself."""


def commit(ws: Replica, options: GateOptions) -> GateReport:
    """Run the gate on a durable workspace; see the module docstring."""
    report = GateReport()
    if ws.root is None:
        raise GitStateError("This workspace has no repository to commit to.")
    repo = gitio.open_repo(ws.root)
    try:
        branch = _branch(repo)
        report.branch = branch
        base_sha = str(ws.document.meta.get("base", ""))
        tip = repo.commit(f"refs/heads/{branch}").hexsha
        if tip != base_sha:
            raise GitStateError(
                f"The branch {branch!r} is at {tip[:10]}, the workspace at {base_sha[:10]}.",
                hint="run `crdtspace sync-git` to bring the new commits in first",
            )
        base = repo.commit(base_sha)
        checks: list[Callable[[], bool]] = [
            lambda: check_convergence(
                ws,
                report,
                wait=options.wait,
                allow_behind=options.allow_behind,
                silent_after=options.silent_after,
                connected=options.connected,
            ),
            lambda: check_conflicts(ws, report, sorted(snap.changed)),
        ]
        snap = snapshot(ws, repo, base)
        state = versions.snapshot(ws.doc)  # what is committed, as a version (its texts: snap)
        files = snap.changed
        checks.append(lambda: check_tree(repo, snap, report))
        checks.append(lambda: check_syntax(base, files, report))
        config = {**files}
        if "pyproject.toml" not in config and "pyproject.toml" in ws.document.files:
            config["pyproject.toml"] = ws.document.render("pyproject.toml")
        command = check_command(config, options.check) if options.run_check else None
        if command:
            checks.append(
                lambda: run_check(repo, base, files, command, report, removed=snap.removed)
            )
        for check in checks:
            passed = check()
            if options.progress is not None:
                options.progress(report.steps[-1])
            if not passed:
                return report
        if not command:
            report.add("check", True, "no check command configured")
        coauthors = ws.contributors()
        sha, changed = write_commit(ws, repo, base, snap, options.message, coauthors)
        if not changed:
            report.add("commit", False, "nothing to commit: the workspace equals the branch")
            return report
        move_branch(repo, branch, sha, base_sha)
        ws.committed(sha, state=state)
        if ws.squash_history():  # settled history folded: the base's version taken anew
            ws.committed(sha)
        report.commit = sha
        report.files_changed = changed
        report.coauthors = coauthors
        report.add("commit", True, f"{sha[:10]} on {branch}: {len(changed)} file(s)")
        shown = len(report.steps) - 1
        follow_checkout(repo, branch, base_sha, sha, report)
        if options.progress is not None:
            for step in report.steps[shown:]:
                options.progress(step)
        return report
    finally:
        repo.close()


def _branch(repo: git.Repo) -> str:
    try:
        return str(repo.active_branch.name)
    except TypeError:
        raise GitStateError(
            "HEAD is detached: the gate commits to a branch.", hint="check out a branch first"
        ) from None
