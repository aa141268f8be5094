"""Real git repositories for tests, the demo and benchmarks, made with the git CLI; a
websocket client connection as a pycrdt Channel, for clients of `crdtspace serve`; and a fake
Claude Messages API (`FakeMessagesAPI`) that scripts the model's turns.

Nothing here depends on the caller's git configuration: every repository gets its identity,
``commit.gpgsign=false`` and ``core.autocrlf=false`` in its own config, and every git command
runs with ``init.defaultBranch=main`` and signing off. Files are written as bytes, exactly
(a ``str`` is encoded as UTF-8, with no newline translation).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FakeMessagesAPI",
    "GitFailed",
    "ToolCall",
    "Turn",
    "WebsocketChannel",
    "commit_files",
    "git",
    "make_repo",
]

# Settings that make git behave the same whatever the user's global configuration says.
_SETTINGS = (
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "core.autocrlf=false",
)

# Variables a git hook (or an outer git command) may have set; they would redirect our commands.
_GIT_ENVIRONMENT = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
)


class GitFailed(subprocess.CalledProcessError):
    """A git command failed; unlike its base class, the message includes git's stderr."""

    def __str__(self) -> str:
        stderr = self.stderr.decode("utf-8", "replace").strip() if self.stderr else ""
        return f"{super().__str__()} {stderr}".strip()


def git(root: Path, *args: str) -> str:
    """Run ``git -C root args...`` (check=True) and return its standard output.

    Raises :class:`GitFailed` (a ``subprocess.CalledProcessError``) when git fails.
    """
    env = {key: value for key, value in os.environ.items() if key not in _GIT_ENVIRONMENT}
    command = ["git", "-C", str(root), *_SETTINGS, *args]
    completed = subprocess.run(command, capture_output=True, env=env, check=False)
    if completed.returncode != 0:
        raise GitFailed(completed.returncode, command, completed.stdout, completed.stderr)
    return completed.stdout.decode("utf-8", "surrogateescape")


def _config_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def make_repo(
    directory: Path,
    files: Mapping[str, str | bytes] | None = None,
    *,
    message: str = "initial",
    user: str = "Test User",
    email: str = "test@example.com",
) -> Path:
    """A new repository on branch ``main`` in ``directory``, with ``files`` committed if given."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    git(directory, "init", "--quiet", "--initial-branch=main")
    settings = {
        "user": {"name": user, "email": email},
        "commit": {"gpgsign": "false"},
        "tag": {"gpgsign": "false"},
        "core": {"autocrlf": "false"},
    }
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]\n")
        lines.extend(f"\t{key} = {_config_value(value)}\n" for key, value in values.items())
    with open(directory / ".git" / "config", "a", encoding="utf-8") as config:
        config.write("".join(lines))
    root = directory.resolve()
    if files:
        commit_files(root, files, message)
    return root


def commit_files(
    root: Path, files: Mapping[str, str | bytes | None], message: str = "change"
) -> str:
    """Write ``files`` (None deletes), ``git add -A``, commit; returns the new commit's sha."""
    root = Path(root)
    for path, content in files.items():
        target = root / path
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        with open(target, "wb") as handle:
            handle.write(data)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


class WebsocketChannel:
    """A `websockets` client connection as a pycrdt Channel (for `pycrdt.Provider`): messages
    in both directions, the iteration ending when the connection closes, and a message sent on
    a closed connection dropped (the provider's last sends race the close)."""

    def __init__(self, websocket: Any, path: str) -> None:
        self._websocket = websocket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> WebsocketChannel:
        return self

    async def __anext__(self) -> bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        with suppress(ConnectionClosed):
            await self._websocket.send(message)

    async def recv(self) -> bytes:
        message = await self._websocket.recv()
        return message.encode() if isinstance(message, str) else bytes(message)


# -- a fake Claude API --------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """A turn's request to run a tool (the model's `tool_use` block)."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """One scripted answer of the model: a text and tool calls (`stop_reason` "tool_use" when
    there are calls, else "end_turn")."""

    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    wait: float = 0.0
    """Seconds the model "thinks" before this answer."""
    status: int = 200
    """An HTTP error instead of an answer (529 overloaded, 429 rate limited, 500), with a
    ``retry-after-ms`` of 10 ms: the client's retries take the next turn."""


class FakeMessagesAPI:
    """The Claude Messages API (``POST /v1/messages``, streamed or not) served on 127.0.0.1
    from a script, so that the real anthropic SDK and the real Claude Code CLI run offline.

    Requests that offer a tool named in the script get the script's next turn (then "Done."
    turns); any other request (a client's side requests: titles, summaries) gets a short
    text. Every request body is kept in `requests`, in order, for the test to read what the
    model would have seen (tool results included)."""

    def __init__(
        self,
        script: list[Turn],
        *,
        api_key: str = "test-key",
        by_agent: dict[str, list[Turn]] | None = None,
        delay: float = 0.0,
    ) -> None:
        import http.server
        import threading

        self.script = list(script)
        self.by_agent = {name: list(turns) for name, turns in (by_agent or {}).items()}
        """Scripts by agent: a request whose system prompt says "You are NAME." gets NAME's."""
        self.delay = delay
        """Seconds to wait before answering (a model that is slow, or not answering)."""
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.scripted: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._next = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                key = self.headers.get("x-api-key") or self.headers.get("authorization") or ""
                if api.api_key not in key:
                    api.refused.append(self.path)
                    self._json(
                        401,
                        {
                            "type": "error",
                            "error": {
                                "type": "authentication_error",
                                "message": "invalid x-api-key",
                            },
                        },
                    )
                    return
                if not self.path.split("?")[0].endswith("/v1/messages"):
                    self._json(
                        404,
                        {
                            "type": "error",
                            "error": {"type": "not_found_error", "message": self.path},
                        },
                    )
                    return
                body = json.loads(raw or b"{}")
                message, wait = api._answer(body)
                if api.delay or wait:
                    time.sleep(api.delay + wait)
                status = int(message.pop("_status", 200))
                if status != 200:
                    self._json(status, _error(status), {"retry-after-ms": "10"})
                elif body.get("stream"):
                    self._stream(message)
                else:
                    self._json(200, message)

            def _json(
                self, status: int, value: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                for name, header in (headers or {}).items():
                    self.send_header(name, header)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, message: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                for event in _stream_events(message):
                    self.wfile.write(
                        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                    )
                self.wfile.flush()
                self.close_connection = True

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeMessagesAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        offered = {str(t.get("name", "")) for t in body.get("tools") or [] if isinstance(t, dict)}
        named = {c.name for turn in self.script for c in turn.calls}
        system = json.dumps(body.get("system", ""))
        with self._lock:
            self.requests.append(body)
            for agent, turns in self.by_agent.items():
                if f"You are {agent}." in system:
                    self.scripted.append(body)
                    turn = turns.pop(0) if turns else Turn("Done.")
                    return _message(_filled(turn, body), len(self.scripted)), turn.wait
            if not (named & offered) and named:
                return _message(Turn(text="ok"), 0), 0.0
            self.scripted.append(body)
            turn = self.script[self._next] if self._next < len(self.script) else Turn("Done.")
            self._next += 1
            return _message(_filled(turn, body), self._next), turn.wait

    def tool_results(self) -> list[str]:
        """The text of every tool result the client sent back, in order."""
        out: list[str] = []
        for body in self.scripted:
            for message in body.get("messages", [])[-1:]:
                content = message.get("content")
                for block in content if isinstance(content, list) else []:
                    if isinstance(block, dict) and block.get("type") == "tool_result":
                        out.append(_block_text(block.get("content")))
        return out


_VERSION = re.compile(r"\bversion (v[0-9a-f]{16})\b")


_CONFLICT = re.compile(r"\b([0-9a-f]{10}) \(\w")


_CWD = re.compile(r"[Ww]orking directory: ([^\s\\\"]+)")


_ERRORS = {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}


def _error(status: int) -> dict[str, Any]:
    kind = _ERRORS.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": f"{kind} (a scripted {status})"}}


def _filled(turn: Turn, body: dict[str, Any]) -> Turn:
    """The turn with ``{version}`` and ``{conflict}`` in its calls' arguments replaced by the
    last version and conflict id the conversation named (what a model would copy), and
    ``{cwd}`` by the working directory the request names (as Claude Code's prompt does)."""
    said = json.dumps(body.get("messages", []))
    everything = json.dumps(body.get("system", "")) + said
    calls = []
    for call in turn.calls:
        text = json.dumps(call.input)
        for key, pattern, where in (
            ("version", _VERSION, said),
            ("conflict", _CONFLICT, said),
            ("cwd", _CWD, everything),
        ):
            found = pattern.findall(where)
            if found:
                text = text.replace("{" + key + "}", found[-1])
        calls.append(ToolCall(call.name, json.loads(text)))
    return dataclasses.replace(turn, calls=tuple(calls))


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _message(turn: Turn, number: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if turn.text:
        content.append({"type": "text", "text": turn.text})
    for index, call in enumerate(turn.calls):
        content.append(
            {
                "type": "tool_use",
                "id": f"toolu_{number:03d}_{index}",
                "name": call.name,
                "input": call.input,
            }
        )
    return {
        "id": f"msg_{number:04d}",
        "type": "message",
        "role": "assistant",
        "model": "claude-fake",
        "content": content,
        "stop_reason": "tool_use" if turn.calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
        **({"_status": turn.status} if turn.status != 200 else {}),
    }


def _stream_events(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The server-sent events of a streamed message, as the Messages API sends them."""
    start = {**message, "content": [], "stop_reason": None}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": block["text"]},
                }
            )
        else:
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {**block, "input": {}},
                }
            )
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": json.dumps(block["input"]),
                    },
                }
            )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": 10},
        }
    )
    events.append({"type": "message_stop"})
    return events
