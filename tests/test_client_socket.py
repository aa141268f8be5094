"""The networked replicas' websocket (`connection._Socket`) reads relayed updates ahead of
websockets when its parser stands between frames: whatever way the bytes are cut into reads,
every message comes out once, whole and in order, taken there or read by the reader."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

from crdtspace.live.connection import INLINE_MAX, _Socket

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(payload: bytes, opcode: int = 0x2, fin: bool = True) -> bytes:
    """A server's frame (unmasked)."""
    size = len(payload)
    first = (0x80 if fin else 0) | opcode
    if size < 126:
        return bytes((first, size)) + payload
    if size < 1 << 16:
        return bytes((first, 126)) + size.to_bytes(2, "big") + payload
    return bytes((first, 127)) + size.to_bytes(8, "big") + payload


def messages(rng: random.Random) -> list[bytes]:
    """Updates (most), presence messages, a large update and odd ones, in a random order."""
    # (payloads that look like frames: read from the wrong place, they would pass for some)
    fake = frame(b"\x00\x02" + b"x" * 3)
    out = [b"\x00\x02" + bytes([n]) + fake * rng.randint(1, 60) for n in range(40)]
    out += [b"\x01" + bytes([n]) * 20 for n in range(6)]  # (awareness: never taken ahead)
    out += [fake * n for n in range(1, 6)]  # (not an update, though it reads as frames of one)
    out += [b"\x00\x02" + b"L" * (INLINE_MAX + 10), b"\x00\x02" + b"m" * 70_000]
    rng.shuffle(out)
    return out


def reads(parts: list[bytes], rng: random.Random) -> list[bytes]:
    """The frames as the client's reads get them: some together, some cut in two or three
    (in a header, right after it, in a payload)."""
    out: list[bytes] = []
    for part in parts:
        way = rng.random()
        if way < 0.3 and out:
            out[-1] += part  # (with the one before, in one read)
        elif way < 0.6:
            header = 2 if part[1] < 126 else 4 if part[1] == 126 else 10
            places = [1, header, rng.randrange(1, len(part))]  # (in, after the header, anywhere)
            cuts = sorted({c for c in rng.sample(places, 2) if 0 < c < len(part)})
            out += [part[a:b] for a, b in zip([0, *cuts], [*cuts, len(part)], strict=True)]
        else:
            out.append(part)
    return out


async def serve_frames(chunks: list[bytes]) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        await asyncio.sleep(0.05)  # (the client waits in `recv` by then)
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.002)  # (a read each, mostly)
        await reader.read(2)  # (the client's close frame begins)
        writer.close()  # (the server closes the connection first, as RFC 6455 has it)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("seed", range(6))
def test_every_message_comes_once_whole_and_in_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    sent = messages(rng)
    parts = [frame(m) for m in sent]
    # (one message in fragments: websockets assembles it, after all read before it)
    fragmented = rng.randrange(len(sent))
    whole = sent[fragmented]
    parts[fragmented] = frame(whole[:3], fin=False) + frame(whole[3:], opcode=0x0)
    parts.append(frame((1000).to_bytes(2, "big"), opcode=0x8))  # (a close)

    ahead = [0]  # (reads the socket's short way took frames from, before websockets)
    read_ahead = _Socket._read_ahead

    def counting(socket: _Socket, data: bytes) -> bytes:
        rest = read_ahead(socket, data)
        ahead[0] += len(rest) < len(data)
        return rest

    monkeypatch.setattr(_Socket, "_read_ahead", counting)

    async def main() -> tuple[list[bytes], int]:
        server, port = await serve_frames(reads(parts, rng))
        got: list[bytes] = []
        taken = 0

        def take(message: bytes) -> bool:
            nonlocal taken
            if message[:2] != b"\x00\x02" or len(message) > INLINE_MAX:
                return False
            got.append(message)
            taken += 1
            return True

        async with (
            server,
            connect(
                f"ws://127.0.0.1:{port}", create_connection=_Socket, compression=None, max_size=None
            ) as socket,
        ):
            assert isinstance(socket, _Socket)
            assert socket.fast
            while True:
                socket.inline = take  # (only while the reader waits, as the replicas do)
                try:
                    message = await socket.recv()
                except ConnectionClosedOK:
                    break
                finally:
                    socket.inline = None
                assert isinstance(message, bytes)
                got.append(message)
        return got, taken

    got, taken = asyncio.run(asyncio.wait_for(main(), 30))
    assert got == sent
    assert taken > 0
    assert ahead[0] > 0  # (a websockets whose parser this cannot read would skip it)
