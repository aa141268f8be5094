import typing as t

if t.TYPE_CHECKING:
    import typing_extensions as te

    from .session import Session


@t.overload
def current_session(strict: "te.Literal[True]" = True) -> "Session":
    ...


@t.overload
def current_session(strict: bool = ...) -> t.Optional["Session"]:
    ...


def current_session(strict: bool = True) -> t.Optional["Session"]:
    return _stack.top(strict)
