"""Import: the fast path through pycrdt's core writes the same bytes as its public API."""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc

from crdtspace.model import importing, nodebuild
from crdtspace.model.document import Document
from crdtspace.model.importing import TrackedFile, import_commit, import_id
from crdtspace.model.segment import segment_file
from tests.test_segment import EXTENSION, NON_ASCII, SAMPLES

COMMIT = "3f" * 20


def _tracked(path: str, text: str | None, mode: str = "100644") -> TrackedFile:
    return TrackedFile(path, mode, "0" * 40, text, None if text is not None else "binary")


def _files() -> list[TrackedFile]:
    files = [_tracked(f"s/sample.{EXTENSION[lang]}", text) for lang, text in SAMPLES.items()]
    files += [_tracked(f"u/unicode.{EXTENSION[lang]}", text) for lang, text in NON_ASCII.items()]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in ("typing.py", "json/__init__.py", "textwrap.py"):
        files.append(_tracked(f"lib/{name}", (stdlib / name).read_text(encoding="utf-8")))
    files += [
        _tracked("bin/run.py", "#!/usr/bin/env python3\nprint(1)\n", mode="100755"),
        _tracked("empty.py", ""),
        _tracked("broken.py", "def f(:\n"),
        _tracked("notes.txt", "plain\ntext\n"),
        _tracked(
            "crlf.py",
            "\ufeffclass A:\r\n    x = 1\r\n\r\n    def f(self):\r\n        pass\r\n",
        ),
        _tracked("logo.png", None),
    ]
    return sorted(files, key=lambda f: f.path)


def _no_core(*_: Any) -> None:
    return None


def test_the_fast_import_writes_the_bytes_of_the_public_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = _files()
    fast = import_commit(COMMIT, files)
    monkeypatch.setattr(nodebuild, "core_of", _no_core)
    monkeypatch.setattr(importing, "core_of", _no_core)
    slow = import_commit(COMMIT, files)
    assert fast == slow


def test_the_fast_import_renders_every_file() -> None:
    files = _files()
    doc: Doc[Any] = Doc()
    doc.apply_update(import_commit(COMMIT, files))
    imported = Document(doc)
    for tracked in files:
        if tracked.text is None:
            assert tracked.path in imported.gitonly
        else:
            assert imported.render(tracked.path) == tracked.text
    assert imported.mode("bin/run.py") == "100755"


def test_add_seg_inside_an_edit_writes_the_bytes_of_the_public_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = import_commit(COMMIT, _files())
    seg = segment_file("x.py", SAMPLES["python"]).root

    def added() -> bytes:
        doc: Doc[Any] = Doc(client_id=7)
        doc.apply_update(base)
        before = doc.get_state()
        target = Document(doc)
        with doc.transaction(origin="edit"):
            top = target.add_seg(seg, "", lambda s, key: import_id("e", "x.py", key, "p"))
        assert target.render_node(top) == SAMPLES["python"]
        return doc.get_update(before)

    fast = added()
    monkeypatch.setattr(nodebuild, "core_of", _no_core)
    assert added() == fast


def test_the_import_client_id_depends_on_the_grammar_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from crdtspace.model import languages

    commit = "ab" * 20
    before = importing.import_client_id(commit)
    assert before == importing.import_client_id(commit)
    profiles = languages.profiles()
    assert languages.profile_keys() == sorted(p.key for p in profiles.values())
    bumped = sorted(
        (dataclasses.replace(p, version=p.version + 1) if name == "rust" else p).key
        for name, p in profiles.items()
    )
    monkeypatch.setattr(importing, "profile_keys", lambda: bumped)
    assert importing.import_client_id(commit) != before
