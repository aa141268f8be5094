import typing as t

from . import typing as ft
from .helpers import find_package

if t.TYPE_CHECKING:
    from .wrappers import Response


def setupmethod(f):
    return f
