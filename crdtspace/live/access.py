"""How a sync server is reached: its token, the listening socket, and its status read over HTTP.

The token lives in ``.git/crdtspace/<workspace>/token`` (mode 0600), created on first use
(`token_for`); a request presents it as ``?token=`` or as an ``Authorization: Bearer`` header
(`request_token`). `fetch_status` asks a running server (`crdtspace.live.server`) what
``GET /status`` answers.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from crdtspace.errors import AuthError, SyncError
from crdtspace.git import gitio

__all__ = [
    "TOKEN_NAME",
    "bind_socket",
    "fetch_status",
    "is_loopback",
    "request_token",
    "status_url",
    "token_for",
]

TOKEN_NAME = "token"


# -- tokens ------------------------------------------------------------------------------


def token_for(repo_path: Path | str, workspace: str = "default") -> str:
    """The workspace's token, created (random, mode 0600) on first use."""
    repo = gitio.open_repo(Path(repo_path))
    path = gitio.state_dir(repo, workspace) / TOKEN_NAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: theirs wins
        return path.read_text().strip()
    with os.fdopen(fd, "w") as stream:
        stream.write(token + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    return token


def request_token(scope: dict[str, Any]) -> str | None:
    """The token a request presents: the ``token`` query parameter or a Bearer header."""
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    for name, value in scope.get("headers", []):
        if bytes(name).lower() == b"authorization":
            kind, _, credential = bytes(value).decode("latin-1").partition(" ")
            if kind.lower() == "bearer":
                return credential.strip()
    return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the listening socket and the status endpoint, from outside ---------------------------


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SyncError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="choose another --port, or stop the server already there",
        ) from None
    sock.set_inheritable(True)
    return sock


def status_url(url: str) -> str:
    """The ``/status`` address of a server given as ws://, http:// or host:port (any path)."""
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/status", "", ""))


def fetch_status(url: str, token: str, *, timeout: float = 10) -> dict[str, Any]:
    """A running server's status (`Server.status`); AuthError when the token is refused."""
    request = urllib.request.Request(status_url(url), headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            result: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 401:
            raise AuthError(
                f"The server at {url} refused the token.",
                hint="pass --token or set CRDTSPACE_TOKEN (see .git/crdtspace/<workspace>/token)",
            ) from None
        raise SyncError(f"The server at {url} answered {exc.code} to GET /status.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SyncError(f"No crdtspace server answered at {url}: {exc}") from None
    return result
