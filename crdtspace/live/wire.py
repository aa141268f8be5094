"""The websocket under a `crdtspace serve` client, below hypercorn, for the relay's hot path.

Through hypercorn every message from a client went: its read task woken, its HTTP and
websocket layers (wsproto, pure Python), its queue to the ASGI app, the app's task woken. And
every relayed update went back the same way down, once per client. At eight clients that was
most of what the server spent on an update. Here:

- `Wire.write` writes a relayed update, framed once for every client (`binary_frame`), to
  each client's socket at once, whenever hypercorn is not writing there itself.
- `FrameReader` takes over reading a client's socket once hypercorn holds nothing read and
  not handled yet (`Wire.quiet`): it reads the frames a client sends in the steady state
  (whole binary messages, pings, pongs) and hands each message to its channel there, as it is
  read. Anything else (a close, a text or fragmented message, an oversized one, a malformed
  frame) and the end of the connection go back to hypercorn, with every byte not read yet, and
  hypercorn reads the socket from then on (RFC 6455 frames stand alone: wsproto, which saw
  none of the frames read here, parses the rest as it would have).

Both rely on hypercorn's own objects (HTTP/1.1 on asyncio, as `crdtspace serve` runs it) and
stand aside when they are not what is expected, or when an extension (compression) was agreed;
the ASGI way then does it all, as before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

_c_apply_mask: Callable[[bytes, bytes], bytes] | None
try:  # websockets's C unmasking (a dependency of the clients), else Python's big integers
    from websockets.speedups import apply_mask as _c_apply_mask
except ImportError:  # pragma: no cover
    _c_apply_mask = None

BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA


def binary_frame(message: bytes) -> bytes:
    """`message` as a server's websocket frame: one binary frame, final, unmasked (RFC 6455
    5.2), with no extension (see `Wire`)."""
    return _frame(BINARY, message)


def _frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return head + payload


def frame_header(data: bytes | bytearray, pos: int) -> tuple[int, int, int, int] | None:
    """The header of the websocket frame at `pos` in `data` (RFC 6455 5.2): its first two
    bytes (final bit, opcode; mask bit), its payload's length and where its mask key, else
    its payload, begins; None when the header is not all there."""
    if len(data) - pos < 2:
        return None
    first, second = data[pos], data[pos + 1]
    length, head = second & 0x7F, pos + 2
    if length == 126:
        if len(data) - pos < 4:
            return None
        length, head = int.from_bytes(data[pos + 2 : pos + 4], "big"), pos + 4
    elif length == 127:
        if len(data) - pos < 10:
            return None
        length, head = int.from_bytes(data[pos + 2 : pos + 10], "big"), pos + 10
    return first, second, length, head


def unmask(payload: bytes, mask: bytes) -> bytes:
    """A client frame's payload unmasked (RFC 6455 5.3)."""
    if _c_apply_mask is not None:
        return bytes(_c_apply_mask(payload, mask))
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


@dataclass(frozen=True)
class Wire:
    """The socket under one client's websocket, as hypercorn (HTTP/1.1, asyncio) holds it."""

    writer: asyncio.StreamWriter
    lock: asyncio.Lock
    connection: Any  # wsproto's Connection (hypercorn's websocket state)
    open: Any  # wsproto's ConnectionState.OPEN
    reader: asyncio.StreamReader  # what hypercorn's read task reads
    stream: Any  # hypercorn's WSStream

    @classmethod
    def of(cls, send: Callable[..., Any]) -> Wire | None:
        """The wire under an ASGI `send` (None: not hypercorn's websocket over HTTP/1.1 on
        asyncio, as expected, or with an extension)."""
        try:
            from wsproto.connection import Connection, ConnectionState  # (hypercorn's)

            stream: Any = getattr(send, "__self__", None)  # hypercorn's WSStream
            tcp: Any = stream.send.__self__.send.__self__  # its H11Protocol's TCPServer
            open_ = ConnectionState.OPEN
            wire = cls(tcp.writer, tcp.send_lock, stream.connection, open_, tcp.reader, stream)
            plain = not wire.connection._proto.extensions  # (no compression agreed)
        except (AttributeError, ImportError):
            return None
        kinds = (asyncio.StreamWriter, asyncio.Lock, Connection, asyncio.StreamReader)
        objects = (wire.writer, wire.lock, wire.connection, wire.reader)
        if not plain or not all(map(isinstance, objects, kinds)):
            return None
        return wire

    def write(self, frame: bytes) -> bool:
        """Write `frame` now if nothing else is being written; whether it was."""
        transport = self.writer.transport
        if (
            self.lock.locked()
            or self.connection.state is not self.open
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            return False
        self.writer.write(frame)
        return True

    def quiet(self, receive: Callable[..., Any]) -> bool:
        """Whether hypercorn holds nothing it read from the client and did not hand to the
        app yet (through `receive`, its queue's `get`), is writing nothing, and the websocket
        is open: what it would read next is for a `FrameReader`."""
        try:
            queue = getattr(receive, "__self__", None)
            frames = self.connection._proto._frame_decoder
            return (
                isinstance(queue, asyncio.Queue)
                and queue.empty()
                and not self.reader._buffer  # type: ignore[attr-defined]
                and not self.reader.at_eof()
                and not len(frames.buffer)
                and frames.header is None
                and self.connection._proto._message_decoder.opcode is None
                and self.stream.buffer.value is None
                and self.connection.state is self.open
                and not self.lock.locked()
                and not self.writer.transport.is_closing()
                and not self.writer.transport.get_write_buffer_size()
            )
        except AttributeError:  # (hypercorn or wsproto changed: hypercorn reads it all)
            return False


class Inbox(Protocol):
    """Where a `FrameReader` puts what it reads (a server's channel)."""

    def arrived(self, message: bytes) -> None: ...

    def taken_back(self) -> None: ...


class FrameReader(asyncio.Protocol):
    """Reads a client's websocket frames in hypercorn's place (see the module docstring):
    whole binary messages of at most `limit` bytes go to `inbox.arrived`, pings are answered,
    pongs dropped; anything else gives the socket back to hypercorn with what was not read."""

    def __init__(self, wire: Wire, inbox: Inbox, limit: int) -> None:
        self._wire = wire
        self._inbox = inbox
        self._limit = limit
        self._transport: Any = wire.writer.transport
        self._hypercorn: Any = self._transport.get_protocol()
        self._buffer = bytearray()
        self.reading = True
        """Whether it still reads the socket (else hypercorn does)."""
        self.paused = False
        """Whether it stopped reading the socket for now (`pause`): what it read waits."""

    def take_over(self) -> None:
        self._transport.set_protocol(self)

    def data_received(self, data: bytes) -> None:
        if not self.reading:  # (given back in this very turn: hypercorn's now)
            self._hypercorn.data_received(data)
            return
        buffer = self._buffer
        buffer += data
        pos = 0
        while self.reading:
            read = self._next(buffer, pos)
            if read is None:
                break
            pos = read
        del buffer[:pos]
        if not self.reading and buffer:
            rest, self._buffer = bytes(buffer), bytearray()
            self._hypercorn.data_received(rest)

    def _next(self, buffer: bytearray, pos: int) -> int | None:
        """Read the frame at `pos`: where the next begins, or None when it is not all here
        (or was given back, with it)."""
        found = frame_header(buffer, pos)
        if found is None:
            return None
        first, second, size, head = found
        opcode = first & 0x0F
        plain = first & 0xF0 == 0x80 and second & 0x80  # (final, no extension bits, masked)
        if not plain or opcode not in (BINARY, PING, PONG) or size > self._limit:
            self._give_back()
            return None
        if opcode != BINARY and size > 125:  # (a control frame that long is malformed)
            self._give_back()
            return None
        end = head + 4 + size
        if len(buffer) < end:
            return None
        payload = unmask(bytes(buffer[head + 4 : end]), bytes(buffer[head : head + 4]))
        if opcode == BINARY:
            self._inbox.arrived(payload)
        elif opcode == PING:
            self._transport.write(_frame(PONG, payload))
        return end

    def pause(self) -> None:
        """Read nothing more for now (what was read waits to be handled: as hypercorn's queue
        to the app, it is kept short)."""
        if self.reading and not self.paused and not self._transport.is_closing():
            self.paused = True
            self._transport.pause_reading()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            if not self._transport.is_closing():
                self._transport.resume_reading()

    def _give_back(self) -> None:
        """Hypercorn reads the socket from now on, starting with what was not read here."""
        if self.reading:
            self.resume()  # (hypercorn's own flow control knows nothing of this pause)
            self.reading = False
            self._transport.set_protocol(self._hypercorn)
            self._inbox.taken_back()

    def connection_lost(self, exc: Exception | None) -> None:
        self._give_back()
        self._hypercorn.connection_lost(exc)

    def eof_received(self) -> bool | None:
        self._give_back()
        return bool(self._hypercorn.eof_received())

    def pause_writing(self) -> None:
        self._hypercorn.pause_writing()

    def resume_writing(self) -> None:
        self._hypercorn.resume_writing()
