"""The one exception hierarchy of crdtspace.

::

    CrdtspaceError            anything crdtspace refuses, with a hint
    ├── GitStateError         the repository is not in a state we can use
    ├── DocumentError         a path, node or edit the document cannot take
    │   ├── NodeNotFound      no node with that key (or path) in the workspace
    │   └── VersionError      a version (a write's base) the workspace does not know
    ├── StorageError          the durable state under .git/crdtspace cannot be read or written
    ├── SyncError             replicas cannot exchange updates
    └── AuthError             a peer presented a wrong or missing token

Conflicts and fallbacks are values, not exceptions; these are for broken invariants and for the
environment (git state, I/O, auth). The CLI maps each class to an exit code in one place.
"""

from __future__ import annotations


class CrdtspaceError(Exception):
    """Base class: a message that reads as a sentence, and an optional hint."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class GitStateError(CrdtspaceError):
    """The repository is missing, bare, empty, or a revision does not resolve."""

    exit_code = 3


class DocumentError(CrdtspaceError):
    """A path, node or edit the document cannot take (outside the repo, git-only, ...)."""

    exit_code = 4


class NodeNotFound(DocumentError):
    """No node with that key, or no file at that path, in the workspace."""


class PathError(DocumentError):
    """A path that escapes the repository, points into .git, or is not a valid file path."""


class VersionError(DocumentError):
    """A version the workspace does not know, or cannot restore."""


class StorageError(CrdtspaceError):
    """The durable state under .git/crdtspace cannot be read or written."""

    exit_code = 5


class SyncError(CrdtspaceError):
    """Replicas cannot exchange updates (malformed or hostile update, broken link)."""

    exit_code = 6


class AuthError(CrdtspaceError):
    """A peer presented a wrong or missing token."""

    exit_code = 7


class CrdtspaceWarning(UserWarning):
    """Something was recovered from (a torn last record, a file kept git-only)."""
