"""Shared fixtures: real git repositories that never read the user's git configuration."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import mcp.client.stdio  # noqa: F401  # (see below)
import pytest

from crdtspace.testing import make_repo

# The MCP SDK's stdio client takes `sys.stderr` as its default errlog when first imported: had
# that happened inside a CliRunner invocation (`crdtspace serve` loads the MCP mount), every
# later stdio client would log to CliRunner's closed stream and fail to start (fileno).


@pytest.fixture(scope="session")
def _empty_gitconfig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gitconfig") / "global"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_git(_empty_gitconfig: Path, _cache_home: Path) -> Iterator[None]:
    """git reads no global or system config, and no variable redirects it to another repo."""
    with pytest.MonkeyPatch.context() as patch:  # its own patch: a test's monkeypatch.undo()
        patch.setenv("GIT_CONFIG_GLOBAL", str(_empty_gitconfig))  # leaves this one in place
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        # `hooks install` builds the merge driver's native client into the user's cache: the
        # tests', one for the session (crdtspace/git/nativeclient.py).
        patch.setenv("XDG_CACHE_HOME", str(_cache_home))
        # A merge server a test starts (a `git merge` with the driver registered) is gone
        # seconds after the test, not a minute (crdtspace/git/mergeclient.py).
        patch.setenv("CRDTSPACE_MERGE_SERVER_IDLE", "5")
        for name in (
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_CONFIG",
            "GIT_CEILING_DIRECTORIES",
        ):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small repository on `main` with one commit: a Python module and a text file."""
    return make_repo(
        tmp_path / "repo",
        {"pkg/mod.py": "def main():\n    return 0\n", "README.md": "# demo\n"},
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        default=False,
        help="also run the long soaks (marked slow); the default suite runs small sizes",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The soaks read CRDTSPACE_FULL (so a subprocess or a benchmark can ask for them too).
    if config.getoption("--full"):
        os.environ["CRDTSPACE_FULL"] = "1"


# -- a deadline for every test ----------------------------------------------------------------

TEST_TIMEOUT_ENV = "CRDTSPACE_TEST_TIMEOUT"
TEST_TIMEOUT = 600.0
"""Seconds a test (setup, call and teardown) may take by default (an hour with `--full`); the
environment variable `CRDTSPACE_TEST_TIMEOUT` sets another limit, 0 none. Every wait in the
tests has a deadline of its own: this is the net under them. A test that passes it is taken
for hung: the run stops (as on Ctrl-C), naming the test and showing every thread's stack,
rather than running into CI's time limit with nothing said."""

_overdue: list[str] = []


def _test_timeout(config: pytest.Config) -> float:
    default = 3600.0 if config.getoption("--full") else TEST_TIMEOUT
    return float(os.environ.get(TEST_TIMEOUT_ENV) or default)


def _stacks() -> str:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join(
        f"--- thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    limit = _test_timeout(item.config)
    if limit <= 0 or not hasattr(signal, "pthread_kill"):
        yield
        return

    def overdue() -> None:
        _overdue.append(f"{item.nodeid} took over {limit:g} s: hung?\n{_stacks()}")
        main = threading.main_thread().ident
        if main is not None:  # (a KeyboardInterrupt there, even in a blocking call)
            signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Timer(limit, overdue)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def pytest_keyboard_interrupt() -> None:
    for report in _overdue:
        sys.stderr.write(f"\n{report}\n")
