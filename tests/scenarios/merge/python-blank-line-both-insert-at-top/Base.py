"""
Helpers for the terminal.
"""
import math
import os

from ._compat import isatty


def width():
    return os.get_terminal_size().columns
