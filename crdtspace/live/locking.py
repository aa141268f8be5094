"""Which methods of a replica's class a lock wraps: its public methods and its bases'.

A networked replica wraps them once, in its class (`crdtspace.live.netreplica`); a watcher
wraps a plain workspace's on the instance while its threads run (`crdtspace.live.watchstate`).
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["public_methods"]


def public_methods(target: type, skip: Collection[str] = ()) -> list[str]:
    """The names of the public methods `target` has, its own and its bases' (not `object`'s),
    each once, as `target` resolves it: not those in `skip`, nor class or static methods,
    properties or nested classes."""
    seen: set[str] = set()
    out: list[str] = []
    for cls in target.__mro__[:-1]:
        for name, value in vars(cls).items():
            if name.startswith("_") or name in skip or name in seen:
                continue
            seen.add(name)
            if isinstance(value, classmethod | staticmethod | property | type):
                continue
            if callable(value):
                out.append(name)
    return out
