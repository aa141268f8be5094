"""Language profiles: which grammar parses a path, and the unit queries read from grammars/."""

from __future__ import annotations

import functools
import importlib
import re
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tree_sitter import Language, Parser, Query, Tree

from crdtspace.errors import CrdtspaceError
from crdtspace.model.affixes import common_prefix, common_suffix
from crdtspace.model.memo import TextMemo

PARSE_CHUNK = 512
"""Bytes handed to tree-sitter per read in a parse with a time budget: each read checks the
clock, so a small chunk notices a parse gone long soon enough (a read costs about 1 µs)."""

Budget = tuple[float, float]
"""Seconds a parse may take, plus seconds per byte of its source."""


class GrammarError(CrdtspaceError):
    """A grammars/<lang>/ folder is malformed (a bad profile or a query that does not compile)."""


@dataclass(frozen=True)
class Profile:
    """What crdtspace knows about one language: all of it read from grammars/<lang>/."""

    name: str
    extensions: tuple[str, ...]
    version: int
    trivia: frozenset[str]
    max_start_depth: int
    language: Language = field(repr=False)
    units: Query = field(repr=False)
    folder: Path = field(repr=False)
    rewrites: tuple[tuple[bytes, bytes], ...] = ()
    """What the parser is shown in place of what (profile.toml's `parse_rewrites`): words of an
    older edition the grammar reads as keywords, each replaced by a word of the same length,
    so every node keeps the bytes of the source it stands for."""

    def for_parser(self, src: bytes) -> bytes:
        """`src` as the parser is shown it (`rewrites`; the same length, byte for byte)."""
        if not self.rewrites:
            return src
        lookup = dict(self.rewrites)
        return _rewriter(self.rewrites).sub(lambda m: lookup[m.group()], src)

    @property
    def key(self) -> str:
        """The grammar identity that goes into deterministic node ids."""
        return f"{self.name}@{self.version}"

    def parser(self) -> Parser:
        """A parser for this language, cached per thread: reused by the thread that made it,
        never shared with another one (a tree-sitter parser is not thread-safe; two threads in
        one parse at once crash the process: networked replicas merge on their connections'
        threads while the caller's thread types into another replica)."""
        key = (self.name, self.folder)
        parser = _PARSERS.by_profile.get(key)
        if parser is None:
            parser = _PARSERS.by_profile[key] = Parser(self.language)
        return parser

    def parse(self, src: bytes) -> Tree:
        """The tree of `src`, parsed whole, from the tree of a source this thread parsed
        recently with this profile where the two share a long start and end (tree-sitter's
        incremental parse: the versions of one merge, or a merge and its result, differ in a
        few places; a 60 KB Rust file then parses in a third of the time). A tree with errors is
        parsed from scratch: tree-sitter's error recovery from an old tree can give another
        tree than a fresh parse, and every replica must cut a text alike."""
        parser = self.parser()
        src = self.for_parser(src)
        recent = _PARSERS.recent.setdefault((self.name, self.folder), [])
        best: tuple[int, int, bytes, Tree] | None = None
        for old, tree in recent:
            if old == src:
                return tree
            head = common_prefix(old, src)
            tail = common_suffix(old[head:], src[head:])
            if best is None or head + tail > best[0] + best[1]:
                best = (head, tail, old, tree)
        if best is not None and 4 * (best[0] + best[1]) >= 3 * len(src):
            head, tail, old, tree = best
            reused = tree.copy()
            reused.edit(
                start_byte=head,
                old_end_byte=len(old) - tail,
                new_end_byte=len(src) - tail,
                start_point=_point(src, head),
                old_end_point=_point(old, len(old) - tail),
                new_end_point=_point(src, len(src) - tail),
            )
            parsed = parser.parse(src, reused)
            if parsed.root_node.has_error:  # (error recovery from an old tree may differ)
                parsed = parser.parse(src)
        else:
            parsed = parser.parse(src)
        recent.append((src, parsed))
        if len(recent) > RECENT_TREES:
            del recent[0]
        return parsed

    def parse_within(self, src: bytes, budget: Budget) -> Tree | None:
        """Parse `src`, giving up (None) when it takes longer than `budget` allows for its size.

        Valid code parses in well under a microsecond per byte; text riddled with errors can
        take tens to thousands of times longer (tree-sitter's error recovery), which a re-key
        that only needs to know "does this parse?" should not wait for."""
        base, per_byte = budget
        src = self.for_parser(src)
        deadline = time.perf_counter() + base + per_byte * len(src)
        # Giving up cuts the input where what was handed out so far ends, so every later read
        # sees the same, shorter document, and chunks end on character boundaries, so the cut
        # never splits one. (Answering "" to any read once the time is up, after a chunk that
        # ended inside a character, crashed tree-sitter's error recovery: a segfault.)
        end = len(src)
        served = 0

        def read(offset: int, _point: tuple[int, int]) -> bytes:
            nonlocal end, served
            if end == len(src) and time.perf_counter() > deadline:
                end = served
            stop = min(offset + PARSE_CHUNK, end)
            while stop < end and src[stop] & 0xC0 == 0x80:  # inside a UTF-8 character
                stop -= 1
            if stop <= offset:
                return b""
            served = max(served, stop)
            return src[offset:stop]

        tree = self.parser().parse(read)
        return None if end < len(src) else tree

    def parses(self, text: str) -> bool:
        """Whether `text` parses without a syntax error in this language (a text asked about
        recently is not parsed again: a merge asks twice of git's line merge)."""
        key = (self.name, str(self.folder), text)  # (what `parser()` depends on)
        held = _PARSES.get(key)
        if held is None:
            tree = self.parse(text.encode("utf-8", "surrogateescape"))
            held = not tree.root_node.has_error
            _PARSES.put(key, held)
        return held

    def parsed(self, text: str, ok: bool) -> None:
        """`text` was parsed whole (its UTF-8 bytes, by this profile's parser), with a syntax
        error or not: `parses` answers from that."""
        _PARSES.put((self.name, str(self.folder), text), ok)


_PARSES: TextMemo[bool] = TextMemo(entries=32, chars=4 << 20, largest=256 << 10)
"""Whether recent texts parse, by (language, grammar folder, text) (`Profile.parses`)."""


def grammars_dir() -> Path:
    """The grammars folder: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent.parent  # the package (this module is in a layer)
    installed = here / "_data" / "grammars"
    if installed.is_dir():
        return installed
    return here.parent / "grammars"


def load_profile(folder: Path) -> Profile:
    """Read one grammars/<lang>/ folder: profile.toml plus its unit query."""
    try:
        config = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
        module = importlib.import_module(config["grammar"])
        language = Language(getattr(module, config.get("function", "language"))())
        units_file = folder / config.get("units", "units.scm")
        units_source = units_file.read_text(encoding="utf-8")
        units = Query(language, units_source)
        _check_captures(units_source, units)
        return Profile(
            name=config["name"],
            extensions=tuple(config["extensions"]),
            version=int(config.get("version", 1)),
            trivia=frozenset(config.get("trivia", [])),
            max_start_depth=int(config.get("max_start_depth", 12)),
            language=language,
            units=units,
            folder=folder,
            rewrites=_rewrites(config.get("parse_rewrites", [])),
        )
    # AttributeError: no such grammar function in the wheel; TypeError: it is not one.
    except (
        OSError,
        KeyError,
        ValueError,
        ImportError,
        AttributeError,
        TypeError,
        tomllib.TOMLDecodeError,
    ) as exc:
        raise GrammarError(
            f"The grammar folder {folder} cannot be loaded: {exc}",
            hint="check its profile.toml and units.scm",
        ) from exc


def _rewrites(pairs: Any) -> tuple[tuple[bytes, bytes], ...]:
    """profile.toml's `parse_rewrites`: pairs of words of one length ("try!" -> "tri!")."""
    out = []
    for pair in pairs:
        old, new = (str(x).encode("utf-8") for x in pair)
        if len(old) != len(new) or not old:
            raise ValueError(f"parse_rewrites: {pair} must be two words of one length")
        out.append((old, new))
    return tuple(out)


@functools.cache
def _rewriter(rewrites: tuple[tuple[bytes, bytes], ...]) -> re.Pattern[bytes]:
    """The rewritten words, each where no word character is before it."""
    return re.compile(rb"(?<![\w])(?:" + b"|".join(re.escape(old) for old, _ in rewrites) + rb")")


UNIT_CAPTURES = frozenset({"unit", "name", "kind", "body"})
"""The capture names a units query may use; @unit is required in every pattern."""


_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|;[^\n]*|@([\w.-]+)')
"""A query's strings, comments and captures: only captures have group 1 (a comment or a string
that mentions "@unit" must not count)."""


def _check_captures(source: str, units: Query) -> None:
    """Refuse a units query the segmenter cannot use: unknown captures, a pattern without @unit."""
    names = {units.capture_name(i) for i in range(units.capture_count)}
    unknown = sorted(names - UNIT_CAPTURES)
    if unknown:
        raise ValueError(f"unknown captures {unknown}; a units query uses {sorted(UNIT_CAPTURES)}")
    raw = source.encode("utf-8")
    for i in range(units.pattern_count):
        start = units.start_byte_for_pattern(i)
        text = raw[start : units.end_byte_for_pattern(i)].decode("utf-8")
        if "unit" not in {m.group(1) for m in _TOKENS.finditer(text)}:
            line = raw.count(b"\n", 0, start) + 1
            raise ValueError(f"the pattern on line {line} has no @unit capture")


@functools.cache
def settings() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every language's folder and profile.toml, by name, read without loading a grammar."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for folder in sorted(grammars_dir().iterdir()):
        if (folder / "profile.toml").is_file():
            try:
                config = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
                found[str(config["name"])] = (folder, config)
            except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
                raise GrammarError(
                    f"The grammar folder {folder} cannot be loaded: {exc}",
                    hint="check its profile.toml and units.scm",
                ) from exc
    return found


@functools.cache
def profile_named(name: str) -> Profile | None:
    """The profile of one language, its grammar loaded on first use (None if unknown)."""
    found = settings().get(name)
    return load_profile(found[0]) if found is not None else None


def profiles() -> dict[str, Profile]:
    """Every language profile found in the grammars folder, by name (each grammar loaded)."""
    return {name: p for name in settings() if (p := profile_named(name)) is not None}


def profile_keys() -> list[str]:
    """Every language's ``name@version`` (`Profile.key`), sorted, with no grammar loaded."""
    return sorted(f"{name}@{int(str(c.get('version', 1)))}" for name, (_, c) in settings().items())


@functools.cache
def _by_extension() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (_, config) in settings().items():
        extensions = config.get("extensions", [])
        for ext in extensions if isinstance(extensions, list) else []:
            out[str(ext)] = name
    return out


def extensions() -> list[str]:
    """Every file extension a language claims, sorted (no grammar loaded)."""
    return sorted(_by_extension())


def profile_for(path: str) -> Profile | None:
    """The profile that parses this path, or None: the file is then plain collaborative text.
    Only that language's grammar is loaded."""
    name = _language_of(path)
    return profile_named(name) if name is not None else None


@functools.lru_cache(maxsize=4096)
def _language_of(path: str) -> str | None:
    """The language of a path, by its extension (asked thousands of times a merge)."""
    return _by_extension().get(PurePosixPath(path).suffix.lower())


class _ThreadParsers(threading.local):
    """Each thread's parsers, by profile (`Profile.parser`), and the sources it parsed last
    with their trees (`Profile.parse`)."""

    def __init__(self) -> None:
        self.by_profile: dict[tuple[str, Path], Parser] = {}
        self.recent: dict[tuple[str, Path], list[tuple[bytes, Tree]]] = {}


RECENT_TREES = 3
"""Trees a thread keeps per profile for incremental parses (the three versions of a merge)."""


def _point(src: bytes, offset: int) -> tuple[int, int]:
    """The (row, byte column) of a byte offset, as tree-sitter counts them."""
    return src.count(b"\n", 0, offset), offset - (src.rfind(b"\n", 0, offset) + 1)


_PARSERS = _ThreadParsers()
