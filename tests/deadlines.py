"""Waits on child processes with a deadline: a hung child fails the test, never hangs the suite.

CI runs on two busy cores with a time limit for the whole run, so every wait in the tests on a
subprocess, a socket or a thread has a deadline, and on a timeout the child is killed and the
test fails saying what it was waiting for.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from typing import IO, Any

__all__ = ["LINE_TIMEOUT", "end", "exit_code", "output", "read_line"]

LINE_TIMEOUT = 60.0
"""Seconds to wait for a child's next line of output: generous, for a loaded machine."""


def read_line(process: subprocess.Popen[Any], what: str, timeout: float = LINE_TIMEOUT) -> Any:
    """The next line `process` writes on its stdout ("" at its end), read within `timeout`
    seconds; else `process` is killed and the test fails, naming `what` it waited for."""
    stream: IO[Any] | None = process.stdout
    assert stream is not None, "the process's stdout is not a pipe"
    read: list[Any] = []
    reader = threading.Thread(target=lambda: read.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not read:
        process.kill()  # (its end closes the pipe: the reader returns)
        reader.join(5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        raise AssertionError(f"no line within {timeout:g} s from {process.args!r}: {what}")
    return read[0]


def exit_code(process: subprocess.Popen[Any], what: str, timeout: float = LINE_TIMEOUT) -> int:
    """`process`'s exit status once it ends within `timeout` seconds; else it is killed and
    the test fails, naming `what` it waited for."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        end(process)
        raise AssertionError(f"{process.args!r} did not end within {timeout:g} s: {what}") from None


def end(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Kill `process` if it still runs, reap it and close its pipes (a killed process ends at
    once; should it not, the test goes on rather than waiting for ever)."""
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def output(
    process: subprocess.Popen[Any], what: str, timeout: float = LINE_TIMEOUT, text: Any = None
) -> tuple[Any, Any]:
    """`process.communicate(text)`: its (stdout, stderr) once it ends within `timeout`
    seconds; else it is killed and the test fails, naming `what` it waited for."""
    try:
        return process.communicate(text, timeout)
    except subprocess.TimeoutExpired:
        end(process)
        raise AssertionError(f"{process.args!r} did not end within {timeout:g} s: {what}") from None
