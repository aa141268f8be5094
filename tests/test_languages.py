"""Language profiles: every grammars/<lang>/ folder loads, maps its extensions, and compiles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Language, Node, Parser, Query

from crdtspace.model.languages import (
    GrammarError,
    grammars_dir,
    load_profile,
    profile_for,
    profiles,
)

EXPECTED = {
    "python": [".py", ".pyi", ".pyw"],
    "javascript": [".js", ".mjs", ".cjs", ".jsx"],
    "typescript": [".ts", ".mts", ".cts"],
    "tsx": [".tsx"],
    "go": [".go"],
    "rust": [".rs"],
    "java": [".java"],
}

# The node types a profile's trivia names must exist in its grammar (a typo would silently
# turn a comment into a unit of its own).
CAPTURES = {"unit", "name", "kind", "body"}


def test_every_grammar_folder_loads() -> None:
    found = profiles()
    assert set(found) == set(EXPECTED)
    folders = {f.name for f in grammars_dir().iterdir() if (f / "profile.toml").is_file()}
    assert folders == set(EXPECTED)
    for name, profile in found.items():
        assert profile.name == name
        assert profile.folder.name == name
        assert profile.key == f"{name}@{profile.version}"
        assert profile.version >= 1
        assert profile.max_start_depth >= 4


@pytest.mark.parametrize(("name", "extensions"), sorted(EXPECTED.items()))
def test_extensions_map_to_their_profile(name: str, extensions: list[str]) -> None:
    profile = profiles()[name]
    assert list(profile.extensions) == extensions
    for ext in extensions:
        assert profile_for(f"src/deep/file{ext}") is profile
        assert profile_for(f"FILE{ext.upper()}") is profile  # extensions are case-blind


def test_no_extension_is_claimed_twice() -> None:
    seen: dict[str, str] = {}
    for profile in profiles().values():
        for ext in profile.extensions:
            assert ext.startswith(".")
            assert ext == ext.lower()
            assert ext not in seen, f"{ext} is claimed by {seen.get(ext)} and {profile.name}"
            seen[ext] = profile.name


@pytest.mark.parametrize("path", ["README.md", "Makefile", "a.txt", "x.py.orig", "dir.rs/notes"])
def test_unknown_paths_have_no_profile(path: str) -> None:
    assert profile_for(path) is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unit_queries_capture_only_known_names(name: str) -> None:
    profile = profiles()[name]
    query = profile.units
    assert query.pattern_count > 0
    names = {query.capture_name(i) for i in range(query.capture_count)}
    assert "unit" in names
    assert names <= CAPTURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_pattern_captures_a_unit(name: str) -> None:
    # A pattern without @unit would make the segmenter fail on the first file it matches.
    profile = profiles()[name]
    query = profile.units
    source = (profile.folder / _units_file(profile.folder)).read_text(encoding="utf-8")
    for i in range(query.pattern_count):
        start, end = query.start_byte_for_pattern(i), query.end_byte_for_pattern(i)
        pattern = source.encode("utf-8")[start:end].decode("utf-8")
        assert "@unit" in pattern, f"pattern {i} of {name} has no @unit:\n{pattern}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_trivia_are_node_types_of_the_grammar(name: str) -> None:
    profile = profiles()[name]
    language: Language = profile.language
    kinds = {language.node_kind_for_id(i) for i in range(language.node_kind_count)}
    assert profile.trivia, f"{name} declares no comment type"
    assert profile.trivia <= kinds


def test_tsx_shares_the_typescript_query() -> None:
    ts, tsx = profiles()["typescript"], profiles()["tsx"]
    assert _units_file(tsx.folder) == "../typescript/units.scm"
    assert ts.units.pattern_count == tsx.units.pattern_count
    assert ts.trivia == tsx.trivia
    assert ts.language != tsx.language


def test_a_parser_per_profile_is_cached() -> None:
    profile = profiles()["go"]
    assert profile.parser() is profile.parser()
    tree = profile.parser().parse(b"package main\n\nfunc main() {}\n")
    assert not tree.root_node.has_error


# -- malformed grammar folders ------------------------------------------------------------


def _copy(tmp_path: Path, name: str = "go") -> Path:
    folder = tmp_path / name
    shutil.copytree(grammars_dir() / name, folder)
    return folder


def _units_file(folder: Path) -> str:
    import tomllib

    config = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
    return str(config.get("units", "units.scm"))


def test_a_copied_folder_loads(tmp_path: Path) -> None:
    profile = load_profile(_copy(tmp_path))
    assert profile.name == "go"
    assert isinstance(profile.units, Query)


@pytest.mark.parametrize(
    "query",
    [
        "(function_declaration name: (identifier) @name @unit",  # unbalanced
        "(no_such_node) @unit",  # unknown node type
        "(function_declaration no_such_field: (identifier) @name) @unit",  # unknown field
        "(function_declaration name: (block) @name) @unit",  # impossible structure
    ],
)
def test_a_bad_query_is_a_grammar_error(tmp_path: Path, query: str) -> None:
    folder = _copy(tmp_path)
    (folder / "units.scm").write_text(query, encoding="utf-8")
    with pytest.raises(GrammarError) as info:
        load_profile(folder)
    assert str(folder) in str(info.value)


@pytest.mark.parametrize(
    ("profile_toml", "why"),
    [
        ('name = "go"\n', "no grammar"),
        ('name = "go"\ngrammar = "no_such_grammar_wheel"\nextensions = [".go"]\n', "no module"),
        (
            'name = "go"\ngrammar = "tree_sitter_go"\nfunction = "nope"\nextensions = [".go"]\n',
            "no function",
        ),
        (
            'name = "go"\ngrammar = "tree_sitter_go"\nfunction = "__name__"\n'
            'extensions = [".go"]\n',
            "not a function",
        ),
        ('name = "go"\ngrammar = "tree_sitter_go"\n', "no extensions"),
        ('name = "go\n', "bad toml"),
        (
            'name = "go"\ngrammar = "tree_sitter_go"\nextensions = [".go"]\nversion = "x"\n',
            "bad version",
        ),
    ],
)
def test_a_bad_profile_is_a_grammar_error(tmp_path: Path, profile_toml: str, why: str) -> None:
    folder = _copy(tmp_path)
    (folder / "profile.toml").write_text(profile_toml, encoding="utf-8")
    with pytest.raises(GrammarError):
        load_profile(folder)


@pytest.mark.parametrize(
    "query",
    [
        "(function_declaration name: (identifier) @name)",
        # a comment that mentions @unit does not count
        "(function_declaration) @unit\n(method_declaration name: (_) @name) ; not @unit\n",
        "(function_declaration name: (identifier) @nmae) @unit",  # a typo of @name
        # nor does a string
        '((function_declaration name: (identifier) @name) (#eq? @name "@unit"))',
    ],
)
def test_a_query_the_segmenter_cannot_use_is_a_grammar_error(tmp_path: Path, query: str) -> None:
    folder = _copy(tmp_path)
    (folder / "units.scm").write_text(query, encoding="utf-8")
    with pytest.raises(GrammarError) as info:
        load_profile(folder)
    assert str(folder) in str(info.value)


def test_a_missing_query_file_is_a_grammar_error(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "units.scm").unlink()
    with pytest.raises(GrammarError):
        load_profile(folder)


def test_a_shared_query_path_is_relative_to_the_folder(tmp_path: Path) -> None:
    _copy(tmp_path, "typescript")
    folder = _copy(tmp_path, "tsx")
    profile = load_profile(folder)
    assert profile.name == "tsx"
    (tmp_path / "typescript" / "units.scm").write_text("(oops", encoding="utf-8")
    with pytest.raises(GrammarError):
        load_profile(folder)


def test_a_parse_with_a_budget_gives_up_rather_than_wait() -> None:
    from crdtspace.model.languages import profile_for

    profile = profile_for("x.py")
    assert profile is not None
    src = b"def f(x):\n    return x\n" * 2000
    tree = profile.parse_within(src, budget=(5.0, 0.0))
    assert tree is not None
    assert not tree.root_node.has_error
    assert tree.root_node.end_byte == len(src)  # the whole text, read in chunks
    assert profile.parse_within(src, budget=(0.0, 0.0)) is None


@pytest.mark.parametrize("path", ["x.py", "x.rs", "x.ts"])
def test_a_parse_cut_short_at_any_read_never_crashes(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Giving up in the middle of garbled code (the case the budget exists for) hands tree-sitter
    one consistent, shorter document cut between characters: answering "" to every read once the
    time was up, after a chunk that ended inside a character, crashed the process (a segfault in
    its error recovery). The clock is faked so each read is one tick."""
    import random

    import crdtspace.model.languages as languages

    profile = profile_for(path)
    assert profile is not None
    rnd = random.Random(7)
    base = (
        'def alpha(x):\n    return x + 1\n\nclass Box:\n    """Holds things é."""\n\n'
        "    def put(self, item):\n        self.items.append(item)\n"
    )
    pieces = ["x", " ", "\n", "é", "🙂", "(", ")", ":", "\n\ndef t():\n    return 0\n", "# n\n"]
    for _ in range(300):
        text = base
        for _ in range(40):
            at = rnd.randint(0, len(text))
            text = text[:at] + rnd.choice(pieces) + text[at:]
        text *= rnd.randint(1, 8)
        src = text.encode("utf-8")
        clock = iter(range(10**6)).__next__
        monkeypatch.setattr(languages.time, "perf_counter", lambda tick=clock: float(tick()))
        reads = rnd.randint(0, 6)  # the deadline passes at the read after `reads` reads
        tree = profile.parse_within(src, budget=(reads + 0.5, 0.0))
        if reads == 0:
            assert tree is None
        if tree is not None:  # not cut: the tree of the whole text
            assert str(tree.root_node) == str(profile.parser().parse(src).root_node)


def test_a_path_loads_only_its_own_grammar() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from crdtspace.model import languages\n"
        "assert languages.profile_for('main.go').name == 'go'\n"
        "assert languages.extensions() and languages.profile_keys()\n"
        "print(*sorted({m.split('.')[0] for m in sys.modules if m.startswith('tree_sitter_')}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["tree_sitter_go"]


# -- threads -----------------------------------------------------------------------------------


def test_each_thread_parses_with_its_own_parser() -> None:
    profile = profiles()["python"]
    mine = profile.parser()
    theirs: list[Parser] = []
    thread = threading.Thread(target=lambda: theirs.extend([profile.parser(), profile.parser()]))
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the thread did not make its parsers within 60 s"
    assert theirs[0] is theirs[1]  # (cached within a thread)
    assert theirs[0] is not mine
    assert profile.parser() is mine


# Two threads re-keying at once, as networked replicas do (each merge flushes the replica's
# typing on its connection's thread while the caller types into another replica): a parser
# shared between them crashed tree-sitter within a fraction of a second (a segfault), so this
# runs in a process of its own, where a crash is a failed test rather than the end of pytest.
RACE = """
import sys, threading, time
from crdtspace.model.languages import profile_for

profile = profile_for("app.py")
src = ("def f(x):\\n    return [x +\\n" * 40 + "class C:\\n  def g(self): pass\\n" * 200).encode()
sys.setswitchinterval(1e-6)  # (threads take turns inside the parse's reads)
stop = time.monotonic() + float(sys.argv[1])

def parse() -> None:
    while time.monotonic() < stop:
        tree = profile.parse_within(src, (1.0, 1e-6))
        assert tree is not None and tree.root_node.end_byte == len(src)

threads = [threading.Thread(target=parse) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_threads_parsing_at_once_do_not_crash() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", RACE, "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]


# -- incremental parses ----------------------------------------------------------------------

_SOURCES = {
    "m.py": (Path(__file__).parent.parent / "crdtspace" / "model" / "segment.py").read_text(),
    "m.rs": "use std::fmt;\n\nfn a(x: i32) -> i32 {\n    x + 1\n}\n\nstruct S { v: u8 }\n\n"
    "impl S {\n    fn get(&self) -> u8 { self.v }\n}\n",
    "m.go": 'package p\n\nimport "fmt"\n\nfunc A(x int) int {\n\treturn x + 1\n}\n\n'
    'func B() { fmt.Println("b") }\n',
    "M.java": "class M {\n    int a(int x) { return x + 1; }\n    void b() { a(1); }\n}\n",
}


_INSERTS = ["", "x", "(", ")", "{", "}\n", "\n    y = 1\n", "é😀", '"', "//", "#"]


@settings(max_examples=150, deadline=None)
@given(
    path=st.sampled_from(sorted(_SOURCES)),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.integers(0, 12),
            st.sampled_from(_INSERTS),
        ),
        min_size=1,
        max_size=4,
    ),
    steps=st.integers(1, 3),
)
def test_a_parse_from_a_recent_tree_is_the_parse_from_scratch(
    path: str, edits: list[tuple[float, int, str]], steps: int
) -> None:
    """Versions of one text parsed one after another (each from the tree of one before it,
    where they share most of their bytes) give the trees a fresh parser gives."""
    profile = profile_for(path)
    assert profile is not None
    text = _SOURCES[path]
    fresh = Parser(profile.language)
    versions = [text]
    for _ in range(steps):
        chars = list(versions[-1])
        for where, length, insert in edits:
            at = int(where * len(chars))
            chars[at : at + length] = insert
        versions.append("".join(chars))
    for version in [*versions, text, versions[-1]]:
        src = version.encode("utf-8")
        ours, theirs = profile.parse(src).root_node, fresh.parse(src).root_node
        assert str(ours) == str(theirs)
        assert (ours.has_error, ours.end_byte) == (theirs.has_error, theirs.end_byte)
        assert _spans(ours) == _spans(theirs)


def _spans(node: Node) -> list[tuple[str, int, int]]:
    out = [(node.type, node.start_byte, node.end_byte)]
    for child in node.children:
        out += _spans(child)
    return out


RUST_2015 = """\
fn load(path: &str) -> Result<String, Error> {
    let text = try!(read(path));
    let value = try::parse(&text);
    Ok(try!(value))
}

fn try_twice(ntry: u32) -> u32 {
    retry!(ntry)
}
"""


def test_rust_2015_try_macro_parses_and_keeps_its_bytes() -> None:
    from crdtspace.model.segment import segment_file

    profile = profile_for("lib.rs")
    assert profile is not None
    shown = profile.for_parser(RUST_2015.encode())
    assert len(shown) == len(RUST_2015.encode())
    # (only the whole words: `retry!`, `try_twice` and `ntry` are left alone)
    assert shown.decode() == (
        RUST_2015.replace(" try!(", " tri!(").replace("(try!(", "(tri!(").replace("try::", "tri::")
    )
    assert not profile.parse(RUST_2015.encode()).root_node.has_error
    assert profile.parses(RUST_2015)
    cut = segment_file("src/lib.rs", RUST_2015)
    assert cut.language == "rust"
    assert [c.name for c in cut.root.children if c.name] == ["load", "try_twice"]
    assert cut.fallback_reason is None
    assert cut.root.render() == RUST_2015  # (every byte the source's, try! included)
    assert "try!(read(path))" in cut.root.children[0].render()


@pytest.mark.parametrize("pairs", ['[["try!", "tr!"]]', '[["", ""]]'])
def test_a_parse_rewrite_of_another_length_is_a_grammar_error(tmp_path: Path, pairs: str) -> None:
    folder = _copy(tmp_path, "rust")
    toml = (folder / "profile.toml").read_text(encoding="utf-8")
    (folder / "profile.toml").write_text(toml + f"parse_rewrites = {pairs}\n", encoding="utf-8")
    with pytest.raises(GrammarError):
        load_profile(folder)
