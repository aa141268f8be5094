"""The merge driver's native client, as git runs it: real repositories, a real server, real cc.

Every merge is run twice through ``sh -c`` in the repository's top, as git runs the driver:
with the command registered where the native client is built, and with the Python client's
command (registered where it is not); results, exit codes and reports must be the same bytes.
The python the native client falls back to is a wrapper that notes each Python client it
starts (``-I -S .../drivercommand.py``), so a test can tell which client answered.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crdtspace.git import hooks, mergeclient, nativeclient
from crdtspace.git.mergedriver import driver_command
from crdtspace.testing import commit_files, git, make_repo
from tests.deadlines import end, exit_code, read_line
from tests.test_mergeserver import (
    BASE,
    CONFLICT,
    FAKE,
    LEFT,
    MERGED,
    RIGHT,
    _case,
    _copy_of_crdtspace,
    _drive_with,
    _gone,
    _server_pids,
    _socket_path,
    _starts,
)

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")

LOGGING = """import sys
with open({log!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
__file__ = {script!r}
exec(compile(open(__file__).read(), __file__, "exec"))
"""


class Python:
    """The Python client's script behind one that notes each start, and the commands that
    register it: with the native client (built for it) and without."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.log = folder / "clients.log"
        self.script = folder / "drivercommand.py"
        self.script.write_text(LOGGING.format(log=str(self.log), script=mergeclient.SCRIPT))

    def clients(self) -> int:
        """How many Python clients have started so far."""
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def native(self) -> str:
        command = driver_command(sys.executable)
        assert command.startswith("if [ -x "), command
        return command

    def plain(self) -> str:
        return f"'{sys.executable}' -I -S '{self.script}' %O %A %B %P %L"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder of the module's own: the client is compiled once for every test."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Python:
    return Python(tmp_path_factory.mktemp("python") / "bin")


@pytest.fixture
def python(cache: Path, logged: Python, monkeypatch: pytest.MonkeyPatch) -> Iterator[Python]:
    """The logging Python client, the native client built for it, its log empty."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(mergeclient, "SCRIPT", str(logged.script))
    built = nativeclient.build()
    assert built.path is not None, built.reason
    logged.log.unlink(missing_ok=True)
    yield logged
    logged.log.unlink(missing_ok=True)


@pytest.fixture
def started() -> Iterator[list[Path]]:
    folders: list[Path] = []
    yield folders
    for folder in folders:
        mergeclient.stop(str(folder))


@pytest.fixture
def repo(tmp_path: Path, started: list[Path]) -> Path:
    root = make_repo(tmp_path / "repo", {"m.py": BASE})
    started.append(root)
    return root


def _run(
    command: str, root: Path, versions: tuple[bytes, bytes, bytes], path: str = "m.py", **env: str
) -> tuple[int, bytes, bytes]:
    """Run a driver command on three versions as git does: exit code, %A after, stderr."""
    names = [f".merge_file_{role}{os.getpid()}" for role in "OAB"]
    for name, data in zip(names, versions, strict=True):
        (root / name).write_bytes(data)
    line = command.replace("%O", names[0]).replace("%A", names[1]).replace("%B", names[2])
    line = line.replace("%P", f"'{path}'").replace("%L", "7")
    done = subprocess.run(
        line, shell=True, cwd=root, capture_output=True, env={**os.environ, **env}, timeout=60
    )
    merged = (root / names[1]).read_bytes()
    for name in names:
        (root / name).unlink()
    return done.returncode, merged, done.stderr


def _texts(*texts: str) -> tuple[bytes, bytes, bytes]:
    base, current, other = (t.encode() for t in texts)
    return base, current, other


# -- the fast path: the same bytes as the Python client -----------------------------------

MERGES = {
    "clean": _texts(BASE, LEFT, RIGHT),
    "conflicting": _texts(BASE, LEFT, CONFLICT),
    "binary": (b"a\0b\nc\n", b"a\0b1\nc\n", b"a\0b\nc1\n"),
    "not utf-8": (b"a\nb\xff\nc\n", b"a1\nb\xff\nc\n", b"a\nb\xff\nc1\n"),
    "empty": (b"", b"x = 1\n", b""),
}


@pytest.mark.parametrize("name", list(MERGES))
def test_a_merge_is_the_python_client_s_byte_for_byte(
    python: Python, repo: Path, name: str
) -> None:
    versions = MERGES[name]
    expected = _run(python.plain(), repo, versions)  # (starts the server)
    clients = python.clients()
    assert _run(python.native(), repo, versions) == expected
    assert python.clients() == clients  # (the native client answered)
    assert _starts(repo) == 1


def test_the_result_goes_through_a_link_to_a_file_with_its_mode_kept(
    python: Python, repo: Path
) -> None:
    _run(python.plain(), repo, MERGES["clean"])
    real = repo / "real"
    real.mkdir()
    for role, text in (("O", BASE), ("A", LEFT), ("B", RIGHT)):
        (real / role).write_text(text)
    (real / "A").chmod(0o640)
    (repo / "A").symlink_to(real / "A")
    line = python.native().replace("%O", "real/O").replace("%A", "A").replace("%B", "real/B")
    line = line.replace("%P", "m.py").replace("%L", "7")
    clients = python.clients()
    done = subprocess.run(line, shell=True, cwd=repo, capture_output=True, timeout=60)
    assert done.returncode == 0
    assert (repo / "A").is_symlink()
    assert (real / "A").read_text() == MERGED
    assert stat.S_IMODE((real / "A").stat().st_mode) == 0o640
    assert sorted(p.name for p in real.iterdir()) == ["A", "B", "O"]
    assert python.clients() == clients


def test_a_real_git_merge_goes_through_it_after_the_first_file(
    python: Python, tmp_path: Path, started: list[Path]
) -> None:
    cases = [_case("python-move-edit"), _case("javascript-add-end"), _case("rust-imports-both")]
    names = {c.name: c.path.replace("file", c.name) for c in cases}
    root = make_repo(tmp_path / "merged", {names[c.name]: c.base for c in cases})
    started.append(root)
    hooks.install(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hooks")
    git(root, "checkout", "-q", "-b", "feature")
    commit_files(root, {names[c.name]: c.right for c in cases}, "right")
    git(root, "checkout", "-q", "main")
    commit_files(root, {names[c.name]: c.left for c in cases}, "left")
    done = subprocess.run(["git", "merge", "--no-edit", "feature"], cwd=root, capture_output=True)
    assert done.returncode == 0, done.stderr
    for case in cases:
        assert (root / names[case.name]).read_text() == case.expected, case.name
    assert python.clients() == 1  # (the first file's, which started the server)
    assert _starts(root) == 1


# -- everything else: the Python client --------------------------------------------------


def test_the_first_call_starts_the_server_through_the_python_client(
    python: Python, repo: Path
) -> None:
    assert _run(python.native(), repo, MERGES["clean"])[:2] == (0, MERGED.encode())
    assert python.clients() == 1
    assert mergeclient.ping(str(repo)) is not None
    assert _run(python.native(), repo, MERGES["clean"])[:2] == (0, MERGED.encode())
    assert python.clients() == 1


@pytest.mark.parametrize(
    "env",
    [{"CRDTSPACE_MERGE_DRIVER": "off"}, {"CRDTSPACE_MERGE_SERVER": " 0 "}],
    ids=["kill switch", "no server"],
)
def test_a_switch_off_is_the_python_client_s(
    python: Python, repo: Path, env: dict[str, str]
) -> None:
    versions = MERGES["conflicting"]
    expected = _run(python.plain(), repo, versions, **env)
    assert _run(python.native(), repo, versions, **env) == expected
    assert python.clients() == 2
    assert not (repo / ".git" / "crdtspace" / ".merge").exists()


def test_a_server_of_another_crdtspace_is_replaced(
    python: Python, repo: Path, tmp_path: Path
) -> None:
    other_client = _copy_of_crdtspace(tmp_path / "other")
    assert _drive_with(other_client, repo, BASE, LEFT, RIGHT) == 0
    (theirs,) = _server_pids(repo)
    assert _run(python.native(), repo, MERGES["clean"])[:2] == (0, MERGED.encode())
    assert python.clients() == 1
    assert _gone(theirs)
    assert len(_server_pids(repo)) == 2


def test_something_else_at_the_socket_path_is_left_to_the_python_client(
    python: Python, repo: Path
) -> None:
    _socket_path(repo).parent.mkdir(parents=True, mode=0o700)
    _socket_path(repo).write_text("not a socket\n")
    versions = MERGES["conflicting"]
    expected = _run(python.plain(), repo, versions)
    assert b"is not a socket" in expected[2]
    assert _run(python.native(), repo, versions) == expected
    assert python.clients() == 2
    assert _socket_path(repo).read_text() == "not a socket\n"


@pytest.mark.parametrize("mode", ["other", "garbage"])
def test_a_server_that_is_not_ours_is_left_to_the_python_client(
    python: Python, repo: Path, mode: str
) -> None:
    folder = mergeclient.server_dir(str(repo))
    assert folder is not None
    fake = subprocess.Popen(
        [sys.executable, "-c", FAKE, folder, mode, mergeclient.ROOT],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert read_line(fake, "the fake server to listen") == "ready\n"
        assert _run(python.native(), repo, MERGES["clean"])[:2] == (0, MERGED.encode())
        assert read_line(fake, "the native client's request") == "request\n"
        assert python.clients() == 1
        assert mergeclient.ping(str(repo)) not in (None, fake.pid)
    finally:
        end(fake)


def test_a_server_killed_mid_merge_writes_nothing_before_the_fallback(
    python: Python, repo: Path
) -> None:
    folder = mergeclient.server_dir(str(repo))
    assert folder is not None
    fake = subprocess.Popen(
        [sys.executable, "-c", FAKE, folder, "silent", mergeclient.ROOT],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert read_line(fake, "the fake server to listen") == "ready\n"
        for role, text in (("O", BASE), ("A", LEFT), ("B", CONFLICT)):
            (repo / role).write_text(text)
        line = python.native().replace("%O", "O").replace("%A", "A").replace("%B", "B")
        line = line.replace("%P", "m.py").replace("%L", "7")
        client = subprocess.Popen(line, shell=True, cwd=repo, stderr=subprocess.DEVNULL)
        assert read_line(fake, "the native client's request") == "request\n"
        assert (repo / "A").read_text() == LEFT
        fake.kill()
        fake.wait(10)
        assert exit_code(client, "the native client to fall back") == 1
    finally:
        end(fake)
    assert "<<<<<<< left" in (repo / "A").read_text()
    assert not [p for p in repo.iterdir() if p.name.startswith(".A.")]


def test_a_server_that_does_not_answer_in_time_is_killed_and_the_merge_runs_here(
    python: Python, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mergeclient, "MARGIN", 0.5 - mergeclient.TIMEOUT)  # (waits 0.5 s)
    assert nativeclient.build().path is not None
    folder = mergeclient.server_dir(str(repo))
    assert folder is not None
    fake = subprocess.Popen(
        [sys.executable, "-c", FAKE, folder, "silent", mergeclient.ROOT],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert read_line(fake, "the fake server to listen") == "ready\n"
        versions = MERGES["conflicting"]
        began = time.monotonic()
        got = _run(python.native(), repo, versions)
        assert time.monotonic() - began < 30
        assert fake.wait(10) == -signal.SIGKILL
    finally:
        end(fake)
    assert python.clients() == 0  # (no new server: the in-process driver, as the Python client)
    assert got == _run(python.plain(), repo, versions, CRDTSPACE_MERGE_SERVER="0")


def test_arguments_it_does_not_take_are_the_python_client_s(python: Python, repo: Path) -> None:
    _run(python.plain(), repo, MERGES["clean"])
    binary = nativeclient.installed(sys.executable)
    assert binary is not None
    for role, text in (("O", BASE), ("A", LEFT), ("B", RIGHT)):
        (repo / role).write_text(text)
    bad = (["O", "A", "B", "m.py"], ["O", "A", "B", "m.py", "x7"], ["-O", "A", "B", "m", "7"])
    for args in bad:
        plain = [sys.executable, "-I", "-S", str(python.script), *args]
        expected = subprocess.run(plain, cwd=repo, capture_output=True, timeout=60)
        done = subprocess.run([str(binary), *args], cwd=repo, capture_output=True, timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (
            expected.returncode,
            expected.stdout,
            expected.stderr,
        )
    assert python.clients() == 7


def test_a_binary_removed_after_registration_leaves_the_python_client(
    python: Python, repo: Path
) -> None:
    command = python.native()
    binary = nativeclient.installed(sys.executable)
    assert binary is not None
    copy = binary.with_name("saved")
    shutil.copy2(binary, copy)
    binary.unlink()
    try:
        assert _run(command, repo, MERGES["clean"])[:2] == (0, MERGED.encode())
        assert python.clients() == 1
        assert driver_command(sys.executable) == python.plain()
    finally:
        copy.rename(binary)


# -- building it ---------------------------------------------------------------------------


def test_hooks_install_builds_it_and_registers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[Path]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_repo(tmp_path / "repo", {"m.py": BASE})
    started.append(root)
    report = hooks.install(root)
    assert report.native is not None
    assert report.native.path is not None, report.native.reason
    assert report.native.reason == "built"
    assert str(report.native.path) in report.driver["merge.crdtspace.driver"]
    assert report.native.path.parent == tmp_path / "cache" / "crdtspace"
    assert stat.S_IMODE(report.native.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(report.native.path.stat().st_mode) & 0o022 == 0
    again = hooks.install(root)
    assert again.native == nativeclient.NativeBuild(report.native.path, "cached")


@pytest.mark.parametrize(
    "env", [{"CC": "/nowhere/cc"}, {"CC": "false"}, {"PATH": "/nowhere"}], ids=str
)
def test_without_a_working_compiler_the_python_client_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[Path], env: dict[str, str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_repo(tmp_path / "repo", {"m.py": BASE})
    started.append(root)
    monkeypatch.delenv("CC", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    built = nativeclient.build()
    monkeypatch.undo()  # (git, for the rest, on the PATH again)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert built.path is None
    assert built.reason
    command = driver_command()
    assert command == f"'{sys.executable}' -I -S '{mergeclient.SCRIPT}' %O %A %B %P %L"
    assert _run(command, root, MERGES["clean"])[:2] == (0, MERGED.encode())
    assert not list((tmp_path / "cache" / "crdtspace").glob("*.tmp"))


def test_hooks_install_without_a_compiler_still_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[Path]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CC", "/nowhere/cc")
    root = make_repo(tmp_path / "repo", {"m.py": BASE})
    started.append(root)
    report = hooks.install(root)
    assert report.native == nativeclient.NativeBuild(None, "no C compiler ($CC, or cc on PATH)")
    assert report.driver["merge.crdtspace.driver"] == driver_command()
    assert not driver_command().startswith("if ")


def test_a_binary_others_can_write_to_is_not_used(python: Python, cache: Path) -> None:
    binary = nativeclient.installed(sys.executable)
    assert binary is not None
    binary.chmod(0o722)
    try:
        assert nativeclient.installed(sys.executable) is None
        assert driver_command(sys.executable) == python.plain()
    finally:
        binary.chmod(0o700)


def test_a_cache_in_a_folder_others_can_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    built = nativeclient.build()
    assert built.path is None
    assert "can be written by others" in built.reason
    assert not list((shared / "crdtspace").iterdir())


def test_the_source_ships_in_the_package() -> None:
    assert nativeclient.SOURCE.is_file()
    assert nativeclient.SOURCE.parent == Path(mergeclient.HERE).parent


def test_a_python_that_is_a_script_gets_no_native_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    wrapper = tmp_path / "python"
    wrapper.write_text(f"#!/bin/sh\nexec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(0o755)
    built = nativeclient.build(str(wrapper))
    assert built == nativeclient.NativeBuild(None, f"the python is a script ({wrapper})")
    plain = f"'{wrapper}' -I -S '{mergeclient.SCRIPT}' %O %A %B %P %L"
    assert driver_command(str(wrapper)) == plain
