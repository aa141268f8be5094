"""Parsing."""
import typing as t
from collections import deque

from .errors import UsageError

if t.TYPE_CHECKING:
    from .core import Context
    from .core import Option

V = t.TypeVar("V")


def split(value):
    return deque(value.split())
