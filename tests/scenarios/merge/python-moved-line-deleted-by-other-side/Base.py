import typing as t

from .helpers import find_package
from .typing import Callback

if t.TYPE_CHECKING:
    from .wrappers import Response
    from .typing import ErrorHandler


def setupmethod(f):
    return f
