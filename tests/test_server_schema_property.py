"""Item 5 end to end: whatever shape a peer's update has, the server refuses it before anything
durable, or what it accepts is sound: no reader calls anything in it malformed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crdtspace import Workspace
from crdtspace.live.protocol import Hostile as _Hostile
from crdtspace.live.server import Server
from crdtspace.model.versions import new_doc
from crdtspace.testing import make_repo
from tests.test_robust_readers import APP, FILES, edits, shaped


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, bytes]]:
    root = make_repo(tmp_path_factory.mktemp("served") / "repo", FILES)
    with Workspace.init(root, agent="lead") as ws:
        ws.write("pkg/app.py", APP.replace("return 1", "return 2"))
    server = Server(root, token="t" * 32)
    try:
        yield server, server.workspace.update_since()
    finally:
        server.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(ops=edits())
def test_the_server_accepts_only_sound_shapes(served: tuple[Server, bytes], ops: list[Any]) -> None:
    server, state = served
    log = server.workspace._log
    assert log is not None
    size = log.path.stat().st_size
    update = shaped(state, ops)
    try:
        server.check_update(update)
    except _Hostile:
        assert log.path.stat().st_size == size  # refused before anything durable
        return
    finally:
        server._recent.clear()  # the next example starts from the served state again
        server._rebuild_scratch()
    replica = new_doc()
    replica.apply_update(state)
    ws = Workspace(replica, agent="reader")
    ws.apply_update(update)
    assert ws.document.malformed() == [], ops
