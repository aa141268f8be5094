"""Parsing."""
import typing as t

from .errors import UsageError

if t.TYPE_CHECKING:
    import typing_extensions as te

    from .core import Context
    from .core import Option

V = t.TypeVar("V")


def split(value):
    return value.split()
