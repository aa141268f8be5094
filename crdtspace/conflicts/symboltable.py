"""What a text defines, uses and imports, in which scope, and where each used name comes from.

The values `crdtspace.conflicts.symbols` builds (`FileSymbols` and its parts), the scopes it
places them in (`Scope`, found by `Placer`), and `resolve` with each language's scoping rules.

All offsets are characters, not bytes. Scopes are written qualified: "" is the module (file,
package), "Shelf" a class, "Shelf.add" a method, "outer.<lambda>" an anonymous scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crdtspace.conflicts.symbolquery import Config, language_config


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


def make_signature(entries: Iterable[tuple[str, str]]) -> Signature:
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


@dataclass(frozen=True)
class Definition:
    """A name defined in the text: a function, method, class, variable, type, attribute..."""

    name: str
    kind: str
    scope: str
    start: int
    end: int
    signature: Signature | None = None
    returns: str = ""  # the type a function returns (see `receiver_type`); "" if not declared


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
    receiver_type: str = ""
    """Typed languages, a member's receiver: its type as far as this file says. "" not known;
    "-" not a type of this repository; a type's name (`cart` declared a Cart, `this` in Cart,
    `Cart.create`); "call:f" or "call:T.f" what a call returns; "field:T.f" field f of type T.
    The other files of the package say the rest (`crdtspace.conflicts.semantics`)."""


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

    def binds(self, extern_prelude: bool) -> bool:
        """Whether the import binds a name nothing else would. With an extern prelude (the
        profile's `extern_prelude`: Rust since the 2018 edition) a crate's own name is bound
        everywhere, so ``use syn;`` binds nothing and removing it unbinds nothing (clippy's
        single_component_path_imports)."""
        return not (
            extern_prelude
            and self.name is None
            and self.alias == self.module
            and "::" not in self.module
            and self.module not in ("self", "super", "crate")
        )


@dataclass
class Scope:
    """One scope while resolving: what it binds and, for a class, what its instances have."""

    name: str
    kind: str
    parent: Scope | None
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
    scopes: Mapping[str, Scope] = field(default_factory=dict, repr=False, compare=False)
    fields: Mapping[tuple[str, str], str] = field(default_factory=dict, compare=False)
    """(type, field) -> the field's declared type (typed languages)."""
    open_types: frozenset[str] = frozenset()
    """Types that may have members this repository does not show (a superclass, an embedded
    type, a trait's provided methods)."""


@dataclass(frozen=True)
class Resolution:
    """Where a reference's name comes from."""

    status: str  # defined | imported | builtin | local | unresolved | unknown
    definition: Definition | None = None
    imported: Import | None = None
    member_of: str = ""
    """Through a receiver made by a class of this file (`cart = Cart()`) whose class has no
    such member: that class (the status is then "unknown": the variable's type is a guess)."""


# ---- scopes ----------------------------------------------------------------------------------


class Placer:
    """Finds the innermost scope around byte offsets, given in increasing order."""

    def __init__(self, module: Scope, scopes: list[tuple[int, int, Scope | None]]) -> None:
        self.events = sorted(scopes, key=lambda e: (e[0], -e[1]))
        self.next = 0
        self.stack: list[tuple[int, Scope]] = [(1 << 62, module)]

    def at(self, byte: int) -> Scope:
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


def qualify(scope: Scope | None, name: str) -> str:
    if scope is None or not scope.name:
        return name
    return f"{scope.name}.{name}"


def bind_local(scope: Scope, name: str) -> None:
    """Bind a name in a scope, or in the module when the scope declares it global."""
    if name in scope.declared_global:
        while scope.parent is not None:
            scope = scope.parent
    scope.bindings.setdefault(name, None)


def enclosing_class(scope: Scope | None) -> Scope | None:
    while scope is not None and scope.kind != "class":
        scope = scope.parent
    return scope


# ---- resolution ------------------------------------------------------------------------------

_OBJECT_MEMBERS = frozenset(dir(object))


def resolve(symbols: FileSymbols, ref: Reference) -> Resolution:
    """Where a reference's name comes from, with the language's scoping rules where known."""
    config = language_config(symbols.language)
    if config is None:
        return Resolution("unknown")
    scope = symbols.scopes.get(ref.scope, symbols.scopes.get(""))
    if ref.qualifier == "":
        return _resolve_bare(config, symbols, scope, ref.name)
    if ref.qualifier == "?":
        return _resolve_through(config, symbols, scope, ref) if ref.receiver else _UNKNOWN
    if config.self_names and ref.qualifier == config.self_names[0]:
        return _resolve_member(config, symbols, enclosing_class(scope), ref.name, set())
    first = re.split(r"\.|::", ref.qualifier, maxsplit=1)[0]
    found = _lookup(config, scope, first)
    if isinstance(found, Import):
        return Resolution("imported", imported=found)
    return Resolution("unknown")


_UNKNOWN = Resolution("unknown")


def _resolve_through(
    config: Config, symbols: FileSymbols, scope: Scope | None, ref: Reference
) -> Resolution:
    """`cart.add` where `cart` was bound, in the scope it is found in, only by `cart =
    Cart(...)` with Cart a class of this file: a member of Cart. Anything else is unknown."""
    holder = binding_scope(config, scope, ref.receiver)
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


def binding_scope(config: Config, scope: Scope | None, name: str) -> Scope | None:
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


def _lookup(config: Config, scope: Scope | None, name: str) -> Definition | Import | bool | None:
    """The binding of a bare name seen from a scope: False when nothing binds it."""
    holder = binding_scope(config, scope, name)
    return holder.bindings[name] if holder is not None else False


def _resolve_bare(
    config: Config, symbols: FileSymbols, scope: Scope | None, name: str
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
    config: Config, symbols: FileSymbols, owner: Scope | None, name: str, seen: set[str]
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
