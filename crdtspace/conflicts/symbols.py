"""Symbols of source text: definitions, references, calls and imports, for semantic conflicts.

What a language knows is data: grammars/<lang>/symbols.scm captures the facts (its header lists
the capture names) and the ``symbols_*`` keys of profile.toml say how to read them. The query is
run once over a file (`symbolquery`); this module places every capture in its scope with one
sweep over sorted offsets (no per-node recursion) and builds the file's `FileSymbols`, whose
values, and the answer to where a reference's name comes from, are in `symboltable`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tree_sitter import Node

from crdtspace.conflicts.symbolquery import (
    Captures,
    Chars,
    Config,
    Def,
    Key,
    collect,
    language_config,
    node_text,
)
from crdtspace.conflicts.symboltable import (
    Call,
    Definition,
    FileSymbols,
    Import,
    Placer,
    Reference,
    Scope,
    Signature,
    bind_local,
    binding_scope,
    enclosing_class,
    make_signature,
    qualify,
)
from crdtspace.model.languages import profile_for

_BINDING_PARAMS = frozenset({"required", "optional", "rest", "kwrest"})


def _call(found: Captures, arguments: Key | None) -> Call:
    if arguments is None:
        return Call(positional=1)
    kinds = found.arguments.get(arguments, {}).values()
    keywords = tuple(node_text(k) for k in found.keywords.get(arguments, []))
    return Call(
        positional=sum(1 for k in kinds if k == "positional"),
        keywords=keywords,
        splat=any(k == "splat" for k in kinds),
    )


# ---- placing captures in scopes --------------------------------------------------------------


class _Builder:
    """Turns Captures into a FileSymbols."""

    def __init__(self, config: Config, text: str, raw: bytes, found: Captures) -> None:
        self.config = config
        self.found = found
        self.chars = Chars(text, raw)
        self.module = Scope("", "module", None)
        self.scope_of: dict[Key, Scope] = {}
        self.definitions: list[Definition] = []
        self.references: list[Reference] = []
        self.imports: list[Import] = []
        self.events: list[tuple[int, int, Scope | None]] = []

    def build(self, has_errors: bool, references: bool = True) -> FileSymbols:
        """The symbols; without `references`, the references are left out (nothing else
        depends on them: placing them changes no scope, binding or definition)."""
        self._place_scopes()
        self._place_bindings()
        if references:
            self._place_references()
        return FileSymbols(
            language=self.config.name,
            definitions=tuple(sorted(self.definitions, key=lambda d: (d.start, d.end))),
            references=tuple(self.references),
            imports=_dedupe_imports(self.imports),
            has_errors=has_errors,
            scopes=self._scope_names(),
            fields=dict(self.found.fields),
            open_types=frozenset(self.found.open_types),
        )

    def _scope_names(self) -> dict[str, Scope]:
        """Scopes by qualified name; same-named scopes (two lambdas in f) share their bindings."""
        names: dict[str, Scope] = {"": self.module}
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
        events: list[tuple[int, int, Scope | None]] = []
        receivers = {d.scope: d.receiver for d in self.found.defs.values() if d.scope}
        for key, (kind, name, start, end) in self.found.scopes.items():
            scope = Scope(name, kind, None)
            scope.open = key in self.found.open_classes
            scope.bases = self.found.bases.get(key, [])
            self.scope_of[key] = scope
            events.append((start, end, scope))
        events.extend((start, end, None) for start, end in self.found.outer)
        placer = Placer(self.module, events)
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
            scope.name = qualify(scope.parent, own)
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
        placer = Placer(self.module, self.events)
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

    def _add_definition(self, d: Def, scope: Scope) -> None:
        name = node_text(d.name)
        kind = d.kind
        scope_name = scope.name
        if d.receiver:
            scope_name = d.receiver
        if kind == "function" and (scope.kind == "class" or d.receiver):
            kind = "method"
        if kind in ("variable", "constant") and scope.kind not in ("module", "class"):
            bind_local(scope, name)
            return
        signature = None
        if d.signature is not None:
            signature = self._signature(d, kind == "method")
        returns = d.returns
        if returns == "Self":  # Rust: the type of the impl block around
            returns = scope_name.rsplit(".", 1)[-1] if scope_name else ""
        definition = Definition(
            name=name,
            kind=kind,
            scope=scope_name,
            start=self.chars(d.node.start_byte),
            end=self.chars(d.node.end_byte),
            signature=signature,
            returns=returns,
        )
        self.definitions.append(definition)
        existing = scope.bindings.get(name)
        if not isinstance(existing, Definition) or existing.kind in ("variable", "constant"):
            scope.bindings[name] = definition

    def _signature(self, d: Def, method: bool) -> Signature:
        params = self.found.params.get(d.signature, []) if d.signature is not None else []
        entries = sorted(params, key=lambda e: e[1].start_byte)
        static = d.scope in self.found.static
        if method and self.config.receiver_param and not static:
            for i, (kind, _node) in enumerate(entries):
                if kind in ("required", "optional"):
                    del entries[i]
                    break
        return make_signature([(kind, node_text(node)) for kind, node in entries])

    def _bind(self, scope: Scope, kind: str, node: Node) -> None:
        name = node_text(node)
        if kind == "global":
            scope.declared_global.add(name)
        elif kind == "nonlocal":
            scope.declared_nonlocal.add(name)
        else:
            bind_local(scope, name)
            made = self.found.typed.get(node.id) or self.found.made.get(node.id)
            self._note_made(scope, name, made if kind == "local" else None)
        if kind != "local.bind":
            self.found.skip.add(node.id)

    def _note_made(self, scope: Scope, name: str, made: str | None) -> None:
        """One more binding of `name` (by a call of class `made`, or otherwise: None), kept in
        the scope that holds the name (`Scope.made`)."""
        holder: Scope | None = scope
        if name in scope.declared_global:
            while holder is not None and holder.parent is not None:
                holder = holder.parent
        elif name in scope.declared_nonlocal:  # rebinds an outer function's name: no guess
            holder, made = binding_scope(self.config, scope.parent, name), None
        if holder is None:
            return
        if name not in holder.made:
            holder.made[name] = made
        elif holder.made[name] != made:
            holder.made[name] = None

    def _store(self, scope: Scope, node: Node, obj: str) -> None:
        """`self.x = ...` in a method: x becomes an attribute of the class."""
        if obj not in self.config.self_names:
            return
        owner = enclosing_class(scope)
        if owner is None:
            return
        name = node_text(node)
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
        scope: Scope,
        node: Node,
        caps: dict[str, Node],
        settings: Mapping[str, str | None],
    ) -> None:
        if "import.tree" in caps:
            for module, name, alias, star in _use_tree(caps["import.tree"], ""):
                self._add_import(scope, node, module, name, alias, star)
            return
        module_node = caps.get("import.module")
        module = _strip_quotes(node_text(module_node)) if module_node is not None else ""
        module = settings.get("import.module") or module
        name_node = caps.get("import.name")
        name = node_text(name_node) if name_node is not None else settings.get("import.name")
        alias_node = caps.get("import.alias")
        star = "import.star" in caps
        if alias_node is not None:
            alias = node_text(alias_node)
        elif star:
            alias = "*"
        elif name is not None:
            alias = name.rsplit(self.config.separator, 1)[-1]
        else:
            alias = _module_binding(module, self.config)
        self._add_import(scope, node, module, name, alias, star)

    def _add_import(
        self, scope: Scope, node: Node, module: str, name: str | None, alias: str, star: bool
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
        placer = Placer(self.module, self.events)
        for start, node, obj in items:
            scope = placer.at(start)
            key = node.id
            call = _call(found, found.calls[key]) if key in found.calls else None
            qualifier = "" if obj is None else self._qualifier(obj, aliases, scope)
            named = obj is not None and qualifier == "?" and obj.type == "identifier"
            receiver = node_text(obj) if named and obj is not None else ""
            before = node.prev_sibling
            if obj is None and before is not None and before.type in (".", "::", "->"):
                qualifier = "?"  # a member inside an unparsed token tree (a Rust macro's args)
            typed = ""
            member = qualifier in ("?", *self.config.self_names)
            if obj is not None and self.config.typed and member:
                typed = self._receiver_type(obj, scope, 0)
            self.references.append(
                Reference(
                    name=node_text(node),
                    scope=scope.name,
                    start=self.chars(node.start_byte),
                    end=self.chars(node.end_byte),
                    qualifier=qualifier,
                    call=call,
                    receiver=receiver,
                    receiver_type=typed,
                )
            )

    def _receiver_type(self, obj: Node, scope: Scope, depth: int) -> str:
        """What this file says of a receiver's type (see `Reference.receiver_type`)."""
        text = node_text(obj)
        if text in self.config.self_names or self._self_alias(text, scope):
            owner = enclosing_class(scope)
            return owner.name.rsplit(".", 1)[-1] if owner is not None else ""
        if obj.type in ("identifier", "type_identifier"):
            return self._name_type(text, scope)
        fields = _MEMBER_FIELDS.get(obj.type)
        if fields is None or depth > 1:
            return ""
        inner, member = obj.child_by_field_name(fields[0]), obj.child_by_field_name(fields[1])
        if inner is None or member is None:
            return ""
        base = self._receiver_type(inner, scope, depth + 1)
        if base and base != "-" and ":" not in base:
            return f"field:{base}.{node_text(member)}"
        return "-" if base == "-" else ""

    def _name_type(self, name: str, scope: Scope) -> str:
        holder = binding_scope(self.config, scope, name)
        if holder is None:  # another file's type (`Prices.withTax`), a builtin, or not known
            if name in self.config.builtins:
                return "-"
            return name if name[:1].isupper() else ""
        binding = holder.bindings.get(name)
        if isinstance(binding, Import):
            return name if binding.name is not None else "-"
        if isinstance(binding, Definition):
            if binding.kind in ("class", "type"):
                return name
            if holder.kind == "class":  # a field, by its bare name (Java)
                return f"field:{holder.name.rsplit('.', 1)[-1]}.{name}"
            return ""
        made = holder.made.get(name) or ""
        if not made.startswith("call:") or _PLAIN.fullmatch(made[len("call:") :]):
            return made
        call = _METHOD_CALL.fullmatch(made[len("call:") :])
        if call is None or call["head"] == name:
            return ""
        where = binding_scope(self.config, scope, call["head"])
        head = where.bindings.get(call["head"]) if where is not None else None
        if isinstance(head, Import) and head.name is None:
            return "-"  # a function of another package (Go `bufio.NewWriter`)
        owner = self._name_type(call["head"], scope)
        return f"call:{owner}.{call['name']}" if owner and ":" not in owner and owner != "-" else ""

    def _qualifier(self, obj: Node, aliases: Mapping[str, Import], scope: Scope) -> str:
        text = node_text(obj)
        if text in self.config.self_names or self._self_alias(text, scope):
            return self.config.self_names[0]
        compact = "".join(text.split())
        if not _DOTTED.fullmatch(compact):
            return "?"
        first = re.split(r"\.|::", compact, maxsplit=1)[0]
        if self.config.separator == "::" and first in ("crate", "super"):
            return compact  # a module path of this crate (Rust)
        if self.config.separator == "::" and (path := self._module_path(first, compact, aliases)):
            return path
        imported = aliases.get(first)
        path_of = obj.parent is not None and obj.parent.type == "scoped_identifier"
        if self.config.separator == "::" and path_of and imported is None and first[:1].islower():
            return compact  # another crate's module (`std::env::current_dir()`): not a receiver
        if self.config.separator == "::" and compact == first and first[:1].isupper():
            return "?"  # an imported type's associated function (`Error::new`): its receiver
        if imported is None or not _module_like(imported, self.config):
            return "?"
        holder = binding_scope(self.config, scope, first)
        if holder is not None and not isinstance(holder.bindings.get(first), Import):
            return "?"  # a variable or field that hides the import (Java's `spy` and `spy()`)
        return compact

    def _self_alias(self, name: str, scope: Scope) -> bool:
        """A name bound only by `var self = this` (JavaScript): `self.x()` is `this.x()`."""
        if not self.config.self_names:
            return False
        holder = binding_scope(self.config, scope, name)
        return holder is not None and holder.made.get(name) == self.config.self_names[0]

    def _module_path(self, first: str, compact: str, aliases: Mapping[str, Import]) -> str:
        """Rust's `m::f` where `mod m;` declared m a module of this file: `self::m::f` (an
        imported module keeps its alias: `Semantics` follows the import). "" otherwise."""
        if not first[:1].islower() or first in aliases:
            return ""
        declared = self.module.bindings.get(first)
        if isinstance(declared, Definition) and declared.kind == "module":
            return f"self::{compact}"
        return ""


_MEMBER_FIELDS = {
    "selector_expression": ("operand", "field"),  # Go
    "field_expression": ("value", "field"),  # Rust
    "member_expression": ("object", "property"),  # JavaScript, TypeScript
    "field_access": ("object", "field"),  # Java
}

_PLAIN = re.compile(r"[\w$]+")
_METHOD_CALL = re.compile(r"(?P<head>[\w$]+)(?:::|\.)(?P<name>[\w$]+)")
_DOTTED = re.compile(r"[\w$]+(?:(?:\.|::)[\w$]+)*")


def _module_like(imported: Import, config: Config) -> bool:
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
        return [(m, n, node_text(alias), s) for m, n, _a, s in _use_path(prefix, node_text(path))]
    if kind == "use_wildcard":
        inner = node.named_children[0] if node.named_children else None
        module = _join_path(prefix, node_text(inner)) if inner is not None else prefix
        return [(module, None, "*", True)]
    if kind == "scoped_use_list":
        path, items = node.child_by_field_name("path"), node.child_by_field_name("list")
        joined = _join_path(prefix, node_text(path)) if path is not None else prefix
        return _use_tree(items, joined) if items is not None else []
    if kind == "use_list":
        return [item for child in node.named_children for item in _use_tree(child, prefix)]
    return _use_path(prefix, node_text(node))


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


def _module_binding(module: str, config: Config) -> str:
    if config.import_binds == "whole":
        return module
    parts = [p for p in re.split(r"\.|::|/", module) if p]
    if not parts:
        return ""
    return parts[0] if config.import_binds == "first" else parts[-1]


# ---- entry points ----------------------------------------------------------------------------


def _symbols(config: Config, text: str, references: bool = True) -> FileSymbols:
    raw = text.encode("utf-8")
    tree = config.profile.parser().parse(config.profile.for_parser(raw))
    found = collect(config, tree.root_node)
    return _Builder(config, text, raw, found).build(tree.root_node.has_error, references)


@functools.lru_cache(maxsize=256)
def _cached(language: str, text: str, references: bool = True) -> FileSymbols | None:
    config = language_config(language)
    if config is None:
        return None
    return _symbols(config, text, references)


def reports_unresolved(path: str) -> bool:
    """Whether `resolve` says "unresolved" (not "unknown") for names bound nowhere in a file of
    this path's language (the profile's `symbols_unbound`): only then is it a certain error."""
    profile = profile_for(path)
    config = language_config(profile.name) if profile is not None else None
    return config is not None and config.unbound == "unresolved"


def file_symbols(path: str, text: str, *, references: bool = True) -> FileSymbols | None:
    """The symbols of a file, or None when no grammar (or no symbols query) handles the path;
    without `references`, its references are left out (the rest is the same, for less work).

    Cached by (language, text) in a bounded LRU: a text is parsed once however often it is asked.
    """
    profile = profile_for(path)
    if profile is None:
        return None
    if not references:
        return _cached(profile.name, text, False)
    return _cached(profile.name, text)


_WRAPPER = "__fragment__"


def fragment_symbols(language: str, text: str, *, references: bool = True) -> FileSymbols:
    """The symbols of one unit's text parsed on its own, offsets relative to `text`; without
    `references`, its references are left out (the rest is the same, for less work).

    An indented Python unit and a Java member cannot stand alone: they are wrapped in a class
    whose name is then hidden (scopes read as if the unit were at the top), and whose members
    are open (`self.x` not in the fragment is "unknown", not "unresolved").
    """
    config = language_config(language)
    if config is None:
        raise ValueError(f"The language {language!r} has no symbols query.")
    prefix, suffix = _wrapping(language, text)
    if not prefix:
        return _symbols(config, text, references)
    if language in _MEMBERS_WRAPPED:  # a class member only where the text alone does not parse
        plain = _symbols(config, text, references)
        if not plain.has_errors:
            return plain
        wrapped = _symbols(config, prefix + text + suffix, references)
        return plain if wrapped.has_errors else _unwrap(wrapped, len(prefix), len(text))
    wrapped = _symbols(config, prefix + text + suffix, references)
    if language == "java" and wrapped.has_errors:
        plain = _symbols(config, text, references)
        if not plain.has_errors:
            return plain
    return _unwrap(wrapped, len(prefix), len(text))


_MEMBERS_WRAPPED = frozenset({"typescript", "tsx", "javascript"})


def _wrapping(language: str, text: str) -> tuple[str, str]:
    if language == "python":
        first = next((line for line in text.splitlines() if line.strip()), "")
        if first[:1] in (" ", "\t"):
            return f"class {_WRAPPER}({_WRAPPER}):\n", ""
        return "", ""
    if language == "java":
        return f"class {_WRAPPER} extends {_WRAPPER} {{\n", "\n}"
    if language in _MEMBERS_WRAPPED:
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
