import typing as t


class Blueprint:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: dict[int, t.Callable] = {}

    def error_handler(self, code: int) -> t.Callable:
        def decorator(f: t.Callable) -> t.Callable:
            self.handlers[code] = f
            return f

        return decorator
