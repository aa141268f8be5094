import typing as t

from .setup import setup_method


class Blueprint:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: dict[int, t.Callable] = {}

    @setup_method
    def error_handler(
        self, code: int
    ) -> t.Callable[[t.Callable], t.Callable]:
        def decorator(f: t.Callable) -> t.Callable:
            self.handlers[code] = f
            return f

        return decorator
