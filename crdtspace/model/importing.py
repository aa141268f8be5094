"""The import of a commit: its tracked files become a fresh document, deterministically.

Every replica importing the same commit (with the same grammars) writes the same bytes, under
the same client id (`import_client_id`) and node ids (`import_id`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, Snapshot

from crdtspace.model.document import Document
from crdtspace.model.languages import profile_for, profile_keys
from crdtspace.model.nodebuild import core_of
from crdtspace.model.segment import segment_file

FORMAT = 2
"""2: the import records the snapshot of the imported state (`meta["base_version"]`)."""
IMPORT_BATCH = 64
"""Files per import transaction: huge pycrdt transactions are slow, tiny ones waste time."""


@dataclass(frozen=True)
class TrackedFile:
    """One entry of a commit's tree: a file, a symbolic link or a submodule."""

    path: str
    """posix path relative to the repository root"""
    mode: str
    """git mode as a 6-digit octal string: "100644", "100755", "120000", "160000\""""
    blob: str
    """the blob's hex sha (for a submodule, the sha of the commit it points to)"""
    text: str | None
    """the decoded text, exactly (CRLF kept, a BOM kept as "\\ufeff"), or None when git-only"""
    git_only_reason: str | None
    """why the file is git-only, a short phrase for people; None when it has text"""


def import_client_id(commit: str) -> int:
    """The fixed client id of an import: every replica importing `commit` writes the same bytes.

    The document format and every grammar's name@version are part of it: replicas that would
    cut the commit differently (another grammar version) must not share a client id, or yrs
    would take their different contents for the same items and they would silently diverge.
    With different ids they merge as two imports, visibly (every file twice)."""
    cuts = ",".join(profile_keys())
    digest = hashlib.blake2b(f"{commit}\0{FORMAT}\0{cuts}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") & ((1 << 53) - 1) or 1


def import_id(commit: str, path: str, key: str, grammar: str) -> str:
    digest = hashlib.blake2b(f"{commit}\0{path}\0{key}\0{grammar}".encode(), digest_size=8)
    return digest.hexdigest()


def import_commit(
    commit: str,
    files: Sequence[TrackedFile],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Import a commit's tracked files into a fresh doc; returns its update (deterministic)."""
    doc: Doc[Any] = Doc(client_id=import_client_id(commit), skip_gc=True)
    document = Document(doc)
    with doc.transaction(origin="import"):
        document.meta["base"] = commit
        document.meta["format"] = FORMAT
    for start in range(0, len(files), IMPORT_BATCH):
        batch = files[start : start + IMPORT_BATCH]
        with doc.transaction(origin="import"):
            for tracked in batch:
                _import_file(document, commit, tracked)
        if progress is not None:
            progress(min(start + IMPORT_BATCH, len(files)), len(files))
    # What a write with no known base starts from (versions): the commit as imported.
    # (Taken outside any transaction: yrs would wait for itself.)
    imported = bytes(Snapshot.from_doc(doc).encode())
    with doc.transaction(origin="import"):
        document.meta["base_version"] = imported
    return doc.get_update()


def _import_file(document: Document, commit: str, tracked: TrackedFile) -> None:
    if tracked.text is None:
        # A Map, not a plain dict: a dict becomes a yrs Any map whose encoding follows a
        # HashMap's random order, which would make imports differ byte for byte.
        document.gitonly[tracked.path] = Map(
            {
                "reason": tracked.git_only_reason or "not text",
                "blob": tracked.blob,
                "mode": tracked.mode,
            }
        )
        return
    cut = segment_file(tracked.path, tracked.text)
    profile = profile_for(tracked.path) if cut.language else None
    grammar = profile.key if profile is not None else "text"
    root, root_map = document._add_core(
        cut.root, "", lambda seg, key: import_id(commit, tracked.path, key, grammar)
    )
    with document.doc.transaction() as txn:
        files = core_of(document.files, txn)
        if root_map is None or files is None:  # pragma: no cover - pycrdt changed
            document.nodes[root]["path"] = tracked.path
            if tracked.mode != "100644":
                document.nodes[root]["mode"] = tracked.mode
            document.files[tracked.path] = Array([root])
            return
        # The same core calls as the public-API lines above (tested byte for byte).
        files_map, core_txn = files
        root_map.insert(core_txn, "path", tracked.path)
        if tracked.mode != "100644":
            root_map.insert(core_txn, "mode", tracked.mode)
        files_map.insert_array_prelim(core_txn, tracked.path).insert(core_txn, 0, root)
