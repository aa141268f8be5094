"""Commands run by the workspace service for a client that found it (``POST /cli``).

The service runs the very command the client was given, in process, on its own replica (lent
through `open_workspace`), with the client's stdin, $CRDTSPACE_AGENT and a captured stdout and
stderr, one command at a time (the home replica's lock). See `crdtspace.cli.remote` for the
client side.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
from typing import Any

import typer

from crdtspace.cli.common import SERVED, SERVED_AGENT, SERVED_STATUS
from crdtspace.cli.remote import LOCAL_FLAGS
from crdtspace.model.replica import Replica
from crdtspace.workspace import Workspace


def run(replica: Replica, request: dict[str, Any]) -> dict[str, Any]:
    """Run `request["argv"]` on `replica`; the exit code and what the command printed."""
    argv = request.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return {"code": 2, "stdout": "", "stderr": "error: the request has no command line\n"}
    if any(flag in argv for flag in LOCAL_FLAGS):
        return {"code": 2, "stdout": "", "stderr": "error: run that command in a terminal\n"}
    if not isinstance(replica, Workspace):
        return {"code": 2, "stdout": "", "stderr": "error: this service runs no commands\n"}
    stdin = request.get("stdin")
    agent = request.get("agent")
    stdout, stderr = io.StringIO(), io.StringIO()
    data = stdin.encode("utf-8", "surrogateescape") if isinstance(stdin, str) else b""
    served = SERVED.set(replica)
    named = SERVED_AGENT.set(agent if isinstance(agent, str) else None)
    service = request.get("service")
    told = SERVED_STATUS.set(service if isinstance(service, dict) else None)
    saved_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = _invoke(_command(), argv)
    finally:
        sys.stdin = saved_stdin
        SERVED.reset(served)
        SERVED_AGENT.reset(named)
        SERVED_STATUS.reset(told)
    return {"code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


@functools.cache
def _command() -> Any:
    """The command line as one click command, built once (typer rebuilds it on every call)."""
    import typer.main

    from crdtspace.cli import load

    return typer.main.get_command(load())


def _invoke(command: Any, argv: list[str]) -> int:
    try:
        result = command.main(args=argv, prog_name="crdtspace", standalone_mode=False)
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.TyperException as error:  # (typer's click: usage errors and the like)
        show = getattr(error, "show", None)
        if show is not None:
            show()
        else:
            print(f"error: {error}", file=sys.stderr)
        return int(getattr(error, "exit_code", 2))
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        return 1
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    except Exception as error:  # a bug must not take the service down
        print(f"error: the service failed to run the command: {error}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0  # (click returns an Exit's code)
