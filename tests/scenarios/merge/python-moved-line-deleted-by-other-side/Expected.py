import typing as t

from . import typing as ft
from .helpers import find_package

if t.TYPE_CHECKING:  # pragma: no cover
    from .wrappers import Response


def setupmethod(f):
    name = f.__name__
    return f
