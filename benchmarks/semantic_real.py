"""Semantic-conflict detection on real code: generated breaks in real repositories, per language.

Each case takes a real function or method of a mirrored repository (found with the project's
tree-sitter grammars) and a base version of its file(s); side A renames it, deletes it or changes
its parameter list (a required parameter added first, or the first one removed), updating the
calls it knows of; side B adds a call to it, a copy of a call already in the code, put before
another statement of the same function (or, for a cross-file case, in another file of the Go or
Java package or of the Rust crate). Look-alikes must stay clean: A renames or re-signs one
function and B copies a call of a different one, or A adds a parameter with a default (Python,
JavaScript, TypeScript) and B's copied call leaves it out.

One file: a 3-way merge through the merge driver in process
(`crdtspace.git.mergedriver.merge_files`), as git runs it. Several files: the base committed,
two replicas each writing their side's files, synced, analysed (as tests/scenario_support.py
replays a scenario). A case is flagged when a semantic conflict (certain or possible) names the
function; a look-alike with any semantic conflict is a false alarm.

Cases are chosen with a seeded random generator over the mirrors' HEAD commits, so runs compare.
Mirrors are read from /work/.mirror/<owner>+<name>/repo (bare git directories); a repository
that is not there is left out (and said so on stderr).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import parser, progress, report
from tree_sitter import Node

from crdtspace.model.languages import Profile, profile_for

MIRRORS = Path(os.environ.get("CRDTSPACE_MIRRORS", "/work/.mirror"))
SEMANTIC = frozenset({"dangling-reference", "signature-mismatch", "import-removed"})
MAX_FILE = 48 << 10  # bytes: larger files are left out (a merge of each costs more)
MAX_PACKAGE = 160 << 10  # bytes of a package (Go, Java) taken whole for a cross-file case


@dataclass(frozen=True)
class Lang:
    """What the generator needs to know of one language's syntax trees."""

    name: str
    repos: tuple[str, ...]
    ext: str
    functions: frozenset[str]
    calls: frozenset[str]
    new_param: str
    new_arg: str
    default_param: str = ""  # a parameter with a default ("" no look-alike of that kind)
    statement_end: str = ""  # appended to a call to make it a statement
    skip_dirs: tuple[str, ...] = ()


LANGS = {
    "python": Lang(
        "python",
        ("pallets+flask", "pallets+click"),
        ".py",
        frozenset({"function_definition"}),
        frozenset({"call"}),
        "extra",
        "None",
        "extra=None",
        skip_dirs=("docs/",),
    ),
    "javascript": Lang(
        "javascript",
        ("expressjs+express", "mochajs+mocha"),
        ".js",
        frozenset({"function_declaration", "method_definition"}),
        frozenset({"call_expression"}),
        "extra",
        "0",
        "extra = undefined",
        ";",
        ("docs/", "dist/", "node_modules/"),
    ),
    "typescript": Lang(
        "typescript",
        ("typeorm+typeorm", "ReactiveX+rxjs"),
        ".ts",
        frozenset({"function_declaration", "method_definition"}),
        frozenset({"call_expression"}),
        "extra: number",
        "0",
        "extra?: number",
        ";",
        ("docs/", "dist/"),
    ),
    "go": Lang(
        "go",
        ("gin-gonic+gin", "spf13+cobra", "urfave+cli"),
        ".go",
        frozenset({"function_declaration", "method_declaration"}),
        frozenset({"call_expression"}),
        "extra int",
        "0",
    ),
    "rust": Lang(
        "rust",
        ("serde-rs+serde", "clap-rs+clap"),
        ".rs",
        frozenset({"function_item"}),
        frozenset({"call_expression"}),
        "extra: usize",
        "0",
        statement_end=";",
    ),
    "java": Lang(
        "java",
        ("google+gson", "square+okhttp", "square+retrofit", "mockito+mockito"),
        ".java",
        frozenset({"method_declaration"}),
        frozenset({"method_invocation"}),
        "int extra",
        "0",
        statement_end=";",
    ),
}


# -- reading the mirrors ----------------------------------------------------------------------


def _git(repo: str, *args: str) -> str:
    git_dir = MIRRORS / repo / "repo"
    done = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


def source_files(lang: Lang, repo: str) -> list[tuple[str, int]]:
    """(path, size) of the repository's files of the language at HEAD, small enough."""
    out = []
    for line in _git(repo, "ls-tree", "-r", "-l", "HEAD").splitlines():
        meta, _, path = line.partition("\t")
        size = meta.split()[3]
        if not path.endswith(lang.ext) or size == "-" or path.endswith(".d.ts"):
            continue
        if any(path.startswith(d) or f"/{d}" in path for d in lang.skip_dirs):
            continue
        if 200 < int(size) <= MAX_FILE:
            out.append((path, int(size)))
    return out


def read(repo: str, path: str) -> str:
    return _git(repo, "show", f"HEAD:{path}")


# -- syntax ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Func:
    """A function or method definition."""

    name: str
    node: Node
    method: bool
    params: Node


@dataclass(frozen=True)
class CallSite:
    """A call of a name: the call node, its arguments, and its receiver's text ("" bare)."""

    name: str
    node: Node
    arguments: Node
    receiver: str


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _inside(node: Node, kinds: set[str]) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in kinds:
            return parent
        parent = parent.parent
    return None


def _text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def functions(lang: Lang, root: Node) -> list[Func]:
    out = []
    for node in walk(root):
        if node.type not in lang.functions:
            continue
        name, params = node.child_by_field_name("name"), node.child_by_field_name("parameters")
        if name is None or params is None or node.child_by_field_name("body") is None:
            continue
        if not _ordinary(lang, node, _text(name)) or _nested(lang, node):
            continue
        method = {
            "python": _inside(node, {"class_definition"}) is not None,
            "javascript": node.type == "method_definition",
            "typescript": node.type == "method_definition",
            "go": node.type == "method_declaration",
            "rust": _inside(node, {"impl_item"}) is not None,
            "java": "static" not in _text(node.child(0)).split(),
        }[lang.name]
        out.append(Func(_text(name), node, method, params))
    return out


def _nested(lang: Lang, node: Node) -> bool:
    """A function defined inside another one or a closure (seen only there)."""
    return enclosing_function(lang, node) is not None


def _ordinary(lang: Lang, node: Node, name: str) -> bool:
    """A function a rename or re-sign could be done to on its own (not an override, a
    constructor, an accessor, a trait implementation, a decorated one)."""
    if name.startswith("__") or name in ("constructor", "main", "init", "new", "toString"):
        return False
    head = _text(node)[: max(0, _text(node).find(name))]
    if lang.name in ("javascript", "typescript"):
        return not any(w in head.split() for w in ("get", "set", "static", "async", "*"))
    if lang.name == "python":
        return node.parent is None or node.parent.type != "decorated_definition"
    if lang.name == "java":
        mods = node.child(0)
        return mods is None or mods.type != "modifiers" or "@" not in _text(mods)
    if lang.name == "rust":
        impl = _inside(node, {"impl_item", "trait_item"})
        return impl is None or (
            impl.type == "impl_item" and impl.child_by_field_name("trait") is None
        )
    return True


def calls(lang: Lang, root: Node) -> list[CallSite]:
    out = []
    for node in walk(root):
        if node.type not in lang.calls:
            continue
        arguments = node.child_by_field_name("arguments")
        if arguments is None:
            continue
        if lang.name == "java":
            name, obj = node.child_by_field_name("name"), node.child_by_field_name("object")
            out.append(CallSite(_text(name), node, arguments, _text(obj)))
            continue
        fn = node.child_by_field_name("function")
        if fn is None:
            continue
        if fn.type == "identifier":
            out.append(CallSite(_text(fn), node, arguments, ""))
            continue
        member = {
            "python": ("attribute", "object"),
            "javascript": ("property", "object"),
            "typescript": ("property", "object"),
            "go": ("field", "operand"),
            "rust": ("field", "value"),
        }[lang.name]
        prop, obj = fn.child_by_field_name(member[0]), fn.child_by_field_name(member[1])
        if prop is not None and obj is not None:
            out.append(CallSite(_text(prop), node, arguments, _text(obj)))
        elif fn.type == "scoped_identifier" and (name := fn.child_by_field_name("name")):
            out.append(
                CallSite(_text(name), node, arguments, _text(fn.child_by_field_name("path")))
            )
    return out


def statements(lang: Lang, func: Node) -> list[Node]:
    """The statements of a function's body that start a line of their own."""
    body = func.child_by_field_name("body")
    if body is None or body.type not in ("block", "statement_block"):
        return []
    kids = [c for c in body.named_children if c.type != "comment"]
    if len(kids) == 1 and kids[0].type == "statement_list":  # (Go's newer grammar)
        kids = [c for c in kids[0].named_children if c.type != "comment"]
    if lang.name == "rust" and kids and not _text(kids[-1]).endswith((";", "}")):
        kids = kids[:-1]  # (the tail expression)
    return [k for k in kids if k.start_point[0] > func.start_point[0]]


_CLOSURES = frozenset(
    {
        "func_literal",
        "arrow_function",
        "function_expression",
        "function",
        "lambda_expression",
        "closure_expression",
    }
)


def enclosing_function(lang: Lang, node: Node) -> Node | None:
    """The innermost function or closure around a node (a copy of a call in it sees what the
    call sees)."""
    return _inside(node, set(lang.functions) | _CLOSURES | {"function_definition", "function_item"})


# -- edits -------------------------------------------------------------------------------------

Edit = tuple[int, int, str]  # (start byte, end byte, replacement)


def apply(raw: bytes, edits: Sequence[Edit]) -> str:
    out = raw
    for start, end, text in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + text.encode() + out[end:]
    return out.decode("utf-8", "replace")


def _params(lang: Lang, func: Func) -> list[Node]:
    """The parameters other than a receiver (self, cls, Rust's self)."""
    out = [p for p in func.params.named_children if p.type != "comment"]
    if lang.name == "python" and func.method and out and _text(out[0]) in ("self", "cls"):
        out = out[1:]
    if lang.name == "rust":
        out = [p for p in out if p.type != "self_parameter"]
    if lang.name in ("javascript", "typescript") and out and _text(out[0]).startswith("this"):
        out = out[1:]
    return out


def _param_slot(lang: Lang, func: Func) -> int:
    """The byte at which a first parameter goes (after a receiver)."""
    kids = [p for p in func.params.named_children if p.type != "comment"]
    rest = _params(lang, func)
    if len(rest) < len(kids):  # after the receiver
        return kids[len(kids) - len(rest) - 1].end_byte
    return func.params.start_byte + 1


def add_param(lang: Lang, func: Func, sites: list[CallSite], text: str = "") -> list[Edit]:
    """A required parameter first (after a receiver); each known call passes it."""
    rest = _params(lang, func)
    slot = _param_slot(lang, func)
    receiver = slot != func.params.start_byte + 1
    param = text or lang.new_param
    new = (", " if receiver else "") + param + (", " if rest else "")
    edits: list[Edit] = [(slot, slot, new)]
    for site in sites:
        has = bool([a for a in site.arguments.named_children if a.type != "comment"])
        at = site.arguments.start_byte + 1
        edits.append((at, at, lang.new_arg + (", " if has else "")))
    return edits


def add_default(lang: Lang, func: Func) -> list[Edit] | None:
    """A parameter with a default, last (a look-alike: calls without it still fit)."""
    rest = _params(lang, func)
    if any(p.type in _STARS for p in rest):
        return None
    if rest:
        return [(rest[-1].end_byte, rest[-1].end_byte, ", " + lang.default_param)]
    slot = _param_slot(lang, func)
    receiver = slot != func.params.start_byte + 1
    return [(slot, slot, (", " if receiver else "") + lang.default_param)]


_STARS = frozenset(
    {
        "list_splat_pattern",
        "dictionary_splat_pattern",
        "keyword_separator",
        "positional_separator",
        "rest_pattern",
        "spread_parameter",
        "variadic_parameter_declaration",
        "variadic_parameter",
    }
)
_PLAIN = frozenset(
    {"identifier", "typed_parameter", "required_parameter", "parameter", "formal_parameter"}
)


def remove_param(lang: Lang, func: Func, sites: list[CallSite]) -> list[Edit] | None:
    """The first parameter removed (a required, plain one); each known call drops its first
    argument. None when that cannot be done simply."""
    rest = _params(lang, func)
    if not rest:
        return None
    first = rest[0]
    plain = first.type in _PLAIN or (
        lang.name == "go"
        and first.type == "parameter_declaration"
        and len(first.children_by_field_name("name")) == 1
    )
    if not plain or (lang.name == "typescript" and "?" in _text(first)):
        return None
    # (the only one: up to the closing parenthesis, a trailing comma with it)
    alone = func.params.end_byte - 1
    edits = [(first.start_byte, rest[1].start_byte if len(rest) > 1 else alone, "")]
    for site in sites:
        args = [a for a in site.arguments.named_children if a.type != "comment"]
        if not args or args[0].type in (
            "keyword_argument",
            "list_splat",
            "dictionary_splat",
            "spread_element",
            "variadic_argument",
        ):
            return None
        end = args[1].start_byte if len(args) > 1 else site.arguments.end_byte - 1
        edits.append((args[0].start_byte, end, ""))
    return edits


def rename(lang: Lang, func: Func, sites: list[CallSite]) -> tuple[str, list[Edit]]:
    new = func.name + ("_renamed" if lang.name in ("python", "rust") else "Renamed")
    name = func.node.child_by_field_name("name")
    assert name is not None
    edits: list[Edit] = [(name.start_byte, name.end_byte, new)]
    for site in sites:
        ident = _callee_name(lang, site.node)
        if ident is not None:
            edits.append((ident.start_byte, ident.end_byte, new))
    return new, edits


def _callee_name(lang: Lang, call: Node) -> Node | None:
    if lang.name == "java":
        return call.child_by_field_name("name")
    fn = call.child_by_field_name("function")
    if fn is None or fn.type == "identifier":
        return fn
    for f in ("attribute", "property", "field", "name"):
        if (found := fn.child_by_field_name(f)) is not None:
            return found
    return None


def delete(func: Func, raw: bytes) -> list[Edit]:
    """The whole definition (and the doc comments just above it), to the end of its line."""
    start = raw.rfind(b"\n", 0, func.node.start_byte) + 1
    node = func.node
    if node.parent is not None and node.parent.type == "decorated_definition":
        node = node.parent
    prev = node.prev_sibling
    while prev is not None and prev.type in ("comment", "line_comment", "block_comment"):
        if prev.end_point[0] < node.start_point[0] - 1:
            break
        start = raw.rfind(b"\n", 0, prev.start_byte) + 1
        node, prev = prev, prev.prev_sibling
    end = raw.find(b"\n", func.node.end_byte)
    return [(start, len(raw) if end < 0 else end + 1, "")]


# -- cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    """One generated merge: the base and each side's files, and what must be found."""

    language: str
    repo: str
    kind: str  # rename | delete | re-sign-add | re-sign-remove | look-alike-*
    where: str  # function | method | cross-file
    name: str  # the function A changes
    path: str
    base: dict[str, str]
    a: dict[str, str]
    b: dict[str, str]
    positive: bool
    call: str = ""  # B's new call, as written
    placed: str = ""  # where B put it: "own function" (the copied call's) or "other function"
    result: str = ""
    detail: str = ""
    findings: list[str] = field(default_factory=list)


class Parsed:
    """One file of a mirror, parsed."""

    def __init__(self, lang: Lang, repo: str, path: str, text: str, profile: Profile) -> None:
        self.lang, self.repo, self.path, self.text = lang, repo, path, text
        self.raw = text.encode("utf-8")
        self.root = profile.parse(self.raw).root_node
        self.functions = functions(lang, self.root) if not self.root.has_error else []
        self.calls = calls(lang, self.root) if not self.root.has_error else []
        self.defined = Counter(  # (every definition: overrides and accessors too)
            _text(n.child_by_field_name("name"))
            for n in walk(self.root)
            if n.type in lang.functions
        )


def _parses(profile: Profile, text: str) -> bool:
    return not profile.parse(text.encode("utf-8")).root_node.has_error


def _unique(parsed: Sequence[Parsed], name: str) -> bool:
    """The name is defined once in these files (so a call of it means this definition)."""
    return sum(p.defined[name] for p in parsed) == 1


def _statement_text(lang: Lang, site: CallSite) -> str:
    return _text(site.node) + lang.statement_end


def _insert_before(
    raw: bytes, site: CallSite, lang: Lang, target: Node, changed: set[int]
) -> tuple[str, str] | None:
    """B's side: the call copied as a statement before `target` (not next to A's lines)."""
    line = target.start_point[0]
    if line in changed or line - 1 in changed:
        return None
    start = raw.rfind(b"\n", 0, target.start_byte) + 1
    indent = raw[start : target.start_byte].decode()
    if indent.strip():
        return None
    statement = _statement_text(lang, site)
    return apply(raw, [(start, start, indent + statement + "\n")]), statement


def _is_field(method: Node, name: str) -> bool:
    """A Java name declared as a field of the class around `method`, not a local of it."""
    body = method.parent
    if body is None:
        return False
    fields = [c for c in body.named_children if c.type == "field_declaration"]
    declared = any(
        f" {name} " in f" {_text(f).replace('=', ' = ').replace(';', ' ;')} " for f in fields
    )
    return declared and f" {name} =" not in _text(method) and f" {name};" not in _text(method)


def _owner(lang: Lang, func: Func) -> str:
    """The name of the class, impl's type or Go receiver's type a method belongs to."""
    if lang.name == "go":
        receiver = _text(func.node.child_by_field_name("receiver"))
        words = re.findall(r"[A-Za-z_]\w*", receiver)
        return words[-1] if len(words) >= 2 else ""
    if lang.name == "rust":
        impl = _inside(func.node, {"impl_item"})
        kind = impl.child_by_field_name("type") if impl is not None else None
        return re.split(r"[<\s]", _text(kind))[0] if kind is not None else ""
    holder = _inside(
        func.node,
        {
            "class_definition",
            "class_declaration",
            "class",
            "interface_declaration",
            "enum_declaration",
        },
    )
    name = holder.child_by_field_name("name") if holder is not None else None
    return _text(name)


def _plausible(
    lang: Lang, site: CallSite, func: Func, owner: str, text: str, module: str, home: bool
) -> bool:
    """Whether the file shows the call's receiver is of the function's own type (or, for a
    function, that the call is a plain one): a copy of it then certainly calls the function.
    `home`: the call is in the function's own file."""
    r = site.receiver
    if not r:  # (Java: a bare call is of the caller's class, or its superclass's)
        return home if lang.name == "java" else not func.method
    if not func.method:
        return lang.name == "rust" and r in (module, f"super::{module}", f"crate::{module}")
    if r in ("self", "this", "Self", "cls") or (owner and r == owner):
        return True
    if not owner or not re.fullmatch(r"(this\.)?[A-Za-z_]\w*", r):
        return False
    name, own = re.escape(r.removeprefix("this.")), re.escape(owner)
    declared = {
        "go": rf"\b{name}\s+\*?{own}\b|\b{name}\s*:?=\s*&?{own}\s*\{{",
        "java": rf"(?<![\w.]){own}(?:<[^>]*>)?\s+{name}\b|\b{name}\s*=\s*new\s+{own}\b",
        "typescript": rf"\b{name}\??\s*:\s*{own}\b|\b{name}\s*=\s*new\s+{own}\b",
        "rust": rf"\b{name}\s*:\s*&?(?:mut\s+)?{own}\b|\b{name}\s*=\s*{own}\s*(?:::|\{{)",
        "python": rf"\b{name}\s*=\s*{own}\(",
        "javascript": rf"\b{name}\s*=\s*new\s+{own}\b",
    }[lang.name]
    return re.search(declared, text) is not None


_TYPED = ("go", "rust", "java", "typescript")
_TS_BUILTIN = "Map|Set|WeakMap|Array|ReadonlyArray|Promise|Record|string|number|Date|RegExp"


def _outermost(lang: Lang, node: Node) -> Node:
    """The outermost function around a closure (whose variables the closure sees)."""
    while (outer := enclosing_function(lang, node)) is not None:
        node = outer
    return node


def _foreign(lang: Lang, site: CallSite, text: str, scope: str) -> bool:
    """Whether the call's receiver is of a type from elsewhere: a Go package (the file
    imports it) or a variable its function (`scope`, the text) declares of a package's type,
    Rust's standard library, a Java type imported from another project or written with its
    package, a TypeScript built-in or package type."""
    r = site.receiver
    first = r.split("::")[0]
    if not re.fullmatch(r"[A-Za-z_]\w*", first) or first in ("this", "self", "Self"):
        return False
    name = re.escape(r)
    if lang.name == "go":
        imported = re.search(rf'^\s*(?:import\s+)?"(?:[^"\n]*/)?{name}"', text, re.M)
        declared = re.search(rf"\b{name}\s+\*?[a-z]\w*\.[A-Z]\w*\b", scope)
        return bool(imported or declared)
    if lang.name == "rust":
        return first in ("std", "core", "alloc")
    if lang.name == "typescript":
        if re.search(rf"\b{name}\??\s*:\s*(?:{_TS_BUILTIN})\b", scope):
            return True
        typed = re.search(rf"\b{name}\??\s*:\s*([A-Z]\w*)\b", scope)
        return bool(typed) and bool(
            re.search(rf"import[^;]*\b{typed[1]}\b[^;]*from\s+[\"'][^.]", text) if typed else None
        )
    if lang.name != "java":
        return False
    package = re.search(r"^package\s+(\w+(?:\.\w+)?)", text, re.M)
    root = package[1] if package else ""
    declared = re.search(rf"(?<![\w.])([\w.]+)(?:<[^>]*>)?\s+{name}\s*[=;,)]", scope)
    if declared is None or not root:
        return False
    kind = declared[1]
    if "." in kind:
        return not kind.startswith(root)
    source = re.search(rf"^import\s+([\w.]+)\.{re.escape(kind)};", text, re.M)
    return source is not None and not source[1].startswith(root)


def _fixed_arity(lang: Lang, func: Func) -> bool:
    """No defaults, optional or variadic parameters: a call's count of arguments is exact."""
    for p in _params(lang, func):
        if p.type in _STARS or p.type in (
            "default_parameter",
            "typed_default_parameter",
            "optional_parameter",
            "assignment_pattern",
        ):
            return False
        if "..." in _text(p) or (
            lang.name == "typescript" and ("?" in _text(p) or "=" in _text(p))
        ):
            return False
    return True


def _changed_lines(raw: bytes, edits: Sequence[Edit]) -> set[int]:
    out: set[int] = set()
    for start, end, _ in edits:
        first = raw.count(b"\n", 0, start)
        out.update(range(first, raw.count(b"\n", 0, end) + 1))
    return out


class Generator:
    """Makes the cases of one language from its repositories, with one seeded generator."""

    def __init__(self, lang: Lang, seed: int) -> None:
        self.lang = lang
        self.rng = random.Random(f"{seed}-{lang.name}")
        profile = profile_for("x" + lang.ext)
        assert profile is not None
        self.profile = profile
        self.files: list[tuple[str, str]] = []
        for repo in lang.repos:
            if not (MIRRORS / repo / "repo").is_dir():
                progress(f"{repo}: no mirror at {MIRRORS / repo}, left out")
                continue
            self.files += [(repo, path) for path, _ in source_files(lang, repo)]
        self.files.sort()
        self.cache: dict[tuple[str, str], Parsed] = {}

    def parsed(self, repo: str, path: str) -> Parsed:
        key = (repo, path)
        if key not in self.cache:
            self.cache[key] = Parsed(self.lang, repo, path, read(repo, path), self.profile)
        return self.cache[key]

    def package(self, repo: str, path: str) -> list[str]:
        """The other files of a Go or Java package (one folder), of a Rust crate's src."""
        folder = path.rpartition("/")[0]
        if self.lang.name == "rust":
            folder = folder.partition("/src")[0] + "/src" if "/src" in f"/{folder}" else folder
            return [
                p for r, p in self.files if r == repo and p.startswith(folder + "/") and p != path
            ]
        return [
            p for r, p in self.files if r == repo and p.rpartition("/")[0] == folder and p != path
        ]

    def cases(self, count: int, cross: int, alike: int) -> list[Case]:
        out: list[Case] = []
        order = list(self.files)
        self.rng.shuffle(order)
        kinds = ["rename", "delete", "re-sign-add", "re-sign-remove"]
        foreign = alike // 3 if self.lang.name in _TYPED else 0
        wanted = {"same": count - cross, "cross": cross, "alike": alike - foreign}
        wanted["foreign"] = foreign
        made = Counter[str]()
        for repo, path in order:
            if all(made[k] >= v for k, v in wanted.items()):
                break
            parsed = self.parsed(repo, path)
            if not parsed.functions:
                continue
            group = "same" if made["same"] < wanted["same"] else ""
            if not group and made["cross"] < wanted["cross"]:
                group = "cross"
            if group and (case := self._positive(parsed, kinds[made["n"] % 4], group)):
                out.append(case)
                made[group] += 1
                made["n"] += 1
            if made["alike"] < wanted["alike"] and (case := self._look_alike(parsed)):
                out.append(case)
                made["alike"] += 1
            if made["foreign"] < wanted["foreign"] and (case := self._look_alike(parsed, True)):
                out.append(case)
                made["foreign"] += 1
        return out

    # -- positives --

    def _positive(self, parsed: Parsed, kind: str, group: str) -> Case | None:
        funcs = list(parsed.functions)
        self.rng.shuffle(funcs)
        for func in funcs:
            if group == "same":
                case = self._same_file(parsed, func, kind)
            else:
                case = self._cross_file(parsed, func, kind)
            if case is not None:
                return case
        return None

    def _sites(self, parsed: Parsed, func: Func, home: Parsed | None = None) -> list[CallSite]:
        """Calls of the function in `parsed` (defined in `home`, by default the same file)
        through a receiver whose type the file shows is the function's own."""
        owner = _owner(self.lang, func)
        module = (home or parsed).path.rpartition("/")[2].partition(".")[0]
        at_home = home is None or home.path == parsed.path
        return [
            s
            for s in parsed.calls
            if s.name == func.name
            and _plausible(self.lang, s, func, owner, parsed.text, module, at_home)
        ]

    def _side_a(self, parsed: Parsed, func: Func, kind: str, sites: list[CallSite]) -> str | None:
        raw = parsed.raw
        if kind.startswith("re-sign") and not _fixed_arity(self.lang, func):
            return None
        if kind == "rename":
            edits: list[Edit] | None = rename(self.lang, func, sites)[1]
        elif kind == "delete":
            edits = delete(func, raw)
        elif kind == "re-sign-add":
            edits = add_param(self.lang, func, sites)
        else:
            edits = remove_param(self.lang, func, sites)
        if edits is None:
            return None
        text = apply(raw, edits)
        return text if _parses(self.profile, text) else None

    def _a_edits(self, parsed: Parsed, func: Func, kind: str, sites: list[CallSite]) -> list[Edit]:
        if kind == "rename":
            return rename(self.lang, func, sites)[1]
        if kind == "delete":
            return delete(func, parsed.raw)
        if kind == "re-sign-add":
            return add_param(self.lang, func, sites)
        return remove_param(self.lang, func, sites) or []

    def _same_file(self, parsed: Parsed, func: Func, kind: str) -> Case | None:
        if not _unique([parsed], func.name):
            return None
        sites = self._sites(parsed, func)
        inside = [s for s in sites if enclosing_function(self.lang, s.node) is not None]
        outside = [
            s
            for s in inside
            if not (func.node.start_byte <= s.node.start_byte < func.node.end_byte)
        ]
        if not outside:
            return None
        a = self._side_a(parsed, func, kind, sites)
        if a is None:
            return None
        changed = _changed_lines(parsed.raw, self._a_edits(parsed, func, kind, sites))
        site = self.rng.choice(outside)
        b = self._copy_into(parsed, site, changed, func.node)
        if b is None:
            return None
        where = "method" if func.method else "function"
        return Case(
            self.lang.name,
            parsed.repo,
            kind,
            where,
            func.name,
            parsed.path,
            {parsed.path: parsed.text},
            {parsed.path: a},
            {parsed.path: b[0]},
            True,
            b[1],
            placed=b[2],
        )

    def _copy_into(
        self, parsed: Parsed, site: CallSite, changed: set[int], avoid: Node | None = None
    ) -> tuple[str, str, str] | None:
        """B's file: the call copied before a statement of another function where its receiver
        means the same (half the time, where there is one), else of its own function. Returns
        the text, the statement and where it went ("own function", "other function")."""
        holder = enclosing_function(self.lang, site.node)
        if holder is None:
            return None
        places = [(holder, "own function")]
        others = [f.node for f in parsed.functions if self._same_context(site, holder, f.node)]
        others = [o for o in others if avoid is None or o.start_byte != avoid.start_byte]
        if others and self.rng.random() < 0.5:
            places.insert(0, (self.rng.choice(others), "other function"))
        for function, placed in places:
            options = statements(self.lang, function)
            self.rng.shuffle(options)
            for target in options:
                found = _insert_before(parsed.raw, site, self.lang, target, changed)
                if found is not None and _parses(self.profile, found[0]):
                    return found[0], found[1], placed
        return None

    def _same_context(self, site: CallSite, holder: Node, other: Node) -> bool:
        """Whether the call means the same inside function `other` as inside `holder`: a bare
        call or one through a type's name anywhere in the file; `self`/`this` (or Go's receiver
        of one name and type) in the same class, impl or type; a Java field's in its class."""
        if other.start_byte == holder.start_byte:
            return False
        receiver, lang = site.receiver, self.lang.name
        classes = {
            "class_declaration",
            "class_definition",
            "class",
            "impl_item",
            "interface_declaration",
            "enum_declaration",
        }
        same_class = _inside(other, classes) == _inside(holder, classes) and bool(
            _inside(holder, classes)
        )
        if lang == "go":
            if not receiver:
                return True
            mine, theirs = (n.child_by_field_name("receiver") for n in (holder, other))
            return (
                mine is not None
                and theirs is not None
                and _text(mine) == _text(theirs)
                and (receiver.partition(".")[0] in _text(mine).strip("()").split()[:1])
            )
        if not receiver:
            return lang != "java" or same_class
        if receiver == "this" or (receiver == "self" and lang in ("python", "rust")):
            params = _text(other.child_by_field_name("parameters"))
            selfish = lang not in ("python", "rust") or "self" in params.split(",")[0]
            return same_class and selfish
        if receiver[:1].isupper() or receiver in ("Self",) or "::" in receiver:
            return True
        return (
            lang == "java"
            and same_class
            and receiver.isidentifier()
            and _is_field(holder, receiver)
        )

    def _cross_file(self, parsed: Parsed, func: Func, kind: str) -> Case | None:
        """A call in another file of the package (crate): A changes the definition and the
        calls of both files, B copies the other file's call."""
        others = [self.parsed(parsed.repo, p) for p in self.package(parsed.repo, parsed.path)]
        others = [o for o in others if o.functions]
        if not _unique([parsed, *others], func.name):
            return None
        users = [o for o in others if self._sites(o, func, parsed)]
        if not users:
            return None
        user = self.rng.choice(users)
        sites = self._sites(user, func, parsed)
        user_sites = [s for s in sites if enclosing_function(self.lang, s.node)]
        if not user_sites:
            return None
        home_sites = self._sites(parsed, func)
        a_home = self._side_a(parsed, func, kind, home_sites)
        if a_home is None:
            return None
        if kind == "delete":
            user_edits: list[Edit] | None = []
        elif kind == "rename":
            user_edits = [
                (n.start_byte, n.end_byte, rename(self.lang, func, [])[0])
                for s in sites
                if (n := _callee_name(self.lang, s.node)) is not None
            ]
        elif kind == "re-sign-add":
            user_edits = add_param(self.lang, func, sites)[1:]
        else:
            user_edits = remove_param(self.lang, func, sites)
            user_edits = user_edits[1:] if user_edits else None
        if user_edits is None:
            return None
        a_user = apply(user.raw, user_edits)
        if not _parses(self.profile, a_user):
            return None
        changed = _changed_lines(user.raw, user_edits)
        b = self._copy_into(user, self.rng.choice(user_sites), changed)
        if b is None:
            return None
        base = {parsed.path: parsed.text, user.path: user.text}
        if self.lang.name != "rust":  # the package's other files: types and receivers
            rest = [o for o in others if o.path != user.path]
            if sum(len(o.raw) for o in rest) + len(parsed.raw) + len(user.raw) <= MAX_PACKAGE:
                base.update({o.path: o.text for o in rest})
        a = {parsed.path: a_home}
        if a_user != user.text:
            a[user.path] = a_user
        return Case(
            self.lang.name,
            parsed.repo,
            kind,
            "cross-file",
            func.name,
            parsed.path,
            base,
            a,
            {user.path: b[0]},
            True,
            b[1],
            placed=b[2],
        )

    # -- look-alikes --

    def _look_alike(self, parsed: Parsed, foreign: bool = False) -> Case | None:
        """One look-alike from this file: B's call through a foreign receiver (`foreign`),
        else a call of another function or one leaving out a new defaulted parameter."""
        funcs = list(parsed.functions)
        self.rng.shuffle(funcs)
        use_default = self.lang.default_param and self.rng.random() < 0.5
        for func in funcs:
            if not _unique([parsed], func.name):
                continue
            sites = self._sites(parsed, func)
            if foreign:
                case = self._foreign_alike(parsed, func, sites)
            elif use_default:
                case = self._default_alike(parsed, func, sites)
            else:
                case = self._other_alike(parsed, func, sites)
            if case is not None:
                return case
        return None

    def _foreign_alike(self, parsed: Parsed, func: Func, sites: list[CallSite]) -> Case | None:
        """A renames or re-signs `func`; B copies a call of the same name through a receiver
        the file declares of a type from elsewhere (a package, the standard library)."""
        foreign = [
            s
            for s in parsed.calls
            if s.name == func.name
            and (holder := enclosing_function(self.lang, s.node)) is not None
            and _foreign(self.lang, s, parsed.text, _text(_outermost(self.lang, holder)))
            and _text(s.node).count(func.name) == 1
            and not (func.node.start_byte <= s.node.start_byte < func.node.end_byte)
        ]
        return self._changed_alike(parsed, func, sites, foreign, "look-alike-foreign")

    def _default_alike(self, parsed: Parsed, func: Func, sites: list[CallSite]) -> Case | None:
        outside = [
            s
            for s in sites
            if enclosing_function(self.lang, s.node) is not None
            and not (func.node.start_byte <= s.node.start_byte < func.node.end_byte)
        ]
        edits = add_default(self.lang, func)
        if not outside or edits is None:
            return None
        a = apply(parsed.raw, edits)
        if not _parses(self.profile, a):
            return None
        changed = _changed_lines(parsed.raw, edits)
        return self._alike(parsed, func, a, outside, changed, "look-alike-default")

    def _other_alike(self, parsed: Parsed, func: Func, sites: list[CallSite]) -> Case | None:
        """A renames or re-signs `func`; B copies a call of another function of the file."""
        defined = {f.name for f in parsed.functions}
        other = [
            s
            for s in parsed.calls
            if s.name != func.name
            and s.name in defined
            and _unique([parsed], s.name)
            and enclosing_function(self.lang, s.node) is not None
            and not (func.node.start_byte <= s.node.start_byte < func.node.end_byte)
        ]
        return self._changed_alike(parsed, func, sites, other, "look-alike")

    def _changed_alike(
        self, parsed: Parsed, func: Func, sites: list[CallSite], calls: list[CallSite], label: str
    ) -> Case | None:
        """A renames or re-signs `func`; B copies one of `calls` (which must stay clean)."""
        if not calls:
            return None
        kind = self.rng.choice(["rename", "re-sign-add"])
        a = self._side_a(parsed, func, kind, sites)
        if a is None:
            return None
        changed = _changed_lines(parsed.raw, self._a_edits(parsed, func, kind, sites))
        return self._alike(parsed, func, a, calls, changed, f"{label}-{kind}")

    def _alike(
        self,
        parsed: Parsed,
        func: Func,
        a: str,
        calls: list[CallSite],
        changed: set[int],
        kind: str,
    ) -> Case | None:
        """The look-alike case whose side A is `a` and whose side B copies one of `calls`."""
        b = self._copy_into(parsed, self.rng.choice(calls), changed, func.node)
        if b is None:
            return None
        where = "method" if func.method else "function"
        return Case(
            self.lang.name,
            parsed.repo,
            kind,
            where,
            func.name,
            parsed.path,
            {parsed.path: parsed.text},
            {parsed.path: a},
            {parsed.path: b[0]},
            False,
            b[1],
            placed=b[2],
        )


# -- running a case ----------------------------------------------------------------------------


def run_case(case: Case, folder: Path) -> None:
    """Merge the case's sides and record what was found in `case.result`."""
    if len(case.base) == 1 and set(case.a) == set(case.b) == set(case.base):
        from crdtspace.git.mergedriver import merge_files

        (path,) = case.base
        outcome = merge_files(case.base[path], case.a[path], case.b[path], path)
        found = [(c.kind, c.severity, c.message) for c in outcome.conflicts]
        if outcome.method == "fallback":
            case.detail = outcome.fallback_reason
    else:
        found = _workspace_findings(case, folder)
    case.findings = [f"{k} [{s}] {m}" for k, s, m in found]
    semantic = [(k, s, m) for k, s, m in found if k in SEMANTIC]
    if case.positive:
        named = [s for k, s, m in semantic if case.name in m]
        case.result = ("certain" if "certain" in named else "possible") if named else "missed"
    else:
        case.result = "false-alarm" if semantic else "clean"


def _workspace_findings(case: Case, folder: Path) -> list[tuple[str, str, str]]:
    from crdtspace import Workspace, sync
    from crdtspace.testing import make_repo

    repo = make_repo(folder, case.base)
    alice = Workspace.from_commit(repo, agent="alice")
    bob = Workspace.from_commit(repo, agent="bob")
    for path, text in case.a.items():
        alice.write(path, text)
    for path, text in case.b.items():
        bob.write(path, text)
    sync(alice, bob)
    return [(c.kind, c.severity, c.message) for c in alice.analysis().conflicts]


# -- the table ---------------------------------------------------------------------------------


def _rows(cases: list[Case], by: str) -> list[dict[str, Any]]:
    groups: dict[str, list[Case]] = {}
    for case in cases:
        key = {
            "language": case.language,
            "kind": f"{case.language} {case.kind} {case.where}",
            "placed": f"{case.language} {case.where} {case.placed}",
        }[by]
        if by != "language" and not case.positive:
            key = f"{case.language} {case.kind}"
        groups.setdefault(key, []).append(case)
    rows = []
    for key, group in groups.items():
        positives = [c for c in group if c.positive]
        alikes = [c for c in group if not c.positive]
        flagged = [c for c in positives if c.result != "missed"]
        rows.append(
            {
                by: key,
                "breaks": len(positives),
                "flagged": len(flagged),
                "certain": sum(c.result == "certain" for c in positives),
                "possible": sum(c.result == "possible" for c in positives),
                "missed": len(positives) - len(flagged),
                "rate": f"{len(flagged) / len(positives):.0%}" if positives else "",
                "look_alikes": len(alikes),
                "false_alarms": sum(c.result == "false-alarm" for c in alikes),
            }
        )
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1, help="the generator's seed")
    p.add_argument("--cases", type=int, default=40, help="breaks per language")
    p.add_argument("--cross", type=int, default=10, help="of which cross-file (Go, Rust, Java)")
    p.add_argument("--look-alikes", type=int, default=15, help="look-alikes per language")
    p.add_argument("--languages", default=",".join(LANGS), help="comma-separated")
    p.add_argument("--by", choices=("language", "kind", "placed"), default="language")
    p.add_argument("--misses", action="store_true", help="list the misses and false alarms")
    args = p.parse_args()
    cases: list[Case] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crdtspace-semreal-") as tmp:
        for name in args.languages.split(","):
            lang = LANGS[name]
            cross = args.cross if name in ("go", "rust", "java") else 0
            made = Generator(lang, args.seed).cases(args.cases, cross, args.look_alikes)
            progress(f"{name}: {len(made)} cases")
            for i, case in enumerate(made):
                run_case(case, Path(tmp) / f"{name}{i}")
            cases += made
    rows = _rows(cases, args.by)
    if args.by == "language":
        rows.append(_total(cases))
    if args.json:
        report(rows, as_json=True, title="")
    else:
        report(
            rows,
            as_json=False,
            title=f"semantic conflicts on real code (seed {args.seed}, "
            f"{time.perf_counter() - began:.0f} s)",
        )
    if args.misses:
        for case in cases:
            if case.result in ("missed", "false-alarm"):
                print(
                    f"\n{case.result}: {case.language} {case.kind} {case.where} "
                    f"({case.placed}) {case.repo}:{case.path} {case.name}\n"
                    f"  B: {case.call}\n  {case.detail}",
                    file=sys.stderr,
                )
                for f in case.findings:
                    print(f"  found: {f}", file=sys.stderr)


def _total(cases: list[Case]) -> dict[str, Any]:
    row = _rows(
        [Case("all", "", "", "", "", "", {}, {}, {}, c.positive, result=c.result) for c in cases],
        "language",
    )[0]
    return row


if __name__ == "__main__":
    main()
