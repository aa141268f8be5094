"""How much two texts (or byte strings) share at their start and at their end.

Slices are compared in C: the length is found by doubling from a small size and then halving,
so two texts that share little cost little, and two that share much cost about what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["common_prefix", "common_suffix"]

S = TypeVar("S", str, bytes)


def common_prefix(a: S, b: S) -> int:
    """The length of the longest common start of `a` and `b`."""
    return _longest(lambda n: a[:n] == b[:n], min(len(a), len(b)))


def common_suffix(a: S, b: S) -> int:
    """The length of the longest common end of `a` and `b` (at most the shorter's length)."""
    return _longest(lambda n: a[len(a) - n :] == b[len(b) - n :], min(len(a), len(b)))


def _longest(same: Callable[[int], bool], most: int) -> int:
    """The largest n <= `most` with `same(n)` (true up to some n, false after)."""
    low, high = 0, 64
    while high < most and same(high):
        low, high = high, 2 * high
    high = min(high, most)
    if same(high):
        return high
    high -= 1
    while low < high:
        mid = (low + high + 1) // 2
        if same(mid):
            low = mid
        else:
            high = mid - 1
    return low
