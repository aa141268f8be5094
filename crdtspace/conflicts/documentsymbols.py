"""The files of a document state as the semantic checks read them: symbols parsed once per state.

`DocumentSymbols` holds what one analysis (`crdtspace.conflicts.semantics.Semantics`) reads: each
file's symbols and each node text's fragment symbols, parsed at most once; whether a file mentions
a name at all (through the `WordIndex`, kept across analyses, without parsing); and which files a
name may be defined in (a Go or Java package's sibling files, an import's module files).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from crdtspace.conflicts.findings import Context, profile_flag
from crdtspace.conflicts.modulepaths import module_candidates
from crdtspace.conflicts.symbolquery import language_config
from crdtspace.conflicts.symbols import file_symbols, fragment_symbols
from crdtspace.conflicts.symboltable import Definition, FileSymbols, Import
from crdtspace.model.history import Texts
from crdtspace.model.languages import profile_for
from crdtspace.model.logentry import LogEntry


def _package_scope(language: str) -> bool:
    return profile_flag(language, "package_scope")


@dataclass
class TypeInfo:
    """A type of the repository as the files that may define it say: its members and fields."""

    files: list[str]
    members: dict[str, list[tuple[Definition, str]]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    open: bool = False  # members may come from elsewhere (a superclass, a trait, an embedding)


_CALLEE = re.compile(r"(?P<head>.+?)(?:::|\.)(?P<name>[\w$]+)")


class DocumentSymbols:
    """The files of one document state as the semantic checks read them (see the module
    docstring)."""

    def __init__(
        self,
        ctx: Context,
        edited: list[str],
        memo: dict[tuple[str, tuple[int, int]], bool] | None = None,
        words: WordIndex | None = None,
    ) -> None:
        self.ctx = ctx
        self.edited = edited
        self._symbols: dict[str, FileSymbols | None] = {}
        self._fragments: dict[tuple[str, str], FileSymbols | None] = {}
        # (node, log length) -> whether its log changes a signature: kept across analyses
        self._memo = memo if memo is not None else {}
        self._paths = set(ctx.document.paths())
        self._words = words if words is not None else WordIndex()
        self._by_file: dict[str, list[str]] = {}
        self._types: dict[tuple[str, str], TypeInfo | None] = {}
        for nid in edited:
            home = ctx.home(nid)
            if home:
                self._by_file.setdefault(home, []).append(nid)

    def _mentions(self, path: str, names: set[str]) -> bool:
        if profile_for(path) is None:
            return False
        key = tuple(
            (n, len(self.ctx.history.node_log(n).entries)) for n in self._by_file.get(path, ())
        )
        return not self._words.words(path, key, lambda: self.ctx.layout(path).text).isdisjoint(
            names
        )

    # -- reading ---------------------------------------------------------------------------

    def symbols(self, path: str) -> FileSymbols | None:
        if path not in self._symbols:
            if path not in self.ctx.document.files or profile_for(path) is None:
                self._symbols[path] = None
            else:
                self._symbols[path] = file_symbols(path, self.ctx.layout(path).text)
        return self._symbols[path]

    def definitions(self, path: str) -> FileSymbols | None:
        """`symbols(path)` where only its definitions, imports and scopes are read: the file's
        symbols when they are read already, else those without references (less work)."""
        if path in self._symbols:
            return self._symbols[path]
        if path not in self.ctx.document.files or profile_for(path) is None:
            return None
        return file_symbols(path, self.ctx.layout(path).text, references=False)

    def fragment(self, path: str, text: str) -> FileSymbols | None:
        """A node text's definitions, imports and scopes (its references left out: the checks
        read no fragment's references)."""
        profile = profile_for(path)
        if profile is None:
            return None
        key = (profile.name, text)
        if key not in self._fragments:
            try:
                self._fragments[key] = fragment_symbols(profile.name, text, references=False)
            except ValueError:  # the language has no symbols query: nothing to compare
                self._fragments[key] = None
        return self._fragments[key]

    def before_after(self, nid: str, entry: LogEntry) -> tuple[Texts, Texts]:
        history = self.ctx.history
        return history.before(nid, entry), history.after(nid, entry.id)

    # -- where a name is defined -----------------------------------------------------------

    def _defined_in(self, path: str, name: str) -> bool:
        symbols = self.symbols(path)
        return symbols is not None and any(d.name == name for d in symbols.definitions)

    def _scope_files(self, path: str) -> list[str]:
        profile = profile_for(path)
        if profile is not None and _package_scope(profile.name):
            return _siblings(self.ctx.document.paths(), path)
        return [path]

    def _package_defines(self, path: str, name: str) -> bool:
        """Go/Java: another file of the same directory defines the name at top level."""
        profile = profile_for(path)
        if profile is None or not _package_scope(profile.name):
            return False
        for other in _siblings(self.ctx.document.paths(), path):
            symbols = self.symbols(other) if other != path else None
            if symbols and any(d.name == name and not d.scope for d in symbols.definitions):
                return True
        return False

    # -- types of receivers (typed languages) ---------------------------------------------

    def typed(self, path: str) -> bool:
        """Whether the path's language declares types (the profile's `symbols_typed`)."""
        profile = profile_for(path)
        config = language_config(profile.name) if profile is not None else None
        return config is not None and config.typed

    def _type_files(self, path: str, name: str) -> list[str]:
        """The files that may define type `name` seen from `path`: its package, the module of
        an import binding the name, and (Rust) the crate's files that mention it."""
        files = dict.fromkeys(self._scope_files(path))
        symbols = self.symbols(path)
        for imported in symbols.imports if symbols is not None else ():
            if imported.alias == name and imported.name is not None:
                files.update(dict.fromkeys(self._module_files(path, imported)))
        if path.endswith(".rs"):
            marker = path.rfind("src/")
            root = path[: marker + 4] if marker >= 0 else posixpath.dirname(path)
            for other in sorted(self._paths):
                crate = other.endswith(".rs") and other.startswith(root)
                if crate and other not in files and self._mentions(other, {name}):
                    files[other] = None
        return list(files)

    def type_info(self, path: str, name: str) -> TypeInfo | None:
        """Type `name` as seen from `path`; None when no file it may be in defines it."""
        key = (path, name)
        if key not in self._types:
            self._types[key] = self._type_info(path, name)
        return self._types[key]

    def _type_info(self, path: str, name: str) -> TypeInfo | None:
        info = TypeInfo(self._type_files(path, name))
        defined = False
        for other in info.files:
            symbols = self.symbols(other)
            if symbols is None:
                continue
            for d in symbols.definitions:
                if d.name == name and d.kind in ("class", "type"):
                    defined = True
                if d.scope == name or d.scope.endswith("." + name):
                    info.members.setdefault(d.name, []).append((d, other))
            for (owner, member), kind in symbols.fields.items():
                if owner == name:
                    info.fields.setdefault(member, kind)
            info.open = info.open or name in symbols.open_types
        if not defined and info.members and self._methods_apart(path):
            # Go's methods (Rust's impl blocks) may be in a file without their type, as the
            # merge driver sees one: the type is this repository's, its other members unseen.
            info.open = True
            return info
        return info if defined else None

    def _methods_apart(self, path: str) -> bool:
        """Whether the language declares methods apart from their type (`methods_apart`)."""
        profile = profile_for(path)
        return profile is not None and profile_flag(profile.name, "methods_apart")

    def resolve_type(self, path: str, expr: str, depth: int = 0) -> str:
        """A receiver type as `Reference.receiver_type` writes it, made a type of the
        repository: its name; "-" a type from elsewhere; "" not known."""
        if not expr or expr == "-" or depth > 4:
            return expr if expr == "-" else ""
        if expr.startswith("field:"):
            base, _, member = expr[len("field:") :].rpartition(".")
            owner = self.resolve_type(path, base, depth + 1)
            info = self.type_info(path, owner) if owner and owner != "-" else None
            if info is None:
                return owner if owner in ("", "-") else ""
            declared = info.fields.get(member)
            return self.resolve_type(path, declared, depth + 1) if declared else ""
        if expr.startswith("call:"):
            return self._returned(path, expr[len("call:") :], depth)
        return expr if self.type_info(path, expr) is not None else "-"

    def _returned(self, path: str, callee: str, depth: int) -> str:
        """The type a call returns: `f`, `T.f` / `T::f` (a static or associated function)."""
        match = _CALLEE.fullmatch(callee)
        if match is None:
            candidates = []
            for other in self._scope_files(path):
                symbols = self.symbols(other)
                defs = symbols.definitions if symbols is not None else ()
                candidates += [d for d in defs if d.name == callee and not d.scope]
        else:
            owner = self.resolve_type(path, match["head"], depth + 1)
            info = self.type_info(path, owner) if owner and owner != "-" else None
            if info is None:  # (another type's method may return one of ours: not known)
                return ""
            candidates = [d for d, _ in info.members.get(match["name"], [])]
        kinds = {d.returns for d in candidates}
        if len(kinds) != 1:
            return ""
        return self.resolve_type(path, kinds.pop(), depth + 1)

    def any_member(self, paths: Iterable[str], name: str) -> bool:
        """Whether some type defined in these files has a member `name`."""
        for path in paths:
            symbols = self.symbols(path)
            if symbols and any(d.name == name and d.scope for d in symbols.definitions):
                return True
        return False

    def _module_files(self, importer: str, imported: Import) -> list[str]:
        profile = profile_for(importer)
        if profile is None:
            return []
        files = self._paths
        out: list[str] = []
        for candidate in module_candidates(profile.name, importer, imported.module):
            if candidate.endswith("/"):
                out.extend(p for p in files if _folder(p) == candidate)
            elif candidate in files:
                out.append(candidate)
        return sorted(set(out))

    def _import_holds(self, importer: str, imported: Import) -> bool:
        """Whether `from m import name` still finds `name` (True when m is not in the repo)."""
        if imported.name is None or imported.star:
            return True
        files = self._module_files(importer, imported)
        if not files:
            return True
        for path in files:
            symbols = self.symbols(path)
            if symbols is None or symbols.has_errors:
                return True
            if any(d.name == imported.name and not d.scope for d in symbols.definitions):
                return True
            if any(i.alias == imported.name or i.star for i in symbols.imports if not i.scope):
                return True
        return False

    def _overloaded(self, path: str, definition: Definition) -> bool:
        symbols = self.symbols(path)
        if symbols is None:
            return True
        same = [
            d
            for d in symbols.definitions
            if d.name == definition.name and d.scope == definition.scope
        ]
        return len(same) > 1


def _siblings(paths: Iterable[str], path: str) -> list[str]:
    folder = PurePosixPath(path).parent
    suffix = PurePosixPath(path).suffix
    return sorted(
        p for p in paths if PurePosixPath(p).parent == folder and PurePosixPath(p).suffix == suffix
    )


_WORD = re.compile(r"[A-Za-z_$][\w$]*")


class WordIndex:
    """The identifiers each file mentions, kept across analyses: a file's text only changes
    through its edited nodes, so the words of a file stay valid while their logs do not grow."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[tuple[tuple[str, int], ...], frozenset[str]]] = {}

    def words(
        self, path: str, key: tuple[tuple[str, int], ...], text: Callable[[], str]
    ) -> frozenset[str]:
        held = self._held.get(path)
        if held is None or held[0] != key:
            held = self._held[path] = (key, frozenset(_WORD.findall(text())))
        return held[1]


def _folder(path: str) -> str:
    return f"{PurePosixPath(path).parent.as_posix()}/"
