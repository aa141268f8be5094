"""The event loops of the live layer (the network loop of a process's replicas, `serve`'s):
uvloop's where it is installed, else asyncio's. ``CRDTSPACE_UVLOOP=0`` keeps asyncio's own
loop (to compare, or should uvloop misbehave somewhere)."""

from __future__ import annotations

import asyncio
import os
from typing import Any


def uvloop_wanted() -> bool:
    """Whether uvloop is installed and not turned off (``CRDTSPACE_UVLOOP=0``)."""
    if os.environ.get("CRDTSPACE_UVLOOP", "1").strip().lower() in ("0", "no", "false", "off"):
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's when `uvloop_wanted`, else asyncio's."""
    if uvloop_wanted():
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def anyio_options() -> dict[str, Any]:
    """`anyio.run`'s backend options for the same choice."""
    return {"use_uvloop": uvloop_wanted()}
