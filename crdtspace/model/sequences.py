"""`SequenceMatcher`: cydifflib's when it is installed, else the standard library's difflib's.

cydifflib is difflib's algorithm compiled (the same matching blocks and opcodes, no junk
heuristic or with it, byte for byte; a test compares the two): 30 times faster on the
character diffs of changed lines that re-keying and writing a node's text make, which were
nearly half of a conflicting merge's time. It is a dependency where it has wheels; anywhere
else the pure-Python matcher gives the same results, slower.
"""

from __future__ import annotations

import difflib
from typing import Any

__all__ = ["COMPILED", "SequenceMatcher"]

SequenceMatcher: type[difflib.SequenceMatcher[Any]]
try:
    from cydifflib import SequenceMatcher as _Compiled  # type: ignore[import-untyped]
except ImportError:  # (no wheel for this Python: the standard library's)
    SequenceMatcher = difflib.SequenceMatcher
    COMPILED = False
else:
    SequenceMatcher = _Compiled
    COMPILED = True
