"""
Helpers for the terminal.
"""

import math
import os

from ._compat import isatty
from ._compat import term_len


def width():
    return os.get_terminal_size().columns
