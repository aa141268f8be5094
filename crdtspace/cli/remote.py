"""The command line through a running workspace service: found in a few milliseconds, with no
import of the CRDT, git or terminal libraries, so a command costs the interpreter's start and
one HTTP request instead of opening the workspace.

`run(argv)` sends a command the service can run (`SERVED`) to the service announced for the
repository's workspace and prints what it answers; it returns None (run the command here, as
without a service) when no service runs, the command is not one of those, or the service
cannot be reached. ``CRDTSPACE_SERVICE=0`` turns it off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SERVED = frozenset(
    {"status", "show", "outline", "log", "conflicts", "write", "resolve", "commit", "sync-git",
     "merge", "render", "claim", "release", "claims", "rm", "mv", "replicas"}
)  # fmt: skip
"""Commands the service runs: the ones that read or edit the workspace and end."""
LOCAL_FLAGS = frozenset({"--help", "--live", "--edit"})
"""Flags that keep a command here: help, and the ones that keep a terminal (an editor, a live
view)."""
TIMEOUT = 900.0
"""Seconds to wait for the service's answer (a commit runs the project's check)."""
SERVICE_ENV = "CRDTSPACE_SERVICE"


def run(argv: list[str]) -> int | None:
    """Run `argv` (the arguments after ``crdtspace``) through the service; its exit code, or
    None when it is to run here."""
    if os.environ.get(SERVICE_ENV, "").strip() == "0":
        return None
    parsed = _split(argv)
    if parsed is None:
        return None
    repo, workspace, command, rest = parsed
    if command not in SERVED or any(flag in rest for flag in LOCAL_FLAGS):
        return None
    found = _service(repo, workspace)
    if found is None:
        return None
    service, name = found
    stdin = None
    if command == "write" and not any(a in rest for a in ("--from", "-f")):
        stdin = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    request = {
        "argv": ["-C", str(repo), "--workspace", name, command, *_absolute(rest, repo)],
        "stdin": stdin,
        "agent": os.environ.get("CRDTSPACE_AGENT"),
    }
    answer = _post(service, request)
    if answer is None and stdin is not None:  # (its input is read: it cannot run here now)
        sys.stderr.write("error: the workspace service did not answer; nothing was written\n")
        return 5
    if answer is None:
        return None
    sys.stdout.write(str(answer.get("stdout", "")))
    sys.stderr.write(str(answer.get("stderr", "")))
    sys.stdout.flush()
    code = answer.get("code", 1)
    return code if isinstance(code, int) else 1


def ask(argv: list[str]) -> dict[str, object] | None:
    """The service's answer to `argv` (code, stdout, stderr) without printing it; None when no
    service runs or it cannot be reached."""
    parsed = _split(argv)
    if parsed is None:
        return None
    repo, workspace, command, rest = parsed
    found = _service(repo, workspace)
    if found is None:
        return None
    service, name = found
    request: dict[str, object] = {
        "argv": ["-C", str(repo), "--workspace", name, command, *rest],
        "stdin": None,
    }
    return _post(service, request)


def command_of(argv: list[str]) -> str | None:
    """The command `argv` names (after the options before it), or None (help, no command, an
    option this does not know)."""
    parsed = _split(argv)
    return parsed[2] if parsed is not None else None


def _split(argv: list[str]) -> tuple[Path, str | None, str, list[str]] | None:
    """(repository dir, workspace named, command, its arguments) from ``[-C DIR] [-w NAME]
    COMMAND ...``; None for anything else (help, an unknown option before the command)."""
    repo, workspace = Path.cwd(), None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-C", "--repo", "-w", "--workspace") and index + 1 < len(argv):
            value = argv[index + 1]
            if arg in ("-C", "--repo"):
                repo = (repo / value).resolve()
            else:
                workspace = value
            index += 2
        elif arg.startswith(("--repo=", "--workspace=")):
            key, _, value = arg.partition("=")
            if key == "--repo":
                repo = (repo / value).resolve()
            else:
                workspace = value
            index += 1
        elif arg.startswith("-"):
            return None
        else:
            return repo, workspace, arg, argv[index + 1 :]
    return None


def _service(repo: Path, workspace: str | None) -> tuple[object, str] | None:
    """The service announced for the repository's workspace, and the workspace's name."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--absolute-git-dir"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    git_dir = Path(done.stdout.strip())
    name = workspace or _configured(repo)
    from crdtspace.live.service import find_in  # (light: no CRDT, git or network library)

    try:
        service = find_in(git_dir / "crdtspace" / name, name)
    except Exception:  # (an unreadable announcement: the command reports it when run here)
        return None
    return (service, name) if service is not None else None


def _configured(repo: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "config", "--get", "crdtspace.workspace"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "default"


def _absolute(rest: list[str], repo: Path) -> list[str]:
    """The arguments with the file given to ``--from`` made absolute (the service runs
    elsewhere than here)."""
    out = list(rest)
    for index, arg in enumerate(out[:-1]):
        if arg in ("--from", "-f"):
            out[index + 1] = str((Path.cwd() / out[index + 1]).resolve())
    return out


def _post(service: object, request: dict[str, object]) -> dict[str, object] | None:
    import http.client  # (here: `--help` and commands run without a service never need it)

    http_url = str(getattr(service, "http", ""))
    token = str(getattr(service, "token", ""))
    netloc = http_url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = netloc.rpartition(":")
    body = json.dumps(request).encode()
    try:
        connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=TIMEOUT)
        connection.request(
            "POST",
            "/cli",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        data = response.read()
        connection.close()
    except (OSError, ValueError, http.client.HTTPException):
        return None
    if response.status != 200:
        return None
    try:
        answer = json.loads(data)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
