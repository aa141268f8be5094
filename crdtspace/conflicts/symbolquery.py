"""The symbols query of each language: compiled once, run once over a tree, its captures sorted.

`language_config` reads grammars/<lang>/symbols.scm and the ``symbols_*`` keys of profile.toml;
`collect` runs the query and sorts its captures into `Captures` (nodes and byte offsets), which
`crdtspace.conflicts.symbols` places in scopes; `Chars` turns byte offsets into characters.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tree_sitter import Language, Node, Query, QueryCursor

from crdtspace.model.languages import Profile, profile_named
from crdtspace.model.languages import settings as all_settings

# ---- language configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """A language's symbols query and the profile keys that say how to read it."""

    name: str
    profile: Profile  # (its `parser()`: a thread's own, never shared across threads)
    flat: Query  # the patterns with one capture: run for captures, the cheap way
    grouped: Query  # the patterns whose captures belong together: run for matches
    settings: tuple[Mapping[str, str | None], ...]  # per grouped pattern: its #set! values
    self_names: tuple[str, ...]
    receiver_param: bool
    class_encloses: bool
    import_binds: str  # first | last | whole
    unbound: str
    builtins: frozenset[str]
    trivia: frozenset[str]
    separator: str
    typed: bool  # variables, parameters and fields declare their types (receivers' types)
    inherited: frozenset[str]  # members every type has (Java's Object methods, derivable traits)


@functools.cache
def language_config(name: str) -> Config | None:
    """The symbols configuration of a language, compiled once; None if it has no symbols query."""
    profile = profile_named(name)
    if profile is None:
        return None
    settings = all_settings()[name][1]
    files = settings.get("symbols")
    if files is None:
        return None
    if isinstance(files, str):
        files = [files]
    source = "\n".join((profile.folder / f).read_text(encoding="utf-8") for f in files)
    flat, grouped = _split(profile.language, source)
    builtins = set(settings.get("symbols_builtins", []))
    if module := settings.get("symbols_builtins_module"):
        builtins.update(dir(importlib.import_module(module)))
    return Config(
        name=name,
        profile=profile,
        flat=flat,
        grouped=grouped,
        settings=tuple(grouped.pattern_settings(i) for i in range(grouped.pattern_count)),
        self_names=tuple(settings.get("symbols_self", [])),
        receiver_param=bool(settings.get("symbols_receiver_param", False)),
        class_encloses=bool(settings.get("symbols_class_encloses", False)),
        import_binds=settings.get("symbols_import_binds", "last"),
        unbound=settings.get("symbols_unbound", "unknown"),
        builtins=frozenset(builtins),
        trivia=frozenset(settings.get("trivia", [])) | {"comment"},
        separator=settings.get("symbols_separator", "."),
        typed=bool(settings.get("symbols_typed", False)),
        inherited=frozenset(settings.get("symbols_inherited", [])),
    )


def _split(language: Language, source: str) -> tuple[Query, Query]:
    """The query twice: once with its one-capture patterns only, once with the others.

    Captures of one-capture patterns need no grouping, and `captures()` returns them at about
    half the cost of `matches()`; captures named with a leading "_" serve predicates only.
    The patterns are told apart by the captures in their text, and each query is compiled from
    its own patterns only (compiling a query costs tens of milliseconds: Python's, 90 patterns,
    about 40 ms, paid by every process that analyses).
    """
    flat: list[str] = []
    grouped: list[str] = []
    for text in patterns(source):
        names = capture_names(text)
        alone = len({n for n in names if not n.startswith("_")}) == 1
        (flat if alone else grouped).append(text)
    return Query(language, "\n".join(flat)), Query(language, "\n".join(grouped))


def capture_names(pattern: str) -> set[str]:
    """The names of the captures in one pattern's text (``@name`` outside strings and
    comments)."""
    return {m.group(1) for m in _TOKENS.finditer(pattern) if m.group(1)}


def patterns(source: str) -> list[str]:
    """The top-level patterns of a query, as text: each runs from a "(", "[" or string at the
    top level to the next (its captures and quantifiers, and any comments, included)."""
    starts: list[int] = []
    depth = 0
    at = 0
    while at < len(source):
        char = source[at]
        if char == ";":
            end = source.find("\n", at)
            at = len(source) if end < 0 else end
            continue
        if depth == 0 and char in '(["':
            starts.append(at)
        if char == '"':
            at += 1
            while at < len(source) and source[at] != '"':
                at += 2 if source[at] == "\\" else 1
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        at += 1
    return [source[a:b] for a, b in zip(starts, [*starts[1:], len(source)], strict=True)]


_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|;[^\n]*|@([\w.-]+)')
"""A query's strings, comments and captures: only captures have group 1."""


# ---- offsets ---------------------------------------------------------------------------------

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class Chars:
    """Converts UTF-8 byte offsets of a text to character offsets."""

    def __init__(self, text: str, raw: bytes) -> None:
        self.starts: list[int] = []
        self.skipped: list[int] = [0]
        if len(raw) == len(text):
            return
        extra = 0
        for match in _NON_ASCII.finditer(text):
            self.starts.append(match.start() + extra)
            extra += len(match.group().encode("utf-8")) - 1
            self.skipped.append(extra)

    def __call__(self, byte: int) -> int:
        if not self.starts:
            return byte
        return byte - self.skipped[bisect.bisect_left(self.starts, byte)]


# ---- extraction ------------------------------------------------------------------------------

Key = int  # a node's id: the same node has the same id in every match of one run


def node_text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


@dataclass
class Def:
    kind: str
    node: Node
    name: Node
    signature: Key | None = None
    scope: Key | None = None
    receiver: str | None = None
    returns: str = ""  # the type it returns, as `type_expr` writes it


@dataclass
class Captures:
    """The captures of one query run, grouped by what they describe."""

    scopes: dict[Key, tuple[str, str, int, int]] = field(default_factory=dict)
    defs: dict[Key, Def] = field(default_factory=dict)
    static: set[Key] = field(default_factory=set)
    bases: dict[Key, list[str]] = field(default_factory=dict)
    open_classes: set[Key] = field(default_factory=set)
    params: dict[Key, list[tuple[str, Node]]] = field(default_factory=dict)
    bindings: list[tuple[str, Node]] = field(default_factory=list)
    stores: list[tuple[str, Node, str]] = field(default_factory=list)
    references: dict[Key, Node] = field(default_factory=dict)
    skip: set[Key] = field(default_factory=set)
    members: dict[Key, tuple[Node, Node]] = field(default_factory=dict)
    outer: list[tuple[int, int]] = field(default_factory=list)
    calls: dict[Key, Key | None] = field(default_factory=dict)
    arguments: dict[Key, dict[Key, str]] = field(default_factory=dict)
    keywords: dict[Key, list[Node]] = field(default_factory=dict)
    imports: list[tuple[Node, dict[str, Node], Mapping[str, str | None]]] = field(
        default_factory=list
    )
    made: dict[Key, str] = field(default_factory=dict)  # name bound by `name = Callee(...)`
    typed: dict[Key, str] = field(default_factory=dict)  # name declared with a type
    fields: dict[tuple[str, str], str] = field(default_factory=dict)  # (type, field) -> its type
    open_types: set[str] = field(default_factory=set)  # types with members from elsewhere


_POINTERS = re.compile(r"^(?:&\s*(?:'\w+\s+)?(?:mut\s+)?|\*|\s+|(?:readonly|const)\s+)+")
_TYPE_NAME = re.compile(r"[A-Za-z_$][\w$]*")


def type_expr(text: str) -> str:
    """A declared type as a receiver's type: its name without pointers, references and type
    arguments (`*LRU`, `&mut Lru<K>` -> the name); "-" for any other type (qualified by a
    package, a slice, a union...), whose methods are not this repository's."""
    name = _POINTERS.sub("", text.strip())
    name = re.split(r"[<\[]", name, maxsplit=1)[0].strip()
    return name if _TYPE_NAME.fullmatch(name) else "-"


_DEF_PRIORITY = {"variable": 0, "constant": 1}


def collect(config: Config, root: Node) -> Captures:
    """Run the symbols query once and sort its captures into Captures."""
    found = Captures()
    for name, nodes in QueryCursor(config.flat).captures(root).items():
        _collect_flat(config, found, name, nodes)
    for pattern, match in QueryCursor(config.grouped).matches(root):
        caps = {name: nodes[0] for name, nodes in match.items() if nodes}
        for name, node in caps.items():
            _collect_grouped(config, found, name, node, caps, pattern)
    return found


def _collect_flat(config: Config, found: Captures, name: str, nodes: list[Node]) -> None:
    head, _, kind = name.partition(".")
    if name == "reference":
        found.references.update((n.id, n) for n in nodes)
    elif name == "skip":
        found.skip.update(n.id for n in nodes)
    elif name in ("local", "local.bind", "global", "nonlocal"):
        found.bindings.extend((name, n) for n in nodes)
    elif name == "outer":
        found.outer.extend((n.start_byte, n.end_byte) for n in nodes)
    elif head == "scope":
        for n in nodes:
            found.scopes.setdefault(n.id, (kind, f"<{n.type}>", n.start_byte, n.end_byte))
    elif name == "class.open":
        found.open_classes.update(n.id for n in nodes)
    elif name == "static":
        found.static.update(n.id for n in nodes)
    else:
        for n in nodes:
            _collect_grouped(config, found, name, n, {name: n}, -1)


def _collect_grouped(
    config: Config,
    found: Captures,
    name: str,
    node: Node,
    caps: dict[str, Node],
    pattern: int,
) -> None:
    head, _, kind = name.partition(".")
    if head == "definition":
        _collect_definition(found, kind, node, caps)
    elif head == "scope":
        named = caps.get("name")
        own = node_text(named) if named is not None else f"<{node.type}>"
        found.scopes[node.id] = (kind, own, node.start_byte, node.end_byte)
    elif head == "param" and "params" in caps:
        found.params.setdefault(caps["params"].id, []).append((kind, node))
    elif head == "attribute" and "object" in caps:
        found.stores.append((kind, node, node_text(caps["object"])))
        if kind == "store":
            found.skip.add(node.id)
    elif name == "member" and "object" in caps:
        found.members[node.id] = (node, caps["object"])
    elif name == "base" and "class" in caps and node.type not in config.trivia:
        found.bases.setdefault(caps["class"].id, []).append(node_text(node))
    elif name == "callee":
        args = caps.get("arguments")
        found.calls[node.id] = args.id if args is not None else None
    elif name == "made.class" and "made.name" in caps:
        found.made[caps["made.name"].id] = node_text(node)
    elif name == "made.call" and "made.name" in caps:
        found.made[caps["made.name"].id] = "call:" + "".join(node_text(node).split())
    elif name == "typed.type" and "typed.name" in caps and node_text(node) != "var":
        found.typed[caps["typed.name"].id] = type_expr(node_text(node))
    elif name == "field.type" and "field.owner" in caps and "field.name" in caps:
        owner, member = node_text(caps["field.owner"]), node_text(caps["field.name"])
        found.fields.setdefault((owner, member), type_expr(node_text(node)))
    elif name == "type.open":
        found.open_types.add(node_text(node))
    elif head == "argument" and "arguments" in caps:
        _collect_argument(config, found, kind, node, caps["arguments"].id)
    elif name == "import":
        found.imports.append((node, caps, config.settings[pattern]))
    elif name in ("reference", "skip", "outer", "static", "class.open") or (
        name in ("local", "local.bind", "global", "nonlocal")
    ):
        _collect_flat(config, found, name, [node])


def _collect_definition(found: Captures, kind: str, node: Node, caps: dict[str, Node]) -> None:
    name = caps.get("name")
    if name is None:
        return
    key = name.id
    old = found.defs.get(key)
    if old is not None and _DEF_PRIORITY.get(kind, 9) < _DEF_PRIORITY.get(old.kind, 9):
        return
    new = Def(kind, node, name)
    if old is not None and old.kind == kind:
        new = old
        if node.end_byte - node.start_byte > old.node.end_byte - old.node.start_byte:
            new.node = node
    signature = caps.get("signature")
    if signature is not None:
        new.signature = signature.id
    for capture, scope_node in caps.items():
        if capture.startswith("scope."):
            new.scope = scope_node.id
    if "receiver" in caps:
        new.receiver = node_text(caps["receiver"])
    if "returns" in caps:
        new.returns = type_expr(node_text(caps["returns"]))
    found.defs[key] = new


def _collect_argument(
    config: Config, found: Captures, kind: str, node: Node, arguments: Key
) -> None:
    args = found.arguments.setdefault(arguments, {})
    if kind == "keyword":
        found.keywords.setdefault(arguments, []).append(node)
    elif kind in ("named", "splat"):
        args[node.id] = kind
    elif node.type not in config.trivia:
        args.setdefault(node.id, "positional")
