from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .session import Session


@t.overload
def current_session(strict: t.Literal[True] = True) -> Session: ...


@t.overload
def current_session(strict: bool = ...) -> Session | None: ...


def current_session(strict: bool = True) -> Session | None:
    """The session on top of the stack; None, or an error when `strict`, if there is none."""
    return _stack.top(strict)
