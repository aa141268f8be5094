from __future__ import annotations

import typing as t
from threading import local

if t.TYPE_CHECKING:
    from .core import Context

_local = local()


@t.overload
def current_context(silent: t.Literal[False] = False) -> Context: ...


@t.overload
def current_context(silent: bool = ...) -> Context | None: ...


def current_context(silent: bool = False) -> Context | None:
    """Returns the current click context."""
    try:
        return t.cast("Context", _local.stack[-1])
    except (AttributeError, IndexError) as e:
        if not silent:
            raise RuntimeError("There is no active click context.") from e

    return None


def push_context(ctx: Context) -> None:
    """Pushes a new context to the current stack."""
    _local.__dict__.setdefault("stack", []).append(ctx)


def pop_context() -> None:
    """Removes the top level from the stack."""
    _local.stack.pop()


def resolve_color_default(color: bool | None = None) -> bool | None:
    """Internal helper to get the default value of the color flag."""
    if color is not None:
        return color

    ctx = current_context(silent=True)

    if ctx is not None:
        return ctx.color

    return None
