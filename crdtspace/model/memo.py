"""A small memory of values computed from texts (a parse, a segmentation, a diff).

One merge asks the same questions of the same texts several times (the base is cut into units
to check it parses, then again to import it; git's merge is parsed to keep it, then again to
decide); a `TextMemo` answers the second time. It is bounded by entries and by the characters
its keys hold, forgets the least recently used first, and is safe to share between threads.
The values must be immutable, or copied by the caller on the way in and out.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")

__all__ = ["TextMemo", "forget_all"]

_ALL: weakref.WeakSet[TextMemo[object]] = weakref.WeakSet()


def forget_all() -> None:
    """Empty every memo (the merge driver does at the start of each merge, so that a merge
    never finds what an earlier one left, and is timed as git runs it: once)."""
    for memo in list(_ALL):
        memo.clear()


class TextMemo(Generic[V]):
    """Values by a key of texts, the least recently used forgotten first."""

    def __init__(self, entries: int, chars: int, largest: int) -> None:
        """At most `entries` values, whose keys hold at most `chars` characters in all; a key
        over `largest` characters is never held."""
        self.entries = entries
        self.chars = chars
        self.largest = largest
        self._held: OrderedDict[tuple[str, ...], tuple[V, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        _ALL.add(self)  # type: ignore[arg-type]

    def get(self, key: tuple[str, ...]) -> V | None:
        with self._lock:
            held = self._held.get(key)
            if held is None:
                return None
            self._held.move_to_end(key)
            return held[0]

    def put(self, key: tuple[str, ...], value: V) -> None:
        size = sum(len(part) for part in key)
        if size > self.largest:
            return
        with self._lock:
            old = self._held.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._held[key] = (value, size)
            self._size += size
            while len(self._held) > self.entries or self._size > self.chars:
                _, (_, dropped) = self._held.popitem(last=False)
                self._size -= dropped

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
            self._size = 0
