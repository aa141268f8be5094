import typing as t

if t.TYPE_CHECKING:
    from .shell import Shell


class UsageError(Exception):
    exit_code = 2

    def __init__(self, message: str, shell: t.Optional["Shell"] = None) -> None:
        super().__init__(message)
        self.shell = shell
        self.owner: t.Optional[Shell] = self.shell.owner if self.shell else None

    def show(self) -> None:
        print(self.format_message(), flush=True)
