from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .shell import Shell


class UsageError(Exception):
    exit_code = 2

    def __init__(self, message: str, shell: Shell | None = None) -> None:
        super().__init__(message)
        self.shell = shell
        self.owner: Shell | None = self.shell.owner if self.shell else None

    def show(self) -> None:
        print(self.format_message(), flush=True)
