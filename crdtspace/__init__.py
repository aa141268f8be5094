"""crdtspace: a git-native CRDT workspace for concurrent coding agents.

One `Workspace` is one replica of a shared pycrdt document in which every file is a tree of
syntax units (functions, classes, statements) keyed by stable ids, so concurrent edits to
different units merge by construction. `Workspace` is the model's `Replica` with the
conveniences of every layer above it (see docs/architecture.md).
"""

from __future__ import annotations

from crdtspace.conflicts.analysis import Analyzer
from crdtspace.conflicts.findings import Analysis, Conflict, Place, Side
from crdtspace.errors import (
    AuthError,
    CrdtspaceError,
    CrdtspaceWarning,
    DocumentError,
    GitStateError,
    NodeNotFound,
    PathError,
    StorageError,
    SyncError,
    VersionError,
)
from crdtspace.git.branchmerge import MergeReport, merge_branches
from crdtspace.git.gate import GateReport
from crdtspace.git.gitsync import SyncReport
from crdtspace.model.document import Document
from crdtspace.model.importing import import_commit
from crdtspace.model.languages import Profile, profile_for, profiles
from crdtspace.model.links import Link, connect, sync
from crdtspace.model.logentry import LogEntry
from crdtspace.model.reads import GitOnlyFile, Outline, OutlineEntry, Reading, Status
from crdtspace.model.rekey import Result
from crdtspace.model.replica import Replica
from crdtspace.model.segment import Seg, Segmentation, segment_file
from crdtspace.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "Analyzer",
    "AuthError",
    "Conflict",
    "CrdtspaceError",
    "CrdtspaceWarning",
    "Document",
    "DocumentError",
    "GateReport",
    "GitOnlyFile",
    "GitStateError",
    "Link",
    "LogEntry",
    "MergeReport",
    "NodeNotFound",
    "Outline",
    "OutlineEntry",
    "PathError",
    "Place",
    "Profile",
    "Reading",
    "Replica",
    "Result",
    "Seg",
    "Segmentation",
    "Side",
    "Status",
    "StorageError",
    "SyncError",
    "SyncReport",
    "VersionError",
    "Workspace",
    "__version__",
    "connect",
    "import_commit",
    "merge_branches",
    "profile_for",
    "profiles",
    "segment_file",
    "sync",
]
