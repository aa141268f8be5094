"""crdtspace: a git-native CRDT workspace for concurrent coding agents.

One `Workspace` is one replica of a shared pycrdt document in which every file is a tree of
syntax units (functions, classes, statements) keyed by stable ids, so concurrent edits to
different units merge by construction. `Workspace` is the model's `Replica` with the
conveniences of every layer above it (see docs/architecture.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (imported when first used: a command through the service imports none)
    from crdtspace.agents.plan import AgentPlan, Budget, Plan, Step, load_plan
    from crdtspace.agents.runner import AgentReport, Runner, RunReport
    from crdtspace.agents.tools import Session
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

_HOMES = {
    "AgentPlan": "crdtspace.agents.plan",
    "AgentReport": "crdtspace.agents.runner",
    "Analysis": "crdtspace.conflicts.findings",
    "Analyzer": "crdtspace.conflicts.analysis",
    "AuthError": "crdtspace.errors",
    "Budget": "crdtspace.agents.plan",
    "Conflict": "crdtspace.conflicts.findings",
    "CrdtspaceError": "crdtspace.errors",
    "CrdtspaceWarning": "crdtspace.errors",
    "Document": "crdtspace.model.document",
    "DocumentError": "crdtspace.errors",
    "GateReport": "crdtspace.git.gate",
    "GitOnlyFile": "crdtspace.model.reads",
    "GitStateError": "crdtspace.errors",
    "Link": "crdtspace.model.links",
    "LogEntry": "crdtspace.model.logentry",
    "MergeReport": "crdtspace.git.branchmerge",
    "NodeNotFound": "crdtspace.errors",
    "Outline": "crdtspace.model.reads",
    "OutlineEntry": "crdtspace.model.reads",
    "PathError": "crdtspace.errors",
    "Place": "crdtspace.conflicts.findings",
    "Plan": "crdtspace.agents.plan",
    "Profile": "crdtspace.model.languages",
    "Reading": "crdtspace.model.reads",
    "Replica": "crdtspace.model.replica",
    "Result": "crdtspace.model.rekey",
    "RunReport": "crdtspace.agents.runner",
    "Runner": "crdtspace.agents.runner",
    "Seg": "crdtspace.model.segment",
    "Segmentation": "crdtspace.model.segment",
    "Session": "crdtspace.agents.tools",
    "Side": "crdtspace.conflicts.findings",
    "Status": "crdtspace.model.reads",
    "Step": "crdtspace.agents.plan",
    "StorageError": "crdtspace.errors",
    "SyncError": "crdtspace.errors",
    "SyncReport": "crdtspace.git.gitsync",
    "VersionError": "crdtspace.errors",
    "Workspace": "crdtspace.workspace",
    "connect": "crdtspace.model.links",
    "import_commit": "crdtspace.model.importing",
    "load_plan": "crdtspace.agents.plan",
    "merge_branches": "crdtspace.git.branchmerge",
    "profile_for": "crdtspace.model.languages",
    "profiles": "crdtspace.model.languages",
    "segment_file": "crdtspace.model.segment",
    "sync": "crdtspace.model.links",
}
"""Where each public name lives (imported on first use, PEP 562)."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'crdtspace' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "AgentPlan",
    "AgentReport",
    "Analysis",
    "Analyzer",
    "AuthError",
    "Budget",
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
    "Plan",
    "Profile",
    "Reading",
    "Replica",
    "Result",
    "RunReport",
    "Runner",
    "Seg",
    "Segmentation",
    "Session",
    "Side",
    "Status",
    "Step",
    "StorageError",
    "SyncError",
    "SyncReport",
    "VersionError",
    "Workspace",
    "__version__",
    "connect",
    "import_commit",
    "load_plan",
    "merge_branches",
    "profile_for",
    "profiles",
    "segment_file",
    "sync",
]
