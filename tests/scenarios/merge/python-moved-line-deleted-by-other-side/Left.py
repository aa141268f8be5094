import typing as t

from .helpers import find_package
from .typing import Callback

if t.TYPE_CHECKING:  # pragma: no cover
    from .typing import ErrorHandler
    from .wrappers import Response


def setupmethod(f):
    name = f.__name__
    return f
