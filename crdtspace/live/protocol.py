"""What the sync server reads from a peer's messages: Yjs framing, awareness states, and `Hostile`.

A message a client must not send raises `Hostile`, carrying the websocket close code its
connection is closed with (`crdtspace.live.server.GuardedChannel` closes it); awareness states
tell the agent a client names and the state vector it publishes.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from crdtspace.model.collect import var_uint

__all__ = [
    "ACKS_PARAM",
    "AUTH",
    "CLOSE_INTERNAL",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "DURABLE",
    "QUERY_AWARENESS",
    "UPDATE_MESSAGE",
    "Hostile",
    "agent_of",
    "awareness_states",
    "check_state_vector",
    "decode_state_field",
    "durable_message",
    "read_bytes",
    "read_var_uint",
    "state_hex",
    "var_uint",
]

CLOSE_POLICY = 1008  # websocket close code: policy violation (hostile or malformed input)
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011  # the server cannot go on (its log cannot be written)
QUERY_AWARENESS = 3
AUTH = 2
DURABLE = 8
"""`crdtspace serve`'s acknowledgement, sent only to a client that asks for it (`ACKS_PARAM`):
the message type, then a count (a lib0 var uint) of the sync messages (step 2s and updates)
this client sent on this connection that are durable now, since the last such message. The
first one, count 0, comes right after the connection opens, before any sync message: acks
are on. (Hocuspocus's sync status has the same type, with "applied" for a payload.)"""
UPDATE_MESSAGE = b"\x00\x02"
"""How a y-websocket update message begins (sync, then update): the messages the relay's
short ways take (`crdtspace.live.wire`, the clients' reader)."""
ACKS_PARAM = "acks"
"""The query parameter (``?acks=1``) by which a client asks `crdtspace serve` for `DURABLE`
messages (a plain Yjs client, which would not know them, does not get them)."""


class Hostile(Exception):
    """A message a client must not send; its connection is closed with `code`."""

    def __init__(self, reason: str, code: int = CLOSE_POLICY) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def durable_message(count: int) -> bytes:
    """The `DURABLE` message acknowledging `count` sync messages."""
    return bytes([DURABLE]) + var_uint(count)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """A lib0 variable-length unsigned integer at `pos`, and the position after it; Hostile
    when truncated or overlong."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise Hostile("a truncated or overlong variable-length integer")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = read_var_uint(data, pos)
    if pos + length > len(data):
        raise Hostile("a length prefix that runs past the end of the message")
    return data[pos : pos + length], pos + length


def check_state_vector(state: bytes) -> None:
    count, pos = read_var_uint(state, 0)
    for _ in range(count * 2):
        _, pos = read_var_uint(state, pos)


def awareness_states(payload: bytes) -> list[tuple[int, Any]]:
    """(client id, state or None) of an awareness update; Hostile when malformed."""
    count, pos = read_var_uint(payload, 0)
    states: list[tuple[int, Any]] = []
    for _ in range(count):
        client, pos = read_var_uint(payload, pos)
        _, pos = read_var_uint(payload, pos)
        raw, pos = read_bytes(payload, pos)
        try:
            states.append((client, json.loads(raw.decode())))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Hostile("an awareness state that is not JSON") from exc
    return states


def decode_state_field(value: Any) -> bytes | None:
    """A state vector published in awareness (base64 or hex text), or None."""
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        pass
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def agent_of(state: Any) -> str | None:
    if not isinstance(state, dict):
        return None
    for key in ("agent", "name"):
        if isinstance(state.get(key), str):
            return str(state[key])
    user = state.get("user")
    if isinstance(user, dict) and isinstance(user.get("name"), str):
        return str(user["name"])
    return None


def state_hex(states: dict[int, Any]) -> str | None:
    for state in states.values():
        if isinstance(state, dict):
            vector = decode_state_field(state.get("state_vector", state.get("state")))
            if vector is not None:
                return vector.hex()
    return None
