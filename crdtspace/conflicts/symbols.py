"""Symbols of source text: definitions, references, calls and imports, for semantic conflicts.

What a language knows is data: grammars/<lang>/symbols.scm captures the facts (its header lists
the capture names) and the ``symbols_*`` keys of profile.toml say how to read them. This module
runs the query once over a file, places every capture in its scope with one sweep over sorted
offsets (no per-node recursion), and answers where a reference's name comes from.

All offsets are characters, not bytes. Scopes are written qualified: "" is the module (file,
package), "Shelf" a class, "Shelf.add" a method, "outer.<lambda>" an anonymous scope.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from crdtspace.model.languages import profile_for, profiles


@dataclass(frozen=True)
class Call:
    """How one call passes its arguments."""

    positional: int
    keywords: tuple[str, ...] = ()
    splat: bool = False  # *args / **kw / ...spread present: the arity cannot be known


@dataclass(frozen=True)
class Signature:
    """The parameters of a function or method, as far as arity goes."""

    params: tuple[str, ...]  # positional(-or-keyword) names in order; no self/cls
    required: int  # how many of params have no default
    keyword_only: tuple[str, ...] = ()
    required_keyword: tuple[str, ...] = ()  # keyword-only without a default
    variadic: bool = False  # *args / ...rest / Go ...T / Java varargs
    varkw: bool = False  # **kwargs
    positional_only: int = 0  # how many of params come before Python's `/`

    def accepts(self, call: Call) -> bool:
        """False only when the call certainly does not fit this signature."""
        if call.splat:
            return True
        if call.positional > len(self.params) and not self.variadic:
            return False
        bound = set(self.params[: call.positional])
        by_keyword = set(self.params[self.positional_only :])
        for keyword in call.keywords:
            if keyword in by_keyword and keyword not in bound:
                bound.add(keyword)
            elif keyword in self.keyword_only or (self.varkw and keyword not in bound):
                continue
            else:
                return False
        missing_positional = any(p not in bound for p in self.params[: self.required])
        missing_keyword = any(k not in call.keywords for k in self.required_keyword)
        return not (missing_positional or missing_keyword)


@dataclass(frozen=True)
class Definition:
    """A name defined in the text: a function, method, class, variable, type, attribute..."""

    name: str
    kind: str
    scope: str
    start: int
    end: int
    signature: Signature | None = None


@dataclass(frozen=True)
class Reference:
    """A name used (loaded) in the text; the callee of a call carries the call."""

    name: str
    scope: str
    start: int
    end: int
    qualifier: str = ""  # "" bare; "self"/"this"; an imported module alias; "?" other receiver
    call: Call | None = None
    receiver: str = ""  # with qualifier "?": the receiver when it is a bare name (`cart.add`)


@dataclass(frozen=True)
class Import:
    """One name an import statement binds."""

    module: str
    name: str | None
    alias: str
    scope: str
    start: int
    end: int
    star: bool = False


@dataclass
class _Scope:
    """One scope while resolving: what it binds and, for a class, what its instances have."""

    name: str
    kind: str
    parent: _Scope | None
    bindings: dict[str, Definition | Import | None] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    bases: list[str] = field(default_factory=list)
    open: bool = False  # a class whose members cannot all be known (decorated, metaclass...)
    derived: bool = False  # a class some class of this file derives from (a mixin, perhaps)
    made: dict[str, str | None] = field(default_factory=dict)
    """Names bound here by `name = Class(...)` and nothing else: the class; None when a name is
    also bound otherwise, or by calls of different classes."""


@dataclass(frozen=True)
class FileSymbols:
    """Everything the conflict detector needs from one text."""

    language: str
    definitions: tuple[Definition, ...]
    references: tuple[Reference, ...]
    imports: tuple[Import, ...]
    has_errors: bool
    scopes: Mapping[str, _Scope] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Resolution:
    """Where a reference's name comes from."""

    status: str  # defined | imported | builtin | local | unresolved | unknown
    definition: Definition | None = None
    imported: Import | None = None
    member_of: str = ""
    """Through a receiver made by a class of this file (`cart = Cart()`) whose class has no
    such member: that class (the status is then "unknown": the variable's type is a guess)."""


# ---- language configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    """A language's symbols query and the profile keys that say how to read it."""

    name: str
    parser: Parser
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


@functools.cache
def _config(name: str) -> _Config | None:
    """The symbols configuration of a language, compiled once; None if it has no symbols query."""
    profile = profiles().get(name)
    if profile is None:
        return None
    settings = tomllib.loads((profile.folder / "profile.toml").read_text(encoding="utf-8"))
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
    return _Config(
        name=name,
        parser=Parser(profile.language),
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
    )


def _split(language: Language, source: str) -> tuple[Query, Query]:
    """The query twice: once with its one-capture patterns only, once with the others.

    Captures of one-capture patterns need no grouping, and `captures()` returns them at about
    half the cost of `matches()`; captures named with a leading "_" serve predicates only.
    """
    flat, grouped = Query(language, source), Query(language, source)
    raw = source.encode("utf-8")
    for i in range(flat.pattern_count):
        text = raw[flat.start_byte_for_pattern(i) : flat.end_byte_for_pattern(i)]
        alone = Query(language, text.decode("utf-8"))
        names = {alone.capture_name(j) for j in range(alone.capture_count)}
        if len({n for n in names if not n.startswith("_")}) == 1:
            grouped.disable_pattern(i)
        else:
            flat.disable_pattern(i)
    return flat, grouped


# ---- offsets ---------------------------------------------------------------------------------

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class _Chars:
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

_Key = int  # a node's id: the same node has the same id in every match of one run


def _text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


@dataclass
class _Def:
    kind: str
    node: Node
    name: Node
    signature: _Key | None = None
    scope: _Key | None = None
    receiver: str | None = None


@dataclass
class _Captures:
    """The captures of one query run, grouped by what they describe."""

    scopes: dict[_Key, tuple[str, str, int, int]] = field(default_factory=dict)
    defs: dict[_Key, _Def] = field(default_factory=dict)
    static: set[_Key] = field(default_factory=set)
    bases: dict[_Key, list[str]] = field(default_factory=dict)
    open_classes: set[_Key] = field(default_factory=set)
    params: dict[_Key, list[tuple[str, Node]]] = field(default_factory=dict)
    bindings: list[tuple[str, Node]] = field(default_factory=list)
    stores: list[tuple[str, Node, str]] = field(default_factory=list)
    references: dict[_Key, Node] = field(default_factory=dict)
    skip: set[_Key] = field(default_factory=set)
    members: dict[_Key, tuple[Node, Node]] = field(default_factory=dict)
    outer: list[tuple[int, int]] = field(default_factory=list)
    calls: dict[_Key, _Key | None] = field(default_factory=dict)
    arguments: dict[_Key, dict[_Key, str]] = field(default_factory=dict)
    keywords: dict[_Key, list[Node]] = field(default_factory=dict)
    imports: list[tuple[Node, dict[str, Node], Mapping[str, str | None]]] = field(
        default_factory=list
    )
    made: dict[_Key, str] = field(default_factory=dict)  # name bound by `name = Callee(...)`


_DEF_PRIORITY = {"variable": 0, "constant": 1}
_BINDING_PARAMS = frozenset({"required", "optional", "rest", "kwrest"})


def _collect(config: _Config, root: Node) -> _Captures:
    """Run the symbols query once and sort its captures into _Captures."""
    found = _Captures()
    for name, nodes in QueryCursor(config.flat).captures(root).items():
        _collect_flat(config, found, name, nodes)
    for pattern, match in QueryCursor(config.grouped).matches(root):
        caps = {name: nodes[0] for name, nodes in match.items() if nodes}
        for name, node in caps.items():
            _collect_grouped(config, found, name, node, caps, pattern)
    return found


def _collect_flat(config: _Config, found: _Captures, name: str, nodes: list[Node]) -> None:
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
    config: _Config,
    found: _Captures,
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
        own = _text(named) if named is not None else f"<{node.type}>"
        found.scopes[node.id] = (kind, own, node.start_byte, node.end_byte)
    elif head == "param" and "params" in caps:
        found.params.setdefault(caps["params"].id, []).append((kind, node))
    elif head == "attribute" and "object" in caps:
        found.stores.append((kind, node, _text(caps["object"])))
        if kind == "store":
            found.skip.add(node.id)
    elif name == "member" and "object" in caps:
        found.members[node.id] = (node, caps["object"])
    elif name == "base" and "class" in caps and node.type not in config.trivia:
        found.bases.setdefault(caps["class"].id, []).append(_text(node))
    elif name == "callee":
        args = caps.get("arguments")
        found.calls[node.id] = args.id if args is not None else None
    elif name == "made.class" and "made.name" in caps:
        found.made[caps["made.name"].id] = _text(node)
    elif head == "argument" and "arguments" in caps:
        _collect_argument(config, found, kind, node, caps["arguments"].id)
    elif name == "import":
        found.imports.append((node, caps, config.settings[pattern]))
    elif name in ("reference", "skip", "outer", "static", "class.open") or (
        name in ("local", "local.bind", "global", "nonlocal")
    ):
        _collect_flat(config, found, name, [node])


def _collect_definition(found: _Captures, kind: str, node: Node, caps: dict[str, Node]) -> None:
    name = caps.get("name")
    if name is None:
        return
    key = name.id
    old = found.defs.get(key)
    if old is not None and _DEF_PRIORITY.get(kind, 9) < _DEF_PRIORITY.get(old.kind, 9):
        return
    new = _Def(kind, node, name)
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
        new.receiver = _text(caps["receiver"])
    found.defs[key] = new


def _collect_argument(
    config: _Config, found: _Captures, kind: str, node: Node, arguments: _Key
) -> None:
    args = found.arguments.setdefault(arguments, {})
    if kind == "keyword":
        found.keywords.setdefault(arguments, []).append(node)
    elif kind in ("named", "splat"):
        args[node.id] = kind
    elif node.type not in config.trivia:
        args.setdefault(node.id, "positional")


def _call(found: _Captures, arguments: _Key | None) -> Call:
    if arguments is None:
        return Call(positional=1)
    kinds = found.arguments.get(arguments, {}).values()
    keywords = tuple(_text(k) for k in found.keywords.get(arguments, []))
    return Call(
        positional=sum(1 for k in kinds if k == "positional"),
        keywords=keywords,
        splat=any(k == "splat" for k in kinds),
    )


# ---- placing captures in scopes --------------------------------------------------------------


class _Placer:
    """Finds the innermost scope around byte offsets, given in increasing order."""

    def __init__(self, module: _Scope, scopes: list[tuple[int, int, _Scope | None]]) -> None:
        self.events = sorted(scopes, key=lambda e: (e[0], -e[1]))
        self.next = 0
        self.stack: list[tuple[int, _Scope]] = [(1 << 62, module)]

    def at(self, byte: int) -> _Scope:
        events = self.events
        while self.next < len(events) and events[self.next][0] <= byte:
            start, end, scope = events[self.next]
            self.next += 1
            self._pop(start + 1)
            if scope is None:  # an @outer region: evaluated in the scope around its scope
                top = self.stack[-1][1]
                scope = top.parent if top.parent is not None else top
            elif scope.parent is None:
                scope.parent = self.stack[-1][1]
            self.stack.append((end, scope))
        self._pop(byte + 1)
        return self.stack[-1][1]

    def _pop(self, byte: int) -> None:
        while self.stack[-1][0] < byte:
            self.stack.pop()


def _qualify(scope: _Scope | None, name: str) -> str:
    if scope is None or not scope.name:
        return name
    return f"{scope.name}.{name}"


class _Builder:
    """Turns _Captures into a FileSymbols."""

    def __init__(self, config: _Config, text: str, raw: bytes, found: _Captures) -> None:
        self.config = config
        self.found = found
        self.chars = _Chars(text, raw)
        self.module = _Scope("", "module", None)
        self.scope_of: dict[_Key, _Scope] = {}
        self.definitions: list[Definition] = []
        self.references: list[Reference] = []
        self.imports: list[Import] = []
        self.events: list[tuple[int, int, _Scope | None]] = []

    def build(self, has_errors: bool) -> FileSymbols:
        self._place_scopes()
        self._place_bindings()
        self._place_references()
        return FileSymbols(
            language=self.config.name,
            definitions=tuple(sorted(self.definitions, key=lambda d: (d.start, d.end))),
            references=tuple(self.references),
            imports=_dedupe_imports(self.imports),
            has_errors=has_errors,
            scopes=self._scope_names(),
        )

    def _scope_names(self) -> dict[str, _Scope]:
        """Scopes by qualified name; same-named scopes (two lambdas in f) share their bindings."""
        names: dict[str, _Scope] = {"": self.module}
        for scope in self.scope_of.values():
            first = names.setdefault(scope.name, scope)
            if first is not scope:
                for name, binding in scope.bindings.items():
                    first.bindings.setdefault(name, binding)
                first.declared_global |= scope.declared_global
                first.declared_nonlocal |= scope.declared_nonlocal
                first.bases.extend(scope.bases)
                first.open |= scope.open
        for scope in names.values():
            for base in scope.bases:
                if (parent := names.get(base)) is not None and parent.kind == "class":
                    parent.derived = True
        return names

    def _place_scopes(self) -> None:
        """Create every scope, find its parent, and name it after its parent."""
        events: list[tuple[int, int, _Scope | None]] = []
        receivers = {d.scope: d.receiver for d in self.found.defs.values() if d.scope}
        for key, (kind, name, start, end) in self.found.scopes.items():
            scope = _Scope(name, kind, None)
            scope.open = key in self.found.open_classes
            scope.bases = self.found.bases.get(key, [])
            self.scope_of[key] = scope
            events.append((start, end, scope))
        events.extend((start, end, None) for start, end in self.found.outer)
        placer = _Placer(self.module, events)
        for start, _end, _scope in placer.events:
            placer.at(start)
        ranges = self.found.scopes
        for key, scope in sorted(
            self.scope_of.items(), key=lambda i: (ranges[i[0]][2], -ranges[i[0]][3])
        ):
            own = scope.name
            receiver = receivers.get(key)
            if receiver:
                scope.parent = self.module
                own = f"{receiver}.{own}"
            scope.name = _qualify(scope.parent, own)
        self.events = placer.events

    def _place_bindings(self) -> None:
        """Place definitions, bindings, parameters and imports in one sweep of the offsets."""
        found = self.found
        items: list[tuple[int, int, Any]] = []
        for d in found.defs.values():
            if d.scope is not None and d.scope in self.scope_of:
                # A definition that opens a scope is bound in the scope around it.
                self._add_definition(d, self.scope_of[d.scope].parent or self.module)
            else:
                items.append((d.node.start_byte, 0, d))
        items.extend((node.start_byte, 1, (kind, node)) for kind, node in found.bindings)
        for params in found.params.values():
            for kind, node in params:
                if kind in _BINDING_PARAMS:
                    items.append((node.start_byte, 1, ("local", node)))
        items.extend((node.start_byte, 2, (node, obj)) for _kind, node, obj in found.stores)
        items.extend((imp[0].start_byte, 3, imp) for imp in found.imports)
        items.sort(key=lambda i: (i[0], i[1]))
        placer = _Placer(self.module, self.events)
        for start, tag, item in items:
            scope = placer.at(start)
            if tag == 0:
                self._add_definition(item, scope)
            elif tag == 1:
                self._bind(scope, *item)
            elif tag == 2:
                self._store(scope, *item)
            else:
                self._import(scope, *item)

    def _add_definition(self, d: _Def, scope: _Scope) -> None:
        name = _text(d.name)
        kind = d.kind
        scope_name = scope.name
        if d.receiver:
            scope_name = d.receiver
        if kind == "function" and (scope.kind == "class" or d.receiver):
            kind = "method"
        if kind in ("variable", "constant") and scope.kind not in ("module", "class"):
            _bind_local(scope, name)
            return
        signature = None
        if d.signature is not None:
            signature = self._signature(d, kind == "method")
        definition = Definition(
            name=name,
            kind=kind,
            scope=scope_name,
            start=self.chars(d.node.start_byte),
            end=self.chars(d.node.end_byte),
            signature=signature,
        )
        self.definitions.append(definition)
        existing = scope.bindings.get(name)
        if not isinstance(existing, Definition) or existing.kind in ("variable", "constant"):
            scope.bindings[name] = definition

    def _signature(self, d: _Def, method: bool) -> Signature:
        params = self.found.params.get(d.signature, []) if d.signature is not None else []
        entries = sorted(params, key=lambda e: e[1].start_byte)
        static = d.scope in self.found.static
        if method and self.config.receiver_param and not static:
            for i, (kind, _node) in enumerate(entries):
                if kind in ("required", "optional"):
                    del entries[i]
                    break
        return _make_signature([(kind, _text(node)) for kind, node in entries])

    def _bind(self, scope: _Scope, kind: str, node: Node) -> None:
        name = _text(node)
        if kind == "global":
            scope.declared_global.add(name)
        elif kind == "nonlocal":
            scope.declared_nonlocal.add(name)
        else:
            _bind_local(scope, name)
            self._note_made(scope, name, self.found.made.get(node.id) if kind == "local" else None)
        if kind != "local.bind":
            self.found.skip.add(node.id)

    def _note_made(self, scope: _Scope, name: str, made: str | None) -> None:
        """One more binding of `name` (by a call of class `made`, or otherwise: None), kept in
        the scope that holds the name (`Scope.made`)."""
        holder: _Scope | None = scope
        if name in scope.declared_global:
            while holder is not None and holder.parent is not None:
                holder = holder.parent
        elif name in scope.declared_nonlocal:  # rebinds an outer function's name: no guess
            holder, made = _holder(self.config, scope.parent, name), None
        if holder is None:
            return
        if name not in holder.made:
            holder.made[name] = made
        elif holder.made[name] != made:
            holder.made[name] = None

    def _store(self, scope: _Scope, node: Node, obj: str) -> None:
        """`self.x = ...` in a method: x becomes an attribute of the class."""
        if obj not in self.config.self_names:
            return
        owner = _enclosing_class(scope)
        if owner is None:
            return
        name = _text(node)
        if name in owner.bindings:
            return
        statement = node.parent.parent if node.parent and node.parent.parent else node
        definition = Definition(
            name=name,
            kind="attribute",
            scope=owner.name,
            start=self.chars(statement.start_byte),
            end=self.chars(statement.end_byte),
        )
        self.definitions.append(definition)
        owner.bindings[name] = definition

    def _import(
        self,
        scope: _Scope,
        node: Node,
        caps: dict[str, Node],
        settings: Mapping[str, str | None],
    ) -> None:
        if "import.tree" in caps:
            for module, name, alias, star in _use_tree(caps["import.tree"], ""):
                self._add_import(scope, node, module, name, alias, star)
            return
        module_node = caps.get("import.module")
        module = _strip_quotes(_text(module_node)) if module_node is not None else ""
        module = settings.get("import.module") or module
        name_node = caps.get("import.name")
        name = _text(name_node) if name_node is not None else settings.get("import.name")
        alias_node = caps.get("import.alias")
        star = "import.star" in caps
        if alias_node is not None:
            alias = _text(alias_node)
        elif star:
            alias = "*"
        elif name is not None:
            alias = name.rsplit(self.config.separator, 1)[-1]
        else:
            alias = _module_binding(module, self.config)
        self._add_import(scope, node, module, name, alias, star)

    def _add_import(
        self, scope: _Scope, node: Node, module: str, name: str | None, alias: str, star: bool
    ) -> None:
        imported = Import(
            module=module,
            name=name,
            alias=alias,
            scope=scope.name,
            start=self.chars(node.start_byte),
            end=self.chars(node.end_byte),
            star=star,
        )
        self.imports.append(imported)
        if star:
            scope.bindings.setdefault("*", imported)
        elif alias and scope.bindings.get(alias) is None:
            scope.bindings[alias] = imported

    def _place_references(self) -> None:
        found = self.found
        skip = found.skip | set(found.members) | {d.name.id for d in found.defs.values()}
        for params in found.params.values():
            skip.update(node.id for _kind, node in params)
        items: list[tuple[int, Node, Node | None]] = [
            (node.start_byte, node, None)
            for key, node in found.references.items()
            if key not in skip
        ]
        items.extend(
            (node.start_byte, node, obj)
            for key, (node, obj) in found.members.items()
            if key not in found.skip
        )
        items.sort(key=lambda i: i[0])
        aliases = {i.alias: i for i in self.imports if i.alias and not i.star}
        placer = _Placer(self.module, self.events)
        for start, node, obj in items:
            scope = placer.at(start)
            key = node.id
            call = _call(found, found.calls[key]) if key in found.calls else None
            qualifier = "" if obj is None else self._qualifier(obj, aliases)
            named = obj is not None and qualifier == "?" and obj.type == "identifier"
            receiver = _text(obj) if named and obj is not None else ""
            before = node.prev_sibling
            if obj is None and before is not None and before.type in (".", "::", "->"):
                qualifier = "?"  # a member inside an unparsed token tree (a Rust macro's args)
            self.references.append(
                Reference(
                    name=_text(node),
                    scope=scope.name,
                    start=self.chars(node.start_byte),
                    end=self.chars(node.end_byte),
                    qualifier=qualifier,
                    call=call,
                    receiver=receiver,
                )
            )

    def _qualifier(self, obj: Node, aliases: Mapping[str, Import]) -> str:
        text = _text(obj)
        if text in self.config.self_names:
            return self.config.self_names[0]
        compact = "".join(text.split())
        if not _DOTTED.fullmatch(compact):
            return "?"
        first = re.split(r"\.|::", compact, maxsplit=1)[0]
        imported = aliases.get(first)
        if imported is None or not _module_like(imported, self.config):
            return "?"
        return compact


_DOTTED = re.compile(r"[\w$]+(?:(?:\.|::)[\w$]+)*")


def _module_like(imported: Import, config: _Config) -> bool:
    """Whether an import's alias may name a module (so `alias.x` looks x up in that module).

    Python's `from pkg import name` may bind a module or anything else: lower-case names are
    taken for modules (PEP 8 names classes in CapWords).
    """
    if imported.name is None or config.name != "python":
        return True
    return imported.name[:1].islower() or imported.name[:1] == "_"


def _dedupe_imports(imports: list[Import]) -> tuple[Import, ...]:
    """Two patterns may read one import both ways (Java `import static a.B.m`): keep the named."""
    named = {(i.start, i.alias) for i in imports if i.name is not None}
    return tuple(i for i in imports if i.name is not None or (i.start, i.alias) not in named)


_UseItem = tuple[str, str | None, str, bool]


def _use_tree(node: Node, prefix: str) -> list[_UseItem]:
    """Expand a Rust use tree into (module, name, alias, star) items."""
    kind = node.type
    if kind == "use_as_clause":
        path, alias = node.child_by_field_name("path"), node.child_by_field_name("alias")
        if path is None or alias is None:
            return []
        return [(m, n, _text(alias), s) for m, n, _a, s in _use_path(prefix, _text(path))]
    if kind == "use_wildcard":
        inner = node.named_children[0] if node.named_children else None
        module = _join_path(prefix, _text(inner)) if inner is not None else prefix
        return [(module, None, "*", True)]
    if kind == "scoped_use_list":
        path, items = node.child_by_field_name("path"), node.child_by_field_name("list")
        joined = _join_path(prefix, _text(path)) if path is not None else prefix
        return _use_tree(items, joined) if items is not None else []
    if kind == "use_list":
        return [item for child in node.named_children for item in _use_tree(child, prefix)]
    return _use_path(prefix, _text(node))


def _use_path(prefix: str, path: str) -> list[_UseItem]:
    full = _join_path(prefix, path)
    module, _, name = full.rpartition("::")
    if name == "self" and module:  # `use a::b::{self}` imports the module b
        module, _, name = module.rpartition("::")
    if not module:
        return [(name, None, name, False)]
    return [(module, name, name, False)]


def _join_path(prefix: str, path: str) -> str:
    path = "".join(path.split())
    return f"{prefix}::{path}" if prefix else path


def _strip_quotes(text: str) -> str:
    return text.strip("\"'`")


def _module_binding(module: str, config: _Config) -> str:
    if config.import_binds == "whole":
        return module
    parts = [p for p in re.split(r"\.|::|/", module) if p]
    if not parts:
        return ""
    return parts[0] if config.import_binds == "first" else parts[-1]


def _bind_local(scope: _Scope, name: str) -> None:
    """Bind a name in a scope, or in the module when the scope declares it global."""
    if name in scope.declared_global:
        while scope.parent is not None:
            scope = scope.parent
    scope.bindings.setdefault(name, None)


def _enclosing_class(scope: _Scope | None) -> _Scope | None:
    while scope is not None and scope.kind != "class":
        scope = scope.parent
    return scope


def _make_signature(entries: Iterable[tuple[str, str]]) -> Signature:
    params: list[str] = []
    required = 0
    keyword_only: list[str] = []
    required_keyword: list[str] = []
    variadic = varkw = after_star = False
    positional_only = 0
    for kind, name in entries:
        if kind == "positional_marker":
            positional_only = len(params)
        elif kind == "keyword_marker":
            after_star = True
        elif kind == "rest":
            variadic = after_star = True
        elif kind == "kwrest":
            varkw = True
        elif kind in ("required", "optional", "unnamed"):
            if after_star:
                keyword_only.append(name)
                if kind == "required":
                    required_keyword.append(name)
            else:
                params.append(name)
                required += kind != "optional"
    return Signature(
        params=tuple(params),
        required=required,
        keyword_only=tuple(keyword_only),
        required_keyword=tuple(required_keyword),
        variadic=variadic,
        varkw=varkw,
        positional_only=positional_only,
    )


# ---- entry points ----------------------------------------------------------------------------


def _symbols(config: _Config, text: str) -> FileSymbols:
    raw = text.encode("utf-8")
    tree = config.parser.parse(raw)
    found = _collect(config, tree.root_node)
    return _Builder(config, text, raw, found).build(tree.root_node.has_error)


@functools.lru_cache(maxsize=256)
def _cached(language: str, text: str) -> FileSymbols | None:
    config = _config(language)
    if config is None:
        return None
    return _symbols(config, text)


def reports_unresolved(path: str) -> bool:
    """Whether `resolve` says "unresolved" (not "unknown") for names bound nowhere in a file of
    this path's language (the profile's `symbols_unbound`): only then is it a certain error."""
    profile = profile_for(path)
    config = _config(profile.name) if profile is not None else None
    return config is not None and config.unbound == "unresolved"


def file_symbols(path: str, text: str) -> FileSymbols | None:
    """The symbols of a file, or None when no grammar (or no symbols query) handles the path.

    Cached by (language, text) in a bounded LRU: a text is parsed once however often it is asked.
    """
    profile = profile_for(path)
    if profile is None:
        return None
    return _cached(profile.name, text)


_WRAPPER = "__fragment__"


def fragment_symbols(language: str, text: str) -> FileSymbols:
    """The symbols of one unit's text parsed on its own, offsets relative to `text`.

    An indented Python unit and a Java member cannot stand alone: they are wrapped in a class
    whose name is then hidden (scopes read as if the unit were at the top), and whose members
    are open (`self.x` not in the fragment is "unknown", not "unresolved").
    """
    config = _config(language)
    if config is None:
        raise ValueError(f"The language {language!r} has no symbols query.")
    prefix, suffix = _wrapping(language, text)
    if not prefix:
        return _symbols(config, text)
    wrapped = _symbols(config, prefix + text + suffix)
    if language == "java" and wrapped.has_errors:
        plain = _symbols(config, text)
        if not plain.has_errors:
            return plain
    return _unwrap(wrapped, len(prefix), len(text))


def _wrapping(language: str, text: str) -> tuple[str, str]:
    if language == "python":
        first = next((line for line in text.splitlines() if line.strip()), "")
        if first[:1] in (" ", "\t"):
            return f"class {_WRAPPER}({_WRAPPER}):\n", ""
        return "", ""
    if language == "java":
        return f"class {_WRAPPER} extends {_WRAPPER} {{\n", "\n}"
    return "", ""


def _unwrap(symbols: FileSymbols, shift: int, length: int) -> FileSymbols:
    def scope(name: str) -> str:
        if name == _WRAPPER:
            return ""
        return name.removeprefix(_WRAPPER + ".")

    def inside(start: int, end: int) -> bool:
        return start >= shift and end <= shift + length

    definitions = tuple(
        replace(d, scope=scope(d.scope), start=d.start - shift, end=d.end - shift)
        for d in symbols.definitions
        if inside(d.start, d.end)
    )
    references = tuple(
        replace(r, scope=scope(r.scope), start=r.start - shift, end=r.end - shift)
        for r in symbols.references
        if inside(r.start, r.end)
    )
    imports = tuple(
        replace(i, scope=scope(i.scope), start=i.start - shift, end=i.end - shift)
        for i in symbols.imports
        if inside(i.start, i.end)
    )
    scopes = dict(symbols.scopes)
    for name, value in symbols.scopes.items():
        if name == _WRAPPER or name.startswith(_WRAPPER + "."):
            scopes[scope(name)] = value
    return replace(
        symbols, definitions=definitions, references=references, imports=imports, scopes=scopes
    )


# ---- resolution ------------------------------------------------------------------------------

_OBJECT_MEMBERS = frozenset(dir(object))


def resolve(symbols: FileSymbols, ref: Reference) -> Resolution:
    """Where a reference's name comes from, with the language's scoping rules where known."""
    config = _config(symbols.language)
    if config is None:
        return Resolution("unknown")
    scope = symbols.scopes.get(ref.scope, symbols.scopes.get(""))
    if ref.qualifier == "":
        return _resolve_bare(config, symbols, scope, ref.name)
    if ref.qualifier == "?":
        return _resolve_through(config, symbols, scope, ref) if ref.receiver else _UNKNOWN
    if config.self_names and ref.qualifier == config.self_names[0]:
        return _resolve_member(config, symbols, _enclosing_class(scope), ref.name, set())
    first = re.split(r"\.|::", ref.qualifier, maxsplit=1)[0]
    found = _lookup(config, scope, first)
    if isinstance(found, Import):
        return Resolution("imported", imported=found)
    return Resolution("unknown")


_UNKNOWN = Resolution("unknown")


def _resolve_through(
    config: _Config, symbols: FileSymbols, scope: _Scope | None, ref: Reference
) -> Resolution:
    """`cart.add` where `cart` was bound, in the scope it is found in, only by `cart =
    Cart(...)` with Cart a class of this file: a member of Cart. Anything else is unknown."""
    holder = _holder(config, scope, ref.receiver)
    made = holder.made.get(ref.receiver) if holder is not None else None
    if holder is None or made is None:
        return _UNKNOWN
    found = _lookup(config, holder, made)
    if not isinstance(found, Definition) or found.kind != "class":
        return _UNKNOWN
    owner = symbols.scopes.get(f"{found.scope}.{found.name}" if found.scope else found.name)
    if owner is None or owner.kind != "class":
        return _UNKNOWN
    # (an instance of exactly this class: not a mixin of some subclass, see _resolve_member)
    member = _resolve_member(config, symbols, owner, ref.name, {"<receiver>"})
    if member.status == config.unbound:
        return Resolution("unknown", member_of=found.name)
    return member


def _holder(config: _Config, scope: _Scope | None, name: str) -> _Scope | None:
    """The scope whose binding of a bare name a lookup from `scope` finds; None if none."""
    innermost = True
    while scope is not None:
        if name in scope.declared_global:
            while scope.parent is not None:
                scope = scope.parent
            innermost = False
            continue
        skip_class = scope.kind == "class" and not innermost and not config.class_encloses
        if not skip_class and name not in scope.declared_nonlocal and name in scope.bindings:
            return scope
        innermost = False
        scope = scope.parent
    return None


def _lookup(config: _Config, scope: _Scope | None, name: str) -> Definition | Import | bool | None:
    """The binding of a bare name seen from a scope: False when nothing binds it."""
    holder = _holder(config, scope, name)
    return holder.bindings[name] if holder is not None else False


def _resolve_bare(
    config: _Config, symbols: FileSymbols, scope: _Scope | None, name: str
) -> Resolution:
    found = _lookup(config, scope, name)
    if isinstance(found, Definition):
        return Resolution("defined", definition=found)
    if isinstance(found, Import):
        return Resolution("imported", imported=found)
    if found is None:
        return Resolution("local")
    if name in config.builtins:
        return Resolution("builtin")
    if any(i.star for i in symbols.imports):
        return Resolution("unknown")
    return Resolution(config.unbound)


def _resolve_member(
    config: _Config, symbols: FileSymbols, owner: _Scope | None, name: str, seen: set[str]
) -> Resolution:
    """`self.name`: a member of the class, of a base defined in this file, or of object."""
    if owner is None or owner.name in seen:
        return Resolution("unknown")
    seen.add(owner.name)
    found = owner.bindings.get(name, False)
    if isinstance(found, Definition):
        return Resolution("defined", definition=found)
    if found is not False:
        return Resolution("unknown")
    # A mixin's self.x may come from a sibling base; dunders from the runtime or a metaclass.
    # (Only the class of self counts as a possible mixin: its bases are searched as its bases.)
    unknown = owner.open or (owner.derived and not seen - {owner.name}) or name.startswith("__")
    unknown = unknown or "__getattr__" in owner.bindings
    for base in owner.bases:
        if base == "object":
            continue
        base_scope = symbols.scopes.get(base)
        if base_scope is None or base_scope.kind != "class":
            unknown = True
            continue
        inherited = _resolve_member(config, symbols, base_scope, name, seen)
        if inherited.status != config.unbound:
            return inherited
    if config.name == "python" and name in _OBJECT_MEMBERS:
        return Resolution("builtin")
    return Resolution("unknown" if unknown else config.unbound)
