"""The agent tools: one definition each, for the MCP server and the runner alike.

A tool takes a `Session` (one agent at one workspace) and its arguments, and returns text the
model reads well: source as plain text, at most `MAX_RESULT` characters (longer results are cut
with a note saying how to read the rest). A tool that cannot do what it was asked raises
`ToolError` with one sentence. Every edit tool's result says what changed, which conflicts the
edit made or touched, and whose claims it crossed; every result ends with what happened to
the agent's work since its last call (new conflicts on its nodes, claims crossing its own).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crdtspace.errors import CrdtspaceError
from crdtspace.git import gate, gitio
from crdtspace.live.netreplica import NetworkReplica
from crdtspace.model import claims as board
from crdtspace.model.claims import Claim
from crdtspace.model.history import render_texts

if TYPE_CHECKING:
    from crdtspace.conflicts.findings import Conflict
    from crdtspace.workspace import Workspace

MAX_RESULT = 40_000
"""Characters of one tool result at most (Claude Code refuses results over about 50,000)."""
MAX_MATCHES = 200
"""Lines one search returns at most."""
CHECK_TAIL = 60
"""Lines of the check's output a `run_check` result shows (the last ones)."""


class ToolError(CrdtspaceError):
    """A tool call that could not be done: its message is the one sentence the model sees."""


@dataclass
class Session:
    """One agent at one workspace: the replica its tools act on, and what it has been told."""

    workspace: Workspace
    agent: str
    check: str | None = None
    """The project's check command for `run_check` (default: `[tool.crdtspace] check`)."""
    told: set[str] = field(default_factory=set)
    """Conflicts already reported to this agent."""
    crossed: set[tuple[str, str, str]] = field(default_factory=set)
    """Claims of others crossing this agent's own, already reported."""

    def call(self, name: str, arguments: dict[str, Any] | None) -> str:
        """Run a tool by name; its result, with the news since the last call."""
        tool = TOOLS.get(name)
        if tool is None:
            raise ToolError(f"There is no tool {name!r}; the tools are {', '.join(TOOLS)}.")
        args = dict(arguments or {})
        unknown = sorted(set(args) - set(tool.schema["properties"]))
        if unknown:
            raise ToolError(f"{name} takes no argument {unknown[0]!r}.")
        missing = [a for a in tool.schema.get("required", []) if args.get(a) is None]
        if missing:
            raise ToolError(f"{name} needs the argument {missing[0]!r}.")
        try:
            text = tool.run(self, args)
        except ToolError:
            raise
        except CrdtspaceError as error:
            raise ToolError(error.message + (f" ({error.hint})" if error.hint else "")) from None
        news = self.news(exclude=text)
        return clip(text + ("\n\n" + news if news else ""))

    # -- what the agent should hear about ----------------------------------------------------

    def news(self, *, exclude: str = "") -> str:
        """New conflicts involving this agent, and others' claims crossing its own, not yet
        told (those the result already names are counted as told)."""
        lines: list[str] = []
        for conflict in self.workspace.conflicts():
            if self.agent not in conflict.agents or conflict.id in self.told:
                continue
            self.told.add(conflict.id)
            if conflict.id not in exclude:
                lines.append(f"New conflict {describe(conflict)}")
        for mine, theirs in self._crossing_claims():
            key = (mine, theirs.agent, theirs.path + "::" + theirs.node)
            if key in self.crossed:
                continue
            self.crossed.add(key)
            lines.append(f"{theirs.agent} also claims {_claim_place(theirs)} (you claimed {mine})")
        return "\n".join(lines)

    def _crossing_claims(self) -> list[tuple[str, Claim]]:
        every = all_claims(self)
        mine = {(c.path, c.node): _claim_place(c) for c in every if c.agent == self.agent}
        return [
            (mine[(c.path, c.node)], c)
            for c in every
            if (c.path, c.node) in mine and c.agent != self.agent
        ]

    def edited(
        self, what: str, path: str, before: set[str], violations: int, node: str | None = None
    ) -> str:
        """An edit tool's result: what changed, the conflicts it made or touched, the claims it
        crossed (a networked replica notes them as it edits; else the document's claims on
        `node`, or on the file, are looked at)."""
        lines = [what]
        for conflict in self.workspace.conflicts():
            made = conflict.id not in before
            if made or any(p.path == path for p in conflict.places):
                self.told.add(conflict.id)
                lines.append(f"{'New' if made else 'Open'} conflict {describe(conflict)}")
        live = networked(self.workspace)
        if live is not None:
            for v in live.claim_violations()[violations:]:
                place = f"{v.path}::{v.name or v.node}"
                lines.append(f"Crossed a claim: {v.claimed_by} claimed {place}.")
            return "\n".join(lines)
        for c in board.in_document(self.workspace):
            if c.agent != self.agent and c.path == path and c.node in ("", node or ""):
                lines.append(f"Crossed a claim: {c.agent} claimed {_claim_place(c)}.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Tool:
    """One tool: its name, what the model is told of it, its arguments, what it does."""

    name: str
    description: str
    schema: dict[str, Any]
    run: Callable[[Session, dict[str, Any]], str]


def clip(text: str, limit: int = MAX_RESULT) -> str:
    """`text`, cut at a line end before `limit` characters with a note when longer."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 200)
    cut = cut if cut > 0 else limit - 200
    shown = text[:cut].count("\n") + 1
    return (
        text[:cut]
        + f"\n[... cut: {len(text) - cut:,} more characters. Read a node (PATH::NAME, see "
        f"outline) or search, to see the rest; the first {shown} lines are above.]"
    )


def describe(conflict: Conflict) -> str:
    """One line for a conflict: id, kind, place, agents, explanation."""
    places = "; ".join(str(p) for p in conflict.places) or "-"
    agents = ", ".join(conflict.agents)
    return f"{conflict.id} ({conflict.kind}) at {places} [{agents}]: {conflict.message}"


def _claim_place(claim: Any) -> str:
    return f"{claim.path}::{claim.name or claim.node}" if claim.node else claim.path


def _conflict_ids(ws: Workspace) -> set[str]:
    return {c.id for c in ws.conflicts()}


def _violations(ws: Workspace) -> int:
    live = networked(ws)
    return len(live.claim_violations()) if live is not None else 0


def networked(ws: Workspace) -> NetworkReplica | None:
    """The workspace as a networked replica (with presence and claims), if it is one."""
    return ws if isinstance(ws, NetworkReplica) else None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ToolError(f"The argument {name!r} must be a string.")
    return value


def _optional(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    return None if value is None or value == "" else _text(value, name)


def _refs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise ToolError("The argument 'refs' must be a reference or a list of references.")


# -- reading -----------------------------------------------------------------------------------


def status(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    state = ws.status()
    lines = [
        f"Workspace at base commit {state.base[:10] or '(none)'}, version {ws.version()}.",
        f"You are {session.agent}. {state.files} files ({state.structured} structured).",
    ]
    live = networked(ws)
    if live is not None:
        peers = live.peers()
        names = sorted({p.agent for p in peers})
        lines.append("Agents here: " + (", ".join(names) if names else "none but you") + ".")
    for claim in all_claims(session):
        who = "you" if claim.agent == session.agent else claim.agent
        lines.append(f"  {who} claim{'' if who == 'you' else 's'} {_claim_place(claim)}")
    changed = list(ws.changed_files().items())
    if changed:
        lines.append("Changed since the base commit:")
        lines += [f"  {path} by {', '.join(agents)}" for path, agents in changed]
    else:
        lines.append("No change since the base commit.")
    conflicts = ws.conflicts()
    lines.append(f"Open conflicts: {len(conflicts)}" + (":" if conflicts else "."))
    lines += [f"  {describe(c)}" for c in conflicts]
    return "\n".join(lines)


def list_files(session: Session, args: dict[str, Any]) -> str:
    pattern = _optional(args, "glob") or "*"
    ws = session.workspace
    paths = [p for p in ws.paths() if fnmatch.fnmatch(p, pattern)]
    kept = [g for g in ws.git_only() if fnmatch.fnmatch(g.path, pattern)]
    lines = paths + [f"{g.path} (git only: {g.reason})" for g in kept]
    return "\n".join(lines) if lines else f"No file matches {pattern!r}."


def search(session: Session, args: dict[str, Any]) -> str:
    pattern = _text(args["pattern"], "pattern")
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise ToolError(f"{pattern!r} is not a regular expression: {error}.") from None
    glob = _optional(args, "glob") or "*"
    ws = session.workspace
    found: list[str] = []
    for path in ws.paths():
        if not fnmatch.fnmatch(path, glob):
            continue
        for number, line in enumerate(ws.document.render(path).splitlines(), start=1):
            if regex.search(line):
                found.append(f"{path}:{number}: {line}")
                if len(found) >= MAX_MATCHES:
                    found.append("[... more matches: narrow the pattern or the glob]")
                    return "\n".join(found)
    return "\n".join(found) if found else f"No line matches {pattern!r}."


def outline(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    path = _text(args["path"], "path")
    entries = ws.outline(path, agent=session.agent)
    claimed: dict[str, list[str]] = {}
    for claim in all_claims(session):
        claimed.setdefault(claim.node, []).append(claim.agent)
    lines = [f"{path} (version {entries.version}): key  kind  name  lines  last editor"]
    for e in entries:
        name = e.qualname or e.name or "-"
        who = f"  claimed by {', '.join(claimed[e.key])}" if e.key in claimed else ""
        indent = "  " * max(0, e.depth - 1)
        lines.append(
            f"{indent}{e.key}  {e.kind}  {name}  {e.start_line}-{e.end_line}  {e.last_editor}{who}"
        )
    return "\n".join(lines)


def read(session: Session, args: dict[str, Any]) -> str:
    ref = _text(args["ref"], "ref")
    reading = session.workspace.read(ref, agent=session.agent)
    return f"[{ref} at version {reading.version}; give it as base to edit from it]\n{reading}"


def history(session: Session, args: dict[str, Any]) -> str:
    ref = _text(args["ref"], "ref")
    ws = session.workspace
    lines = []
    for nid, entry in ws.log(ref):
        name = str(ws.document.node(nid).get("name", "")) or nid
        parents = ", ".join(entry.parents) or "-"
        lines.append(
            f"{name}: {entry.id} {entry.op} by {entry.agent} ({entry.description or '-'}; "
            f"after {parents})"
        )
    return "\n".join(lines) if lines else f"No edit of {ref} since the import."


def diff(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    only = _optional(args, "path")
    repo, base = _base(ws)
    try:
        snap = gate.snapshot(ws, repo, base)
        chunks: list[str] = []
        for path in sorted(snap.changed):
            if only is not None and path != only:
                continue
            old = _base_text(repo, base, path)
            chunks.append(_unified(path, old, snap.changed[path]))
        for path in snap.removed:
            if only is None or path == only:
                chunks.append(_unified(path, _base_text(repo, base, path), None))
    finally:
        repo.close()
    text = "".join(chunks)
    return text if text else "No change from the base commit" + (f" in {only}." if only else ".")


def _base(ws: Workspace) -> tuple[Any, Any]:
    if ws.root is None:
        raise ToolError("This workspace has no repository: there is no base commit to compare.")
    repo = gitio.open_repo(ws.root)
    base = str(ws.document.meta.get("base", ""))
    return repo, gitio.resolve_commit(repo, base or "HEAD")


def _base_text(repo: Any, base: Any, path: str) -> str | None:
    try:
        return str(repo.git.show(f"{base.hexsha}:{path}", strip_newline_in_stdout=False))
    except Exception:  # (not in the base: a new file)
        return None


def _unified(path: str, old: str | None, new: str | None) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def conflicts(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    found = ws.conflicts()
    if not found:
        return "No open conflict."
    out = []
    for conflict in found:
        session.told.add(conflict.id)
        out.append(describe(conflict))
        out.append(f"  resolve with: {', '.join(conflict.resolutions) or 'a text'}")
        sides = ws.overlap_sides(conflict.places[0].key) if conflict.places else None
        if conflict.kind == "overlap" and sides is not None:
            out.append("  base:\n" + _indent(render_texts(sides.base)))
            for agent, texts in sides.sides:
                out.append(f"  {agent}'s side:\n" + _indent(render_texts(texts)))
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# -- editing -----------------------------------------------------------------------------------


def edit(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    ref, old, new = _text(args["ref"], "ref"), _text(args["old"], "old"), _text(args["new"], "new")
    base = _optional(args, "base")
    if not old:
        raise ToolError("'old' is empty: quote the exact text to replace.")
    keyed = _by_key(ws, ref)  # (a name is looked up once, not at every step)
    if base is None:
        seen = ws.read(keyed, agent=session.agent)
        base = seen.version
    else:
        forked = ws.fork_at(base, agent=session.agent)
        try:
            seen = forked.read(keyed)
        finally:
            forked.close()
    count = seen.count(old)
    if count != 1:
        where = "not found in" if count == 0 else f"found {count} times in"
        hint = "read it again" if count == 0 else "quote more lines around it"
        raise ToolError(f"The text to replace was {where} {ref} at version {base}: {hint}.")
    text = str(seen).replace(old, new, 1)
    before, violations = _conflict_ids(ws), _violations(ws)
    path, nid = ws.resolve(keyed)
    if nid is None:
        ws.write(path, text, description="edit", base=base, agent=session.agent)
    else:
        ws.replace(keyed, text, description="edit", base=base, agent=session.agent)
    version = ws.version()
    what = f"Edited {ref} (version {version})."
    return session.edited(what, path, before, violations, nid)


def _by_key(ws: Workspace, ref: str) -> str:
    """`PATH::KEY` for a node named by its qualified name (keys are found at once; names take
    a layout of the file), or `ref` as it is."""
    if "::" not in ref:
        return ref
    try:
        path, nid = ws.resolve(ref)
    except CrdtspaceError:
        return ref  # (gone now: it may be there at the base version)
    return f"{path}::{nid}" if nid else path


def _child(container: str, after: str | None) -> str | None:
    """A child named by its own name inside a class (`after="save"` in `m.py::Store`) as the
    workspace names it (`Store.save`)."""
    named = container.partition("::")[2]
    if after is None or not named or "::" in after or after.startswith(named + "."):
        return after
    return f"{named}.{after}"


def write_file(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    path, text = _text(args["path"], "path"), _text(args["text"], "text")
    before, violations = _conflict_ids(ws), _violations(ws)
    result = ws.write(path, text, base=_optional(args, "base"), agent=session.agent)
    parts = [
        f"{len(result.edited)} edited",
        f"{len(result.created)} created",
        f"{len(result.deleted)} deleted",
    ]
    what = f"Wrote {path}: {', '.join(parts)} (version {ws.version()})."
    return session.edited(what, path, before, violations)


def replace_node(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    ref, text = _text(args["ref"], "ref"), _text(args["text"], "text")
    before, violations = _conflict_ids(ws), _violations(ws)
    path, nid = ws.resolve(ref)
    key = ws.replace(ref, text, base=_optional(args, "base"), agent=session.agent)
    what = f"Replaced {ref} (key {key}, version {ws.version()})."
    return session.edited(what, path, before, violations, nid)


def insert_node(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    container, text = _text(args["container"], "container"), _text(args["text"], "text")
    after = _child(container, _optional(args, "after"))
    before, violations = _conflict_ids(ws), _violations(ws)
    path, _ = ws.resolve(container)
    keys = ws.insert(container, after, text, agent=session.agent)
    what = f"Inserted {len(keys)} unit(s) into {container}: {', '.join(keys) or '-'}."
    return session.edited(what, path, before, violations)


def delete_node(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    ref = _text(args["ref"], "ref")
    before, violations = _conflict_ids(ws), _violations(ws)
    path, _ = ws.resolve(ref)
    ws.delete(ref, agent=session.agent)
    return session.edited(f"Deleted {ref}.", path, before, violations)


def move_node(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    ref, container = _text(args["ref"], "ref"), _text(args["container"], "container")
    before, violations = _conflict_ids(ws), _violations(ws)
    path, _ = ws.resolve(ref)
    ws.move(ref, container, _child(container, _optional(args, "after")), agent=session.agent)
    return session.edited(f"Moved {ref} into {container}.", path, before, violations)


# -- claims, conflicts, the check and the gate -----------------------------------------------


def all_claims(session: Session) -> list[Claim]:
    """Every live claim: a networked replica's own and its peers', and those the document
    holds (`crdtspace.model.claims`: agents with no connection of their own)."""
    live = networked(session.workspace)
    if live is not None:
        return [*live.my_claims(), *live.claims()]
    return board.in_document(session.workspace)


def claim(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    live = networked(ws)
    ttl = args.get("ttl", 300)
    if not isinstance(ttl, int | float) or ttl <= 0:
        raise ToolError("'ttl' must be a positive number of seconds.")
    note = _optional(args, "note") or ""
    lines = []
    for ref in _refs(args["refs"]):
        if live is not None:
            made = live.claim(ref, ttl=float(ttl), note=note)
        else:
            made = board.hold(ws, ref, agent=session.agent, ttl=float(ttl), note=note)
        until = time.strftime("%H:%M:%S", time.localtime(made.expires))
        others = [
            c.agent
            for c in all_claims(session)
            if (c.path, c.node) == (made.path, made.node) and c.agent != session.agent
        ]
        also = "; also claimed by " + ", ".join(others) if others else ""
        lines.append(f"Claimed {_claim_place(made)} until {until}{also}.")
    return "\n".join(lines)


def release(session: Session, args: dict[str, Any]) -> str:
    live = networked(session.workspace)
    refs = _refs(args["refs"])
    for ref in refs:
        if live is not None:
            live.release(ref)
        board.drop(session.workspace, ref, agent=session.agent)
    return f"Released {', '.join(refs)}."


def claims(session: Session, args: dict[str, Any]) -> str:
    lines = []
    for c in all_claims(session):
        until = time.strftime("%H:%M:%S", time.localtime(c.expires))
        note = f" ({c.note})" if c.note else ""
        lines.append(f"{c.agent} claims {_claim_place(c)} until {until}{note}")
    return "\n".join(lines) if lines else "No live claim."


def resolve(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    conflict_id = _text(args["id"], "id")
    take, text = _optional(args, "take"), args.get("text")
    if (take is None) == (text is None):
        raise ToolError(
            "Resolve either by taking a side ('take': an agent, ours, theirs) or "
            "with a 'text' for the node."
        )
    with ws.acting_as(session.agent):
        done = ws.resolve_conflict(
            conflict_id, take=take, text=None if text is None else _text(text, "text")
        )
    left = len(ws.conflicts())
    return f"Resolved {done.id} ({done.kind}); {left} conflict(s) still open."


def run_check(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    repo, base = _base(ws)
    try:
        snap = gate.snapshot(ws, repo, base)
        files = {p: ws.document.render(p) for p in ws.paths()} | snap.changed
        command = gate.check_command(files, _optional(args, "command") or session.check)
        if command is None:
            raise ToolError(
                "There is no check command: give one, or set [tool.crdtspace] check in "
                "pyproject.toml."
            )
        report = gate.GateReport()
        output: list[str] = []
        ok = gate.run_check(
            repo, base, snap.changed, command, report, removed=snap.removed, output=output
        )
    finally:
        repo.close()
    tail = "".join(output).rstrip().splitlines()[-CHECK_TAIL:]
    step = report.steps[-1]
    head = f"{'Passed' if ok else 'Failed'}: {step.detail}"
    return head + ("\n" + "\n".join(tail) if tail else "")


def commit(session: Session, args: dict[str, Any]) -> str:
    ws = session.workspace
    message = _text(args["message"], "message")
    with ws.acting_as(session.agent):
        report = ws.commit(message, check=session.check)
    lines = [f"{'ok  ' if s.ok else 'FAIL'} {s.name}: {s.detail}" for s in report.steps]
    head = f"Committed {report.commit[:10]}." if report.commit else "Not committed."
    return head + "\n" + "\n".join(lines)


# -- the table of tools ------------------------------------------------------------------------


def _schema(required: Iterable[str] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


_STR = {"type": "string"}
_REF = {"type": "string", "description": "A file (PATH) or a node (PATH::NAME or a key)."}
_BASE = {
    "type": "string",
    "description": "The version you read it at (from read/outline): only your change from it is "
    "applied, so nobody's later edit is undone.",
}
_REFS = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "Files or nodes (PATH or PATH::NAME).",
}

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            "status",
            "Who is here, their claims, what changed since the base commit and by "
            "whom, the open conflicts.",
            _schema(),
            status,
        ),
        Tool(
            "list_files",
            "The workspace's files (optionally matching a glob).",
            _schema(glob=_STR),
            list_files,
        ),
        Tool(
            "search",
            "Lines matching a regular expression, as path:line: text.",
            _schema(["pattern"], pattern=_STR, glob=_STR),
            search,
        ),
        Tool(
            "outline",
            "A file's units (functions, classes, ...): key, kind, name, lines, last "
            "editor, who claims it.",
            _schema(["path"], path=_STR),
            outline,
        ),
        Tool(
            "read",
            "A file or one node as text, with the version to give back as base.",
            _schema(["ref"], ref=_REF),
            read,
        ),
        Tool(
            "edit",
            "Replace one exact occurrence of 'old' with 'new' in a file or node.",
            _schema(["ref", "old", "new"], ref=_REF, old=_STR, new=_STR, base=_BASE),
            edit,
        ),
        Tool(
            "write_file",
            "Write a whole file (new or existing).",
            _schema(["path", "text"], path=_STR, text=_STR, base=_BASE),
            write_file,
        ),
        Tool(
            "replace_node",
            "Give one node (a function, a class, ...) new source text. Written without the "
            "blank lines before it or its indentation in a class, it keeps those it had.",
            _schema(["ref", "text"], ref=_REF, text=_STR, base=_BASE),
            replace_node,
        ),
        Tool(
            "insert_node",
            "Insert new units into a file or container, after a child (or first); units "
            "written at column 0 take their siblings' blank lines and indentation.",
            _schema(["container", "text"], container=_REF, after=_STR, text=_STR),
            insert_node,
        ),
        Tool("delete_node", "Delete a node.", _schema(["ref"], ref=_REF), delete_node),
        Tool(
            "move_node",
            "Move a node into a container (a file or class), after a child.",
            _schema(["ref", "container"], ref=_REF, container=_REF, after=_STR),
            move_node,
        ),
        Tool(
            "claim",
            "Tell the other agents you are about to edit these (for ttl seconds).",
            _schema(["refs"], refs=_REFS, ttl={"type": "number"}, note=_STR),
            claim,
        ),
        Tool("release", "Withdraw your claims.", _schema(["refs"], refs=_REFS), release),
        Tool("claims", "Every live claim.", _schema(), claims),
        Tool("conflicts", "Open conflicts, with each side's text.", _schema(), conflicts),
        Tool(
            "resolve",
            "Resolve a conflict: take a side (an agent, ours, theirs) or give the node's text.",
            _schema(["id"], id=_STR, take=_STR, text=_STR),
            resolve,
        ),
        Tool(
            "history",
            "Who edited a file or node, how, after what.",
            _schema(["ref"], ref=_REF),
            history,
        ),
        Tool(
            "diff", "The change from the base commit (one file or all).", _schema(path=_STR), diff
        ),
        Tool(
            "run_check",
            "Run the project's check on the workspace as it is now (in a "
            "temporary worktree): its exit and the end of its output.",
            _schema(command=_STR),
            run_check,
        ),
        Tool(
            "commit",
            "Commit through the gate: converged, no open conflict, the check passes.",
            _schema(["message"], message=_STR),
            commit,
        ),
    ]
}
