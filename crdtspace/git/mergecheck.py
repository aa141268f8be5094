"""Whether git's clean line merge of a file may hide a semantic conflict: a cheap, safe check.

The semantic checks of the node model (`crdtspace.conflicts.semantics`) report a conflict only
where one side's edit is a cause and the other side's edit, not having seen it, relies on what
the cause changed:

- a name one side took away (it renamed or deleted the unit so named, or edited an import
  statement, or Rust's ``use``, that bound it) that the other side brought into a unit's text
  (``dangling-reference``, ``import-removed``); not into an import statement, whose names are
  bindings, never uses of another's (a use that is there resolves to its own import);
- parameters one side changed in a unit it edited, and a line the other side added to a unit
  that calls the name (``signature-mismatch``): first as words (a word of the edited unit
  called in the new line), then, given the language, as the names whose signatures differ in
  the unit's symbols before and after (a unit's text parsed alone, as the checks parse it);
- one name both sides gave to a new or renamed unit (``duplicate-definition``).

`may_hide_conflict` over-approximates each of these from the three versions cut into units as
re-keying cuts them (`crdtspace.model.segment`), pairing units the way re-keying pairs them
first (a kind and name unique within a paired parent, then identical text) and counting a unit
left unpaired as removed or added whole. Names are compared as words (``[\\w$]+``, the words
the checks' own searches look for). False means the node model would find no semantic conflict,
so the merge driver keeps git's clean merge without building the model (about 1 s a file in a
process of its own); True means only that the full analysis must decide.

It needs tree-sitter and the file's grammar only (and the symbols query of the units whose
edit meets a new call by its words): no pycrdt.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crdtspace.model.languages import Profile
from crdtspace.model.segment import Seg, segment_module

if TYPE_CHECKING:
    from crdtspace.conflicts.symboltable import Signature

__all__ = ["may_hide_between", "may_hide_conflict"]

_WORD = re.compile(r"[\w$]+")
_CALLED = re.compile(r"([\w$]+)\s*(?:[(<\[!`]|::)|\bnew\s+([\w$]+)")
"""A word followed by what a call puts after its callee (arguments, type arguments, a
turbofish, a template), or after ``new``: every call reference is one of these."""


@dataclass
class _Edits:
    """What one side's edit may cause, or may rely on, in the checks (all sets of words)."""

    removed: set[str] = field(default_factory=set)
    introduced: set[str] = field(default_factory=set)
    edited_words: set[str] = field(default_factory=set)
    called_in_new_lines: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)
    changed: list[tuple[str, str]] = field(default_factory=list)  # paired units' (no import's)
    unbinding: set[str] = field(default_factory=set)  # the words of imports edited or gone
    imports: list[tuple[str, str]] = field(default_factory=list)  # their texts ("" when gone)
    gone: list[str] = field(default_factory=list)  # own texts of units left unpaired
    added: list[str] = field(default_factory=list)


def may_hide_conflict(base: str, left: str, right: str, profile: Profile) -> bool:
    """Whether the node model could find a semantic conflict between `left` and `right`
    (edits of `base` in `profile`'s language); True also when a version cannot be cut."""
    cuts = [segment_module(text, profile) for text in (base, left, right)]
    return may_hide_between(*cuts, language=profile.name)


def may_hide_between(
    base_seg: Seg | None,
    left_seg: Seg | None,
    right_seg: Seg | None,
    *,
    language: str | None = None,
) -> bool:
    """`may_hide_conflict` of versions already cut (`segment_module`; None: it cannot be).
    With the `language` (a profile's name), a call the other side added to a name whose unit
    one side edited counts only when that edit changed the parameters the name is defined
    with (the symbols of the unit's text before and after, as the node model reads them)."""
    if base_seg is None or left_seg is None or right_seg is None:
        return True
    ours, theirs = _Edits(), _Edits()
    _compare(base_seg, left_seg, ours)
    _compare(base_seg, right_seg, theirs)
    return _meet(ours, theirs, language) or _meet(theirs, ours, language)


def _meet(cause: _Edits, user: _Edits, language: str | None) -> bool:
    if cause.removed & user.introduced or cause.named & user.named:
        return True
    unbinds = not cause.unbinding.isdisjoint(user.introduced)  # (by words: then by symbols)
    calls = not cause.edited_words.isdisjoint(user.called_in_new_lines)
    if not (unbinds or calls):
        return False
    if language is None:
        return True
    try:
        return bool(
            (unbinds and _unbound(cause, language) & user.introduced)
            or (calls and _resignatured(cause, language, user.called_in_new_lines))
        )
    except Exception:  # (no symbols for the language, or a reader's error: the full analysis)
        return True


_RESERVED = {
    "python": "and as assert async await class def del elif else except finally for from global "
    "if import in is lambda nonlocal not or raise return try while with yield None True False",
    "javascript": "break case catch class const continue debugger default delete do else export "
    "extends finally for function if import in instanceof new return super switch this throw "
    "try typeof var void while with null true false",
    "go": "break case chan const continue default defer else fallthrough for func go goto if "
    "import interface map package range return select struct switch type var",
    "rust": "as async await break const continue crate dyn else enum extern false fn for if impl "
    "in let loop match mod move mut pub ref return self Self static struct super trait true "
    "type unsafe use where while",
    "java": "abstract assert boolean break byte case catch char class const continue default do "
    "double else enum extends final finally float for goto if implements import instanceof int "
    "interface long native new package private protected public return short static strictfp "
    "super switch synchronized this throw throws transient try void volatile while null true "
    "false",
}
_RESERVED["typescript"] = _RESERVED["tsx"] = _RESERVED["javascript"]
RESERVED = {language: frozenset(words.split()) for language, words in _RESERVED.items()}
"""Each language's reserved words, which no definition can be named: a `called` word that is
one (``if (``, ``func(``, ``return (``) never needs a unit's symbols read."""


def _resignatured(cause: _Edits, language: str, called: set[str]) -> set[str]:
    """The names of `called` whose parameters the side's edits may have changed: a name
    defined with a signature in a paired unit's text before and after, differently
    (`Semantics._signature_of` reads the first definition of the name); and, since re-keying
    may pair units this check leaves unpaired (by similarity), a name defined with a signature
    both in a unit the side left unpaired in the base and in one it added. A name also counts
    by its last part (a Go method's ``Receiver.method``). Only units whose words hold a name
    of `called` are parsed."""

    called = called - RESERVED.get(language, frozenset())
    out: set[str] = set()
    for before, after in cause.changed:
        if not called.isdisjoint(_words(before) & _words(after)):  # (a name is in both)
            old, new = _signatures(language, before), _signatures(language, after)
            out |= {name for name in old.keys() & new.keys() if old[name] != new[name]}
    if cause.gone and cause.added:
        gone = [(t, _words(t)) for t in cause.gone]
        added = [(t, _words(t)) for t in cause.added]
        wanted = called & set().union(*(w for _, w in gone)) & set().union(*(w for _, w in added))
        if wanted:
            names = [
                {n for t, w in texts if not wanted.isdisjoint(w) for n in _signatures(language, t)}
                for texts in (gone, added)
            ]
            out |= names[0] & names[1]
    return {part for name in out for part in (name, re.split(r"\.|::", name)[-1])} & called


def _unbound(cause: _Edits, language: str) -> set[str]:
    """The words of the names the side's edits of imports unbound: bound in an import's text
    before (`Import.alias`, read from the text parsed alone, as `Semantics` reads it) and not
    after (every one, when the import is gone)."""
    from crdtspace.conflicts.findings import profile_flag
    from crdtspace.conflicts.symbols import fragment_symbols

    prelude = profile_flag(language, "extern_prelude")

    def bound(text: str) -> set[str]:
        if not text:
            return set()
        found = fragment_symbols(language, text, references=False).imports
        return {i.alias for i in found if i.binds(prelude)}

    out: set[str] = set()
    for before, after in cause.imports:
        for name in bound(before) - bound(after):
            out |= _words(name)
    return out


@functools.lru_cache(maxsize=64)
def _signatures(language: str, text: str) -> dict[str, Signature]:
    """Each name a unit's text defines with a signature -> its first such signature (a base
    unit both sides edited is read once; callers never change the dict)."""
    from crdtspace.conflicts.symbols import fragment_symbols

    out: dict[str, Signature] = {}
    for definition in fragment_symbols(language, text, references=False).definitions:
        if definition.signature is not None:
            out.setdefault(definition.name, definition.signature)
    return out


# -- one side against the base ------------------------------------------------------------


def _compare(base: Seg, side: Seg, out: _Edits) -> None:
    """Two paired units (and their children, paired in turn)."""
    before, after = _own(base), _own(side)
    if before != after:
        out.edited_words |= _words(before) | _words(after)
        if _imports(base.kind):
            out.unbinding |= _words(before)
            out.imports.append((before, after))
        else:
            out.changed.append((before, after))
            out.introduced |= _words(after) - _words(before)
            # (lines it added, a copy of one it had included: Counter's difference)
            counts = Counter(x.strip() for x in after.splitlines())
            counts.subtract(x.strip() for x in before.splitlines())
            new_lines = "\n".join(line for line, n in counts.items() if n > 0)
            out.introduced |= _words(new_lines)  # (a new line's names: see Semantics._classify)
            out.called_in_new_lines |= _called(new_lines)
    pairs, gone, added = _pair(base.children, side.children)
    for old, new in pairs:
        _compare(old, new, out)
    for old in gone:
        _gone(old, out)
    for new in added:
        _added(new, out)


def _gone(base: Seg, out: _Edits) -> None:
    """A base unit with no partner: deleted, renamed, moved or rewritten (and all below it)."""
    text = _own(base)
    out.gone.append(text)
    out.removed |= _name_words(base) | _last_part(base)
    if _imports(base.kind):
        out.unbinding |= _words(text)
        out.imports.append((text, ""))
    out.edited_words |= _words(text)
    for child in base.children:
        _gone(child, out)


def _added(side: Seg, out: _Edits) -> None:
    """A unit of the side with no partner in the base: new, renamed, moved or rewritten."""
    text = _own(side)
    out.added.append(text)
    out.edited_words |= _words(text)
    out.named |= _name_words(side)
    if not _imports(side.kind):
        out.introduced |= _words(text)
        out.called_in_new_lines |= _called(text)
    for child in side.children:
        _added(child, out)


def _pair(old: list[Seg], new: list[Seg]) -> tuple[list[tuple[Seg, Seg]], list[Seg], list[Seg]]:
    """Pairs of children, then the base's and the side's unpaired ones: by a (kind, name,
    shape) unique on both sides, then by identical text, as re-keying pairs them first."""
    old_keys = Counter(map(_key, old))
    new_keys = Counter(map(_key, new))
    by_key = {_key(s): s for s in new if new_keys[_key(s)] == 1}
    pairs: list[tuple[Seg, Seg]] = []
    taken: set[int] = set()
    rest: list[Seg] = []
    for seg in old:
        key = _key(seg)
        partner = by_key.get(key) if key is not None and old_keys[key] == 1 else None
        if partner is None:
            rest.append(seg)
        else:
            pairs.append((seg, partner))
            taken.add(id(partner))
    by_text: dict[tuple[bool, str], list[Seg]] = {}
    for seg in new:
        if id(seg) not in taken:
            by_text.setdefault((seg.is_container, seg.render()), []).append(seg)
    gone: list[Seg] = []
    for seg in rest:
        same = by_text.get((seg.is_container, seg.render()))
        if same:
            partner = same.pop(0)
            pairs.append((seg, partner))
            taken.add(id(partner))
        else:
            gone.append(seg)
    added = [seg for seg in new if id(seg) not in taken]
    return pairs, gone, added


def _imports(kind: str) -> bool:
    """Whether a unit of this kind binds names from elsewhere, as `Semantics` counts them (an
    import statement; Rust's ``use``)."""
    return "import" in kind or kind == "use_declaration"


def _key(seg: Seg) -> tuple[str, str, bool] | None:
    return (seg.kind, seg.name, seg.is_container) if seg.name else None


def _own(seg: Seg) -> str:
    """A unit's own text, as its node holds it: a leaf's text, a container's head and tail."""
    return seg.text if seg.text is not None else seg.head + seg.tail


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text))


def _name_words(seg: Seg) -> set[str]:
    """The unit's name when it is one word (a name joined from several parts is never the
    name of a reference or a definition, which the checks compare it with)."""
    return {seg.name} if seg.name and _WORD.fullmatch(seg.name) else set()


def _last_part(seg: Seg) -> set[str]:
    """The method's name of a unit named "Receiver.method" (Go), which the checks take as the
    name removed (`Semantics._removed_by`); a private name's word (JavaScript's `#trim`)."""
    last = seg.name.rpartition(".")[2].removeprefix("#") if seg.name else ""
    return {last} if _WORD.fullmatch(last) else set()


def _called(text: str) -> set[str]:
    return {a or b for a, b in _CALLED.findall(text)}
