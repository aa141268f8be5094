"""Semantic conflicts: merged code that parses but no longer fits together.

From the symbols of the merged files (`crdtspace.conflicts.symbols`, read once per analysis by
`crdtspace.conflicts.documentsymbols`) and the node logs:

- a reference that no longer resolves, whose definition (or import) one side removed or renamed:
  ``dangling-reference`` / ``import-removed`` when the side that added the reference had not
  seen the removal, ``broken`` when one side did it all (callers left untouched);
- a call that no longer fits the signature one side changed: ``signature-mismatch`` / ``broken``;
- one name defined twice in one scope by two sides: ``duplicate-definition``.

Who did what is read from the logs: the entry that removed a name (a rename or delete of the
named node, or an edit of an import statement), and the entry that introduced a reference (its
name is in the node's text after the entry and not before). Two such entries are concurrent when
neither writer had seen the other (`LogEntry.saw`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from crdtspace.conflicts.documentsymbols import DocumentSymbols
from crdtspace.conflicts.findings import (
    BROKEN,
    CONFLICT,
    POSSIBLE,
    Conflict,
    Side,
    make,
    named_first,
    overloads_allowed,
    profile_flag,
)
from crdtspace.conflicts.modulepaths import module_candidates
from crdtspace.conflicts.symbolquery import language_config
from crdtspace.conflicts.symbols import reports_unresolved
from crdtspace.conflicts.symboltable import (
    Definition,
    FileSymbols,
    Import,
    Reference,
    Resolution,
    Signature,
    resolve,
)
from crdtspace.model.history import Texts, concurrent, creation, render_texts
from crdtspace.model.languages import profile_for
from crdtspace.model.logentry import LogEntry

DEFINITION_KINDS = ("function", "method", "class", "type", "constant", "variable")
"""Definition kinds (symboltable.Definition.kind) whose removal can leave references dangling."""


@dataclass(frozen=True)
class Removal:
    """An entry of node `nid` that took the name `name` away (renamed, deleted, unimported)."""

    name: str
    path: str
    nid: str
    entry: LogEntry
    how: str  # "renamed", "deleted", "import"
    new_name: str = ""
    module: str = ""  # for "import": the module it was imported from


@dataclass(frozen=True)
class Use:
    """A reference (or call) found in the merged code, in node `nid` of `path`."""

    name: str
    path: str
    nid: str
    reference: Reference


class Semantics(DocumentSymbols):
    """One semantic analysis of a document state (see the module docstring)."""

    # -- who removed a name ----------------------------------------------------------------

    @functools.cached_property
    def removals(self) -> dict[str, list[Removal]]:
        """Removed names -> the entries that removed them, over every edited node."""
        out: dict[str, list[Removal]] = {}
        for nid in self.edited:
            path = self.ctx.home(nid)
            if not path:
                continue
            kind = str(self.ctx.document.node(nid)["kind"])
            for entry in self.ctx.history.node_log(nid).entries.values():
                for removal in self._removed_by(nid, path, kind, entry):
                    out.setdefault(removal.name, []).append(removal)
        return out

    def _removed_by(self, nid: str, path: str, kind: str, entry: LogEntry) -> Iterable[Removal]:
        named = any(part == "name" for part, *_ in entry.edits)
        if entry.op == "delete" or named:
            before, after = self.before_after(nid, entry)
            old = before.get("name", "")
            if old and (entry.op == "delete" or after.get("name", "") != old):
                how = "deleted" if entry.op == "delete" else "renamed"
                # (a Go method's unit is named "Receiver.method": the name is the method's)
                new = after.get("name", "").rpartition(".")[2]
                yield Removal(old.rpartition(".")[2], path, nid, entry, how, new)
        imports = "import" in kind or kind == "use_declaration"  # (Rust's `use`)
        if imports and (entry.edits or entry.op == "delete"):
            before, after = self.before_after(nid, entry)
            kept = self._bound(path, after) if entry.op != "delete" else {}
            for name, imported in sorted(self._bound(path, before).items()):
                if name not in kept:
                    yield Removal(name, path, nid, entry, "import", module=imported.module)

    def _bound(self, path: str, texts: Texts) -> dict[str, Import]:
        fragment = self.fragment(path, render_texts(texts))
        profile = profile_for(path)
        prelude = profile is not None and profile_flag(profile.name, "extern_prelude")
        return {i.alias: i for i in fragment.imports if i.binds(prelude)} if fragment else {}

    # -- who introduced a reference --------------------------------------------------------

    def introducers(self, nid: str, name: str) -> list[LogEntry]:
        """Entries of a node after which its text mentions `name` and before which it did not."""
        word = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
        out = []
        for entry in self.ctx.history.node_log(nid).entries.values():
            if entry.op not in ("edit", "create", "move") or not entry.edits:
                continue
            before, after = self.before_after(nid, entry)
            if word.search(render_texts(after)) and not word.search(render_texts(before)):
                out.append(entry)
        return sorted(out, key=lambda e: e.id)

    def line_introducers(self, nid: str, line: str) -> list[LogEntry]:
        """Entries of a node that brought a line (stripped) into its text, or one more of it
        (a call copied beside the one it copies)."""
        out = []
        for entry in self.ctx.history.node_log(nid).entries.values():
            if not entry.edits:
                continue
            before, after = self.before_after(nid, entry)
            old = [x.strip() for x in render_texts(before).splitlines()]
            new = [x.strip() for x in render_texts(after).splitlines()]
            if new.count(line) > old.count(line):
                out.append(entry)
        return sorted(out, key=lambda e: e.id)

    # -- the analysis ----------------------------------------------------------------------

    def findings(self) -> list[Conflict]:
        """Each check runs only when its cause is in the logs (a removed name, a changed
        signature, a new name): an edit inside a function body costs no parsing at all."""
        out: list[Conflict] = []
        if self.removals:
            out.extend(self.dangling())
        if any(self._changes_signature(n) for n in self.edited):
            out.extend(self.signatures())
        if any(self._names_something(n) for n in self.edited):
            out.extend(self.duplicates())
        return out

    def _changes_signature(self, nid: str) -> bool:
        """Whether a node's log changed a signature: its texts before its first entry and now
        define one name with different parameters (cached by the log's version: a peer may
        replace entries without changing how many there are)."""
        log = self.ctx.history.node_log(nid)
        key = (nid, self.ctx.history.entries(nid).version)
        if key not in self._memo:
            self._memo[key] = self._signature_differs(nid, log.entries.values())
        return self._memo[key]

    def _signature_differs(self, nid: str, entries: Iterable[LogEntry]) -> bool:
        path = self.ctx.home(nid)
        if not path:
            return False
        entries = list(entries)
        roots = [e for e in entries if e.base is not None]
        heads = self.ctx.history.node_log(nid).heads
        texts = [self.ctx.history.before(nid, e) for e in roots]
        texts += [self.ctx.history.after(nid, h) for h in heads]
        signatures: dict[str, set[Signature]] = {}
        for version in texts:
            fragment = self.fragment(path, render_texts(version))
            for definition in fragment.definitions if fragment else ():
                if definition.signature is not None:
                    signatures.setdefault(definition.name, set()).add(definition.signature)
        return any(len(found) > 1 for found in signatures.values())

    def _names_something(self, nid: str) -> bool:
        entries = self.ctx.history.node_log(nid).entries.values()
        return any(e.op == "create" or any(part == "name" for part, *_ in e.edits) for e in entries)

    @functools.cached_property
    def _uses(self) -> list[tuple[Use, Resolution]]:
        return self._find_uses()

    def uses(self) -> list[tuple[Use, Resolution]]:
        return self._uses

    def _find_uses(self) -> list[tuple[Use, Resolution]]:
        """References in edited files, plus those naming a removed definition anywhere."""
        paths = {self.ctx.home(n) for n in self.edited}
        removed = set(self.removals)
        if removed:
            paths |= {p for p in sorted(self._paths) if self._mentions(p, removed)}
        out: list[tuple[Use, Resolution]] = []
        for path in sorted(p for p in paths if p and p in self.ctx.document.files):
            symbols = self.symbols(path)
            if symbols is None:
                continue
            layout = self.ctx.layout(path)
            edited = path in self._by_file
            for reference in symbols.references:
                if not edited and reference.name not in removed:
                    continue  # an untouched file matters only where it names a removed name
                nid = layout.unit_at(reference.start)
                if nid is None:
                    continue
                use = Use(reference.name, path, nid, reference)
                out.append((use, resolve(symbols, reference)))
        return out

    def dangling(self) -> list[Conflict]:
        out: dict[str, Conflict] = {}
        for use, resolution in self.uses():
            found = self._dangling(use, resolution)
            if found is not None:
                out.setdefault(found.id, found)
        return list(out.values())

    def _member_use(self, use: Use) -> bool:
        """A typed language's `x.m` or `this.m`: its receiver's type says where m must be."""
        qualifier = use.reference.qualifier
        if not qualifier or not self.typed(use.path):
            return False
        profile = profile_for(use.path)
        config = language_config(profile.name) if profile is not None else None
        return config is not None and (qualifier == "?" or qualifier in config.self_names)

    def _member_dangling(self, use: Use) -> Conflict | None:
        """`x.m` where x's type is known: m gone from that type (a rename or delete of that
        type's m) is certain, or possible when the type may inherit members. Where x's type is
        not known, m gone from the one type of the package that had it, and no type left with
        an m, is a possible conflict (never a `broken`: old code is not second-guessed)."""
        owner = self.resolve_type(use.path, use.reference.receiver_type)
        profile = profile_for(use.path)
        config = language_config(profile.name) if profile is not None else None
        if owner == "-" or config is None or use.name in config.inherited:
            return None
        if owner:
            info = self.type_info(use.path, owner)
            if info is None or use.name in info.members or use.name in info.fields:
                return None
            removals = self._removals_in(use.name, info.files)
            removals = [r for r in removals if self._owner(r) == owner]
            severity = POSSIBLE if info.open else "certain"
            return self._classify(use, removals, severity) if removals else None
        files = self._scope_files(use.path)
        removals = [r for r in self._removals_in(use.name, files) if self._owner(r)]
        if not removals or self.any_member(files, use.name):
            return None
        found = self._classify(use, removals, POSSIBLE)
        return found if found is not None and found.kind != "broken" else None

    def _owner(self, removal: Removal) -> str:
        """The type whose member a removal took away ("" for a top-level name)."""
        qualified = self.ctx.place(removal.nid).name
        owner = qualified.rpartition(".")[0]
        # (a generic impl is named with its parameters, `impl Foo<'_>`: the type is Foo)
        return owner.rpartition(".")[2].partition("<")[0].strip()

    def _module_path(self, use: Use, resolution: Resolution) -> str:
        """The module a qualified name is looked up in, as a path of this crate (Rust): the
        qualifier (`crate::a::f`, `super::f`, `self::m::f` after `mod m;`), or a module that
        `use crate::a::m;` bound (`m::f`: `crate::a::m`; a lower-case name, `Config::new` is
        a type's). "" for anything else."""
        qualifier = use.reference.qualifier
        if _MODULE_PATH.match(qualifier) and qualifier != "self":  # (`self.f()`: a receiver)
            return qualifier
        imported = resolution.imported
        if resolution.status != "imported" or imported is None or imported.name is None:
            return ""
        first, sep, rest = qualifier.partition("::")
        if not first[:1].islower() or not _MODULE_PATH.match(imported.module):
            return ""
        return f"{imported.module}::{imported.name}{sep}{rest}"

    def _path_dangling(self, use: Use, qualifier: str) -> Conflict | None:
        """A name through a module path (Rust `crate::a::f`, `super::f`): gone from the module's
        files by a concurrent rename or delete."""
        module = Import(qualifier, None, "", "", 0, 0)
        files = self._module_files(use.path, module)
        if not files:
            return None
        for path in files:
            symbols = self.symbols(path)
            if symbols is None or symbols.has_errors:
                return None
            if any(d.name == use.name and not d.scope for d in symbols.definitions):
                return None
            if any(i.alias in (use.name, "*") for i in symbols.imports if not i.scope):
                return None
        removals = self._removals_in(use.name, files)
        return self._classify(use, removals, "certain") if removals else None

    def _dangling(self, use: Use, resolution: Resolution) -> Conflict | None:
        if self._member_use(use):
            return self._member_dangling(use)
        if (module := self._module_path(use, resolution)) and self.typed(use.path):
            return self._path_dangling(use, module)
        status = resolution.status
        severity = "certain"
        if status == "imported" and resolution.imported is not None:
            if self._import_holds(use.path, resolution.imported):
                return None
            target = resolution.imported.name or use.name
            removals = self._removals_in(target, self._module_files(use.path, resolution.imported))
        elif status == "unresolved":
            if self._package_defines(use.path, use.name):
                return None
            removals = self._removals_in(use.name, self._scope_files(use.path))
            removals = [self._behind_import(use.path, r) for r in removals]
        elif status == "unknown" and use.reference.qualifier == "" and not self._unbound(use):
            # Languages other than Python report names they cannot find as unknown (globals of
            # the environment, other files of the package): a bare name that a concurrent side
            # removed and that nothing in its scope files still defines is certainly dangling.
            if self._package_defines(use.path, use.name) or self._defined_in(use.path, use.name):
                return None
            removals = self._removals_in(use.name, self._scope_files(use.path))
        elif status == "unknown" and (
            use.reference.qualifier in ("", "self", "this") or resolution.member_of
        ):
            # (a member missing from the class a receiver was made by, `cart = Cart()`: the
            # variable's type is inferred from its bindings, so the finding is possible)
            removals = self._removals_in(use.name, [use.path])
            severity = POSSIBLE
        else:
            return None
        if not removals:
            return None
        return self._classify(use, removals, severity)

    def _classify(self, use: Use, removals: list[Removal], severity: str) -> Conflict | None:
        removal = removals[0]  # sorted: the same one on every replica
        if removal.how == "import" and self._wildcard(use.path):
            # A wildcard import may bind the name too (`import static x.Y.*` after a cleanup
            # of the explicit imports it covers): a use the remover kept says it does.
            if self._kept_by_remover(removal):
                return None
            severity = POSSIBLE
        place, gone = self.ctx.place(use.nid), self.ctx.place(removal.nid)
        how = {
            "renamed": f"renamed {use.name} to {removal.new_name}",
            "deleted": f"deleted {use.name}",
            "import": f"removed the import of {use.name}",
        }[removal.how]
        kind = "import-removed" if removal.how == "import" else "dangling-reference"
        user, later = _judge(removal.entry, self.introducers(use.nid, use.name))
        if user is None:
            # A unit that mentioned the name before can still get a new use of it (a second
            # call, the other side having renamed the first): the line holding it is new.
            line = _line_at(self.ctx.layout(use.path).text, use.reference.start)
            user = _judge(removal.entry, self.line_introducers(use.nid, line))[0] or user
        if user is not None:
            return make(
                kind,
                CONFLICT,
                [place, gone],
                [
                    Side(removal.entry.agent, removal.nid, removal.entry.id, "revert"),
                    Side(user.agent, use.nid, user.id, "revert"),
                ],
                f"{removal.entry.agent} {how}, but {user.agent}'s new code in "
                f"{place.name or place.path} uses it.",
                severity=severity,
                key=[use.name],
            )
        culprit, node = (later, use.nid) if later else (removal.entry, removal.nid)
        return make(
            "broken",
            BROKEN,
            [place, gone],
            [Side(culprit.agent, node, culprit.id, "revert")],
            f"{removal.entry.agent} {how}; {place.name or place.path} still uses it.",
            severity=severity,
            resolutions=("edit",),
            key=[use.name, kind],
        )

    def _wildcard(self, path: str) -> bool:
        """Whether the file imports every name of some module (`import static x.Y.*`,
        `from x import *`, `use x::*`) outside any function: such an import binds names
        no one can list from this file alone."""
        symbols = self.symbols(path)
        return symbols is not None and any(i.star and not i.scope for i in symbols.imports)

    def _kept_by_remover(self, removal: Removal) -> bool:
        """Whether a bare use of the name that the import removal left alone is still in the
        file (the remover's own code: no one raced the removal to write it there)."""
        layout = self.ctx.layout(removal.path)
        for use, _resolution in self.uses():
            if use.path != removal.path or use.name != removal.name or use.reference.qualifier:
                continue
            line = _line_at(layout.text, use.reference.start)
            introduced = self.introducers(use.nid, use.name) + self.line_introducers(use.nid, line)
            if not any(concurrent(e, removal.entry) for e in introduced):
                return True
        return False

    def _behind_import(self, importer: str, removal: Removal) -> Removal:
        """An import removed because the definition it named was renamed or deleted in its
        module (by a rename that updated its callers): the definition's removal is the cause."""
        if removal.how != "import" or not removal.module:
            return removal
        module = Import(removal.module, removal.name, removal.name, "", 0, 0)
        causes = self._removals_in(removal.name, self._module_files(importer, module))
        causes = [c for c in causes if c.how != "import"]
        return causes[0] if causes else removal

    def _unbound(self, use: Use) -> bool:
        """Whether the language reports unbound names as "unresolved" itself (Python)."""
        return reports_unresolved(use.path)

    def _removals_in(self, name: str, paths: Iterable[str]) -> list[Removal]:
        wanted = set(paths)
        found = [r for r in self.removals.get(name, []) if r.path in wanted]
        return sorted(found, key=lambda r: (r.path, r.nid, r.entry.id))

    # -- signatures ------------------------------------------------------------------------

    def signatures(self) -> list[Conflict]:
        out: dict[str, Conflict] = {}
        for use, resolution in self.uses():
            call = use.reference.call
            if call is None or call.splat:
                continue
            definition, home = self._callee(use, resolution)
            if definition is None or definition.signature is None or home is None:
                continue
            if definition.signature.accepts(call):
                continue
            found = self._signature(use, definition, home)
            if found is not None:
                out.setdefault(found.id, found)
        return list(out.values())

    def _callee(self, use: Use, resolution: Resolution) -> tuple[Definition | None, str | None]:
        if self._member_use(use):
            owner = self.resolve_type(use.path, use.reference.receiver_type)
            info = self.type_info(use.path, owner) if owner and owner != "-" else None
            found = info.members.get(use.name, []) if info is not None else []
            if len(found) == 1:
                return found[0]
            return None, None
        if (module := self._module_path(use, resolution)) and self.typed(use.path):
            return self._path_callee(use, module)
        if (
            resolution.status == "unknown"
            and not use.reference.qualifier
            and self.typed(use.path)
            and not self._defined_in(use.path, use.name)
        ):
            resolution = Resolution("unresolved")  # (another file of the package, looked for below)
        if resolution.status == "defined" and resolution.definition is not None:
            if self._overloaded(use.path, resolution.definition):
                return None, None
            return resolution.definition, use.path
        if resolution.status == "imported" and resolution.imported is not None:
            name = resolution.imported.name
            if name is None:
                return None, None
            for path in self._module_files(use.path, resolution.imported):
                symbols = self.symbols(path)
                if symbols is None:
                    continue
                defs = [d for d in symbols.definitions if d.name == name and not d.scope]
                if len(defs) == 1:
                    return defs[0], path
        if resolution.status == "unresolved":
            for path in self._scope_files(use.path):
                symbols = self.symbols(path)
                if symbols is None:
                    continue
                defs = [d for d in symbols.definitions if d.name == use.name and not d.scope]
                if len(defs) == 1:
                    return defs[0], path
        return None, None

    def _path_callee(self, use: Use, qualifier: str) -> tuple[Definition | None, str | None]:
        """A function through a module path (Rust `crate::a::f`, `self::m::f`): the module's
        own file first (`a.rs`, `a/mod.rs`), then its parent's."""
        profile = profile_for(use.path)
        if profile is None:
            return None, None
        paths = self.ctx.document.files
        for path in module_candidates(profile.name, use.path, qualifier):
            symbols = self.symbols(path) if path in paths else None
            if symbols is None:
                continue
            defs = [d for d in symbols.definitions if d.name == use.name and not d.scope]
            if defs:
                return (defs[0], path) if len(defs) == 1 else (None, None)
        return None, None

    def _signature(self, use: Use, definition: Definition, home: str) -> Conflict | None:
        layout = self.ctx.layout(home)
        holder = layout.unit_at(definition.start)
        if holder is None:
            return None
        changes = self._signature_changes(home, holder, definition.name)
        if not changes:
            return None
        call = use.reference.call
        before = self.before_after(holder, changes[0])[0]
        old = self._signature_of(home, before, definition.name)
        if call is not None and old is not None and not old.accepts(call):
            # (JavaScript's `this.runnable()` with runnable(runnable) declared: the call did
            # not fit the parameters before the change either, so the change broke nothing)
            return None
        line = _line_at(self.ctx.layout(use.path).text, use.reference.start)
        introduced = self.line_introducers(use.nid, line)
        place, where = self.ctx.place(use.nid), self.ctx.place(holder)
        changer = changes[-1]
        user, later = _judge(changer, introduced)
        if user is not None:
            return make(
                "signature-mismatch",
                CONFLICT,
                [place, where],
                [
                    Side(changer.agent, holder, changer.id, "revert"),
                    Side(user.agent, use.nid, user.id, "revert"),
                ],
                f"{changer.agent} changed the parameters of {definition.name}, but "
                f"{user.agent}'s new call in {place.name or place.path} uses the old ones.",
            )
        culprit, node = (later, use.nid) if later else (changer, holder)
        return make(
            "broken",
            BROKEN,
            [place, where],
            [Side(culprit.agent, node, culprit.id, "revert")],
            f"{changer.agent} changed the parameters of {definition.name}; the call in "
            f"{place.name or place.path} does not fit them.",
            resolutions=("edit",),
            key=[definition.name, "signature"],
        )

    def _signature_changes(self, path: str, nid: str, name: str) -> list[LogEntry]:
        out = []
        for entry in self.ctx.history.node_log(nid).entries.values():
            if not entry.edits:
                continue
            before, after = self.before_after(nid, entry)
            old, new = self._signature_of(path, before, name), self._signature_of(path, after, name)
            if old is not None and new is not None and old != new:
                out.append(entry)
        return sorted(out, key=lambda e: e.id)

    def _signature_of(self, path: str, texts: Texts, name: str) -> Signature | None:
        fragment = self.fragment(path, render_texts(texts))
        if fragment is None:
            return None
        for definition in fragment.definitions:
            if definition.name == name and definition.signature is not None:
                return definition.signature
        return None

    # -- one name, two definitions ---------------------------------------------------------

    def duplicates(self) -> list[Conflict]:
        out: dict[str, Conflict] = {}
        paths = sorted({p for p in (self.ctx.home(n) for n in self.edited) if p})
        for path in paths:
            symbols = self.definitions(path) if path in self.ctx.document.files else None
            if symbols is None:
                continue
            for found in self._duplicates_in(path, symbols):
                out.setdefault(found.id, found)
        return list(out.values())

    def _duplicates_in(self, path: str, symbols: FileSymbols) -> Iterable[Conflict]:
        layout = self.ctx.layout(path)
        groups: dict[tuple[str, str], list[tuple[Definition, str]]] = {}
        for definition in symbols.definitions:
            if definition.kind not in DEFINITION_KINDS:
                continue
            nid = layout.unit_at(definition.start)
            if nid is not None and layout.spans[nid].name == definition.name:
                groups.setdefault((definition.scope, definition.name), []).append((definition, nid))
        for (_scope, name), defs in sorted(groups.items()):
            nodes = sorted({nid for _, nid in defs})
            if len(nodes) < 2 or self._allowed_twice([d for d, _ in defs], path):
                continue
            found = self._introduced_twice(name, nodes)
            if found is not None:
                yield found

    def _allowed_twice(self, defs: list[Definition], path: str) -> bool:
        """Overloads (different signatures in Java/TypeScript), @overload, property setters,
        and plain re-assignments of a variable are not duplicates."""
        kinds = {d.kind for d in defs}
        profile = profile_for(path)
        declared_once = profile is not None and profile_flag(profile.name, "declared_once")
        if kinds <= {"variable", "constant"} and not declared_once:
            return True
        text = self.ctx.layout(path).text
        for d in defs:
            head = text[max(0, d.start - 200) : d.start]
            if "@overload" in head or ".setter" in head or ".deleter" in head:
                return True
        if profile is None:
            return False
        texts = [text[d.start : d.end] for d in defs]
        return overloads_allowed(profile.name, texts, [d.signature for d in defs])

    def _introduced_twice(self, name: str, nodes: list[str]) -> Conflict | None:
        intros: list[tuple[str, LogEntry]] = []
        for nid in nodes:
            entry = self._naming_entry(nid, name)
            if entry is None:
                return None  # one of them was there at the base: not a merge of two intents
            intros.append((nid, entry))
        for (x, ex), (y, ey) in itertools.pairwise(intros):
            if ex.agent == ey.agent or not concurrent(ex, ey):
                continue
            if self._add_add(x, y, ex, ey):
                continue
            if not named_first(ex, ey):
                (x, ex), (y, ey) = (y, ey), (x, ex)
            places = [self.ctx.place(x), self.ctx.place(y)]
            return make(
                "duplicate-definition",
                CONFLICT,
                places,
                [Side(ex.agent, x, ex.id, "drop", y), Side(ey.agent, y, ey.id, "drop", x)],
                f"{ex.agent} and {ey.agent} both define {name} in one scope.",
                key=[name],
            )
        return None

    def _naming_entry(self, nid: str, name: str) -> LogEntry | None:
        """The newest entry that gave node `nid` the name (its creation or a rename)."""
        created = creation(self.ctx.history, nid)
        found = [created] if created is not None else []
        for entry in self.ctx.history.node_log(nid).entries.values():
            if any(part == "name" and new == name for part, _, _, new in entry.edits):
                found.append(entry)
        return sorted(found, key=lambda e: e.id)[-1] if found else None

    def _add_add(self, x: str, y: str, ex: LogEntry, ey: LogEntry) -> bool:
        doc = self.ctx.document
        return (
            ex.op == "create"
            and ey.op == "create"
            and doc.parent(x) == doc.parent(y)
            and doc.node(x)["kind"] == doc.node(y)["kind"]
        )


_MODULE_PATH = re.compile(r"(?:crate|super|self)(?:::|$)")


def _judge(cause: LogEntry, introduced: list[LogEntry]) -> tuple[LogEntry | None, LogEntry | None]:
    """Who raced `cause` (a removal, a signature change) with new code that needs what it
    changed: (the racing entry, None) is a conflict; otherwise (None, the newest entry that
    added such code after seeing the cause, or None when the code was there before)."""
    racing = [a for a in introduced if concurrent(a, cause)]
    if racing and racing[-1].agent != cause.agent:
        return racing[-1], None
    after = [a for a in introduced if a.saw(cause)]
    return None, (after[-1] if after else None)


def _line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : end if end >= 0 else len(text)].strip()
