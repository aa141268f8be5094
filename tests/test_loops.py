"""The live layer's event loops: uvloop's (a dependency on Linux and macOS) unless
``CRDTSPACE_UVLOOP=0``; a server and its replicas work on either."""

from __future__ import annotations

import asyncio
import sys

import pytest

from crdtspace.live.loops import anyio_options, new_loop, uvloop_wanted


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_uvloop_is_used_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvloop

    monkeypatch.delenv("CRDTSPACE_UVLOOP", raising=False)
    loop = new_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert anyio_options() == {"use_uvloop": True}
    finally:
        loop.close()
    for off in ("0", "off", "no", "false"):
        monkeypatch.setenv("CRDTSPACE_UVLOOP", off)
        assert not uvloop_wanted()
        loop = new_loop()
        try:
            assert not isinstance(loop, uvloop.Loop)
            assert isinstance(loop, asyncio.AbstractEventLoop)
            assert anyio_options() == {"use_uvloop": False}
        finally:
            loop.close()


def test_without_uvloop_asyncio_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvloop missing (as on Windows): asyncio's loop, and nothing else changes."""
    monkeypatch.delenv("CRDTSPACE_UVLOOP", raising=False)
    monkeypatch.setitem(sys.modules, "uvloop", None)  # (an import of it fails)
    assert not uvloop_wanted()
    loop = new_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()
