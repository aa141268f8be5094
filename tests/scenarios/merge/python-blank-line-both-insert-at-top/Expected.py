"""
Helpers for the terminal.
"""

from __future__ import annotations

import collections.abc as cabc
import math
import os

from ._compat import isatty
from ._compat import term_len


def width():
    return os.get_terminal_size().columns  # cabc.Sized
