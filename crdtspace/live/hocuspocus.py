"""Hocuspocus's framing of the Yjs protocol: the document name first, then the message.

Every frame a Hocuspocus server (`@hocuspocus/server` 2.x and 3.x) sends or takes starts with
the document's name as a lib0 varString (its UTF-8 length as a variable-length integer, then
the bytes), then a message type: the Yjs ones (0 sync, 1 awareness, 3 query awareness) and
its own (2 auth, 4 a sync reply, 5 stateless, 7 close, 8 sync status). A client's first
frame for a document is `2` + `0` + its token; the server answers `2` + `2` + its scope, or
`2` + `1` + a reason (the connection stays open: a refusal is a message, not an HTTP status).
Sync status `8` + `1` follows every sync step 2 and update the server applied from the client.
"""

from __future__ import annotations

from crdtspace.live.protocol import Hostile, read_bytes, read_var_uint, var_uint

__all__ = [
    "AUTH",
    "AUTH_DENIED",
    "AUTH_GRANTED",
    "AUTH_TOKEN",
    "AWARENESS",
    "CLOSE",
    "QUERY_AWARENESS",
    "STATELESS",
    "SYNC",
    "SYNC_REPLY",
    "SYNC_STATUS",
    "auth_message",
    "frame",
    "read_var_string",
    "read_var_uint",
    "unframe",
    "var_string",
]

SYNC = 0
AWARENESS = 1
AUTH = 2
QUERY_AWARENESS = 3
SYNC_REPLY = 4
"""A sync message the client must not answer with its own step 1."""
STATELESS = 5
CLOSE = 7
SYNC_STATUS = 8

AUTH_TOKEN = 0
AUTH_DENIED = 1
AUTH_GRANTED = 2


def var_string(text: str) -> bytes:
    """lib0's varString: the UTF-8 byte length, then the bytes (not the character count)."""
    data = text.encode()
    return var_uint(len(data)) + data


def read_var_string(data: bytes, pos: int) -> tuple[str, int]:
    raw, pos = read_bytes(data, pos)
    try:
        return raw.decode(), pos
    except UnicodeDecodeError as exc:
        raise Hostile("a string that is not UTF-8") from exc


def frame(document: str, message: bytes) -> bytes:
    """A y-websocket message (type byte first) as Hocuspocus frames it for `document`."""
    return var_string(document) + message


def unframe(data: bytes) -> tuple[str, bytes]:
    """(document name, the message from its type on) of a frame; Hostile when malformed."""
    name, pos = read_var_string(data, 0)
    return name, data[pos:]


def auth_message(document: str, token: str) -> bytes:
    """A client's first frame for `document`: its token."""
    return frame(document, var_uint(AUTH) + var_uint(AUTH_TOKEN) + var_string(token))
