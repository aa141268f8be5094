"""The merge server and its client, as git runs them: real repositories, real processes.

The registered driver command (`driver_command`) is run through ``sh -c`` in the repository's
top, as git runs it; the in-process driver (``CRDTSPACE_MERGE_SERVER=0``) is the reference.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crdtspace.git import hooks, mergeclient
from crdtspace.git.mergeclient import MAGIC, frame, server_dir, write_atomic
from crdtspace.git.mergedriver import driver_command, git_merge_file
from crdtspace.git.mergejob import DriverMerge, merge_versions
from crdtspace.testing import commit_files, git, make_repo
from tests.deadlines import end, exit_code, read_line
from tests.test_mergedriver import FAILING, WORKING, MergeCase

BASE = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"
LEFT = BASE.replace("return 1", "return 10")
RIGHT = BASE.replace("return 2", "return 20")
CONFLICT = BASE.replace("return 1", "return 11")
MERGED = LEFT.replace("return 2", "return 20")
ENVIRONMENT = b"\0".join(k + b"=" + v for k, v in os.environb.items())


@pytest.fixture
def started() -> Iterator[list[Path]]:
    """Folders whose merge servers the test may start: stopped at its end."""
    folders: list[Path] = []
    yield folders
    for folder in folders:
        mergeclient.stop(str(folder))


@pytest.fixture
def repo(tmp_path: Path, started: list[Path]) -> Path:
    root = make_repo(tmp_path / "repo", {"m.py": BASE})
    started.append(root)
    return root


def _case(name: str) -> MergeCase:
    return next(c for c in WORKING if c.name == name)


def _drive(
    root: Path, base: str, current: str, other: str, path: str = "m.py", **env: str
) -> tuple[int, bytes, str]:
    """Run the registered command on three versions, as git does (temporary files named as
    git names them, in the repository's top): exit code, %A afterwards, stderr."""
    names = {}
    for role, text in (("O", base), ("A", current), ("B", other)):
        names[role] = f".merge_file_{role}{os.getpid()}"
        (root / names[role]).write_bytes(text.encode("utf-8", "surrogateescape"))
    command = driver_command()
    for key, value in (*names.items(), ("P", f"'{path}'"), ("L", "7")):
        command = command.replace(f"%{key}", value)
    done = subprocess.run(
        command,
        shell=True,
        cwd=root,
        capture_output=True,
        env={**os.environ, **env},
        check=False,
        timeout=60,
    )
    merged = (root / names["A"]).read_bytes()
    for name in names.values():
        (root / name).unlink()
    return done.returncode, merged, done.stderr.decode()


def _in_process(root: Path, base: str, current: str, other: str) -> tuple[int, bytes, str]:
    return _drive(root, base, current, other, CRDTSPACE_MERGE_SERVER="0")


def _socket_path(root: Path) -> Path:
    return root / ".git" / "crdtspace" / ".merge" / "socket"


def _starts(root: Path) -> int:
    """How many servers have started in the repository (their log says so)."""
    log = root / ".git" / "crdtspace" / ".merge" / "server.log"
    return log.read_text().count(": listening in ") if log.exists() else 0


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _pid(root: Path) -> int | None:
    return mergeclient.ping(str(root))


# -- through the server, the same merge ----------------------------------------------------


def test_a_merge_goes_through_a_server_started_on_first_use(repo: Path) -> None:
    assert _pid(repo) is None
    assert _drive(repo, BASE, LEFT, RIGHT) == (
        0,
        MERGED.encode(),
        _in_process(repo, BASE, LEFT, RIGHT)[2],
    )
    pid = _pid(repo)
    assert pid is not None
    folder = _socket_path(repo).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(_socket_path(repo).lstat().st_mode)
    assert stat.S_IMODE(_socket_path(repo).lstat().st_mode) & 0o077 == 0
    code, merged, err = _drive(repo, BASE, LEFT, CONFLICT)
    assert (code, merged, err) == _in_process(repo, BASE, LEFT, CONFLICT)
    assert code == 1
    assert b"<<<<<<< left" in merged
    assert _pid(repo) == pid
    assert _starts(repo) == 1
    assert not [p for p in repo.iterdir() if p.name.startswith((".merge_file", ".m.py"))]


def test_a_real_git_merge_through_the_server_is_the_in_process_driver_s(
    tmp_path: Path, started: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [
        _case("python-move-edit"),  # git conflicts, crdtspace merges
        _case("python-conflict-same-line"),  # both conflict
        _case("javascript-add-end"),
        _case("go-conflict-rename-call"),  # a semantic conflict: a comment and a report
        _case("rust-imports-both"),
    ]
    results = {}
    for server in ("1", "0"):
        monkeypatch.setenv("CRDTSPACE_MERGE_SERVER", server)
        root = make_repo(
            tmp_path / f"server-{server}", {c.path.replace("file", c.name): c.base for c in cases}
        )
        started.append(root)
        hooks.install(root)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "hooks")
        git(root, "checkout", "-q", "-b", "feature")
        commit_files(root, {c.path.replace("file", c.name): c.right for c in cases}, "right")
        git(root, "checkout", "-q", "main")
        commit_files(root, {c.path.replace("file", c.name): c.left for c in cases}, "left")
        done = subprocess.run(
            ["git", "merge", "--no-edit", "feature"], cwd=root, capture_output=True, check=False
        )
        assert done.returncode == 1  # (conflicts)
        files = {c.name: (root / c.path.replace("file", c.name)).read_bytes() for c in cases}
        status = git(root, "status", "--porcelain")
        reports = [line for line in done.stderr.decode().splitlines() if "crdtspace" in line]
        results[server] = (files, status, reports, done.stdout)
        if server == "1":
            assert _starts(root) == 1  # one server for the five files
            assert _pid(root) is not None
        else:
            assert not _socket_path(root).exists()
    assert results["1"] == results["0"]
    files = results["1"][0]
    assert files["python-move-edit"].decode() == _case("python-move-edit").expected


def test_every_scenario_merges_byte_for_byte_as_in_process(repo: Path) -> None:
    folder = server_dir(str(repo))
    assert folder is not None
    for case in WORKING + FAILING:
        texts = [t.encode() for t in (case.base, case.left, case.right)]
        fields = [str(repo).encode(), ENVIRONMENT, case.path.encode(), b"7", b"10.0", *texts]
        answer = mergeclient.ask(folder, b"merge", fields, 30)
        assert answer is not None
        expected = merge_versions(*texts, case.path, marker_size=7, timeout=10.0)
        assert isinstance(expected, DriverMerge)
        report = "".join(line + "\n" for line in expected.report).encode()
        assert answer[0] == b"merged", case.name
        assert (answer[3], answer[4], answer[5]) == (b"%d" % expected.code, expected.data, report)
    assert _starts(repo) == 1


def test_a_version_that_is_not_text_is_merged_in_process_as_git_does(repo: Path) -> None:
    base, left, right = "a\nb\udcff\nc\n", "a1\nb\udcff\nc\n", "a\nb\udcff\nc1\n"
    code, merged, err = _drive(repo, base, left, right)
    assert (code, merged) == (0, b"a1\nb\xff\nc1\n")
    assert "a version is not text; using git merge-file" in err


def test_the_kill_switch_is_git_merge_file_and_starts_no_server(repo: Path) -> None:
    case = _case("python-move-edit")
    code, merged, err = _drive(repo, case.base, case.left, case.right, CRDTSPACE_MERGE_DRIVER="off")
    assert code == 1  # (git's line merge conflicts; the driver's would not)
    assert merged.decode() == git_merge_file(case.base, case.left, case.right)[0]
    assert "switched off" in err
    assert not (repo / ".git" / "crdtspace" / ".merge").exists()
    assert _drive(repo, case.base, case.left, case.right)[:2] == (0, case.expected.encode())


def test_outside_a_repository_the_merge_runs_in_process(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert _drive(folder, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    assert not list(folder.glob(".git"))


# -- starting, replacing, leaving ------------------------------------------------------------


def test_concurrent_first_calls_start_one_server(repo: Path) -> None:
    command = driver_command()
    processes = []
    for n in range(4):
        for role, text in (("O", BASE), ("A", LEFT), ("B", RIGHT)):
            (repo / f"{role}{n}").write_text(text)
        line = command.replace("%O", f"O{n}").replace("%A", f"A{n}").replace("%B", f"B{n}")
        line = line.replace("%P", "m.py").replace("%L", "7")
        processes.append(subprocess.Popen(line, shell=True, cwd=repo, stderr=subprocess.DEVNULL))
    for n, process in enumerate(processes):
        assert process.wait(timeout=60) == 0
        assert (repo / f"A{n}").read_text() == MERGED
    assert _starts(repo) == 1


def test_a_server_killed_between_merges_is_restarted(repo: Path) -> None:
    assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    pid = _pid(repo)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    assert _socket_path(repo).exists()  # (a socket nobody listens on)
    assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    again = _pid(repo)
    assert again is not None
    assert again != pid
    assert _starts(repo) == 2


FAKE = """
import os, socket, sys, time
sys.path.insert(0, sys.argv[3])
from crdtspace.git.mergeclient import MAGIC, frame
folder, mode = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
os.chdir(folder)
server.bind("socket")
server.listen(8)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    print("request", flush=True)
    if mode == "other":
        pid = b"%d" % os.getpid()
        conn.sendall(frame([MAGIC, b"other", b"an older crdtspace", pid, b"0", b"", b""]))
    elif mode == "garbage":
        conn.sendall(b"HTTP/1.0 400 Bad Request\\r\\n\\r\\n")
    else:
        time.sleep(3600)
    conn.close()
"""


def _end(process: subprocess.Popen[str]) -> None:
    end(process)


def _fake_server(repo: Path, mode: str) -> subprocess.Popen[str]:
    """A process listening at the repository's merge socket that is not our server: it
    answers `mode` (``other``: another version's answer; ``garbage``; ``silent``: nothing)."""
    folder = server_dir(str(repo))
    assert folder is not None
    root = str(Path(mergeclient.ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE, folder, mode, root], stdout=subprocess.PIPE, text=True
    )
    assert read_line(process, "the fake server to listen") == "ready\n"
    return process


@pytest.mark.parametrize("mode", ["other", "garbage"])
def test_a_server_that_is_not_this_one_is_replaced(repo: Path, mode: str) -> None:
    fake = _fake_server(repo, mode)
    try:
        inode = _socket_path(repo).lstat().st_ino
        assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
        assert read_line(fake, "the driver's request") == "request\n"
        assert _socket_path(repo).lstat().st_ino != inode  # (its socket replaced)
        pid = _pid(repo)
        assert pid is not None
        assert pid != fake.pid
        assert _starts(repo) == 1
    finally:
        _end(fake)


def test_a_server_killed_mid_merge_loses_nothing(repo: Path) -> None:
    fake = _fake_server(repo, "silent")
    try:
        names = [repo / n for n in ("O", "A", "B")]
        for path, text in zip(names, (BASE, LEFT, CONFLICT), strict=True):
            path.write_text(text)
        line = driver_command().replace("%O", "O").replace("%A", "A").replace("%B", "B")
        line = line.replace("%P", "m.py").replace("%L", "7")
        client = subprocess.Popen(line, shell=True, cwd=repo, stderr=subprocess.DEVNULL)
        # (it has the merge, and will not answer)
        assert read_line(fake, "the driver's request") == "request\n"
        assert (repo / "A").read_text() == LEFT
        fake.kill()
        assert exit_code(client, "the driver to fall back") == 1
    finally:
        _end(fake)
    expected = _in_process(repo, BASE, LEFT, CONFLICT)
    assert (repo / "A").read_bytes() == expected[1]
    assert not [p for p in repo.iterdir() if p.name.startswith(".A.")]


def test_a_server_that_does_not_answer_in_time_is_killed(repo: Path) -> None:
    fake = _fake_server(repo, "silent")
    try:
        folder = server_dir(str(repo))
        assert folder is not None
        began = time.monotonic()
        assert mergeclient.ask(folder, b"ping", [], 0.5, start=False) is None
        assert time.monotonic() - began < 5
        assert fake.wait(timeout=10) == -signal.SIGKILL
    finally:
        _end(fake)


def test_a_stale_socket_file_is_replaced(repo: Path) -> None:
    folder = server_dir(str(repo))
    assert folder is not None
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    here = os.getcwd()
    os.chdir(folder)
    try:
        dead.bind("socket")  # (bound, never listening, closed: what a dead server leaves)
    finally:
        os.chdir(here)
    dead.close()
    assert stat.S_ISSOCK(_socket_path(repo).lstat().st_mode)
    assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    assert _pid(repo) is not None


def _copy_of_crdtspace(where: Path) -> Path:
    """Another installation of crdtspace (this one's files, in `where`): its client."""
    source = Path(mergeclient.ROOT)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(source / "crdtspace", where / "crdtspace", ignore=ignore)
    shutil.copytree(source / "grammars", where / "grammars", ignore=ignore)
    return where / "crdtspace" / "git" / "mergeclient.py"


def _drive_with(client: Path, root: Path, base: str, current: str, other: str) -> int:
    for role, text in (("O", base), ("A", current), ("B", other)):
        (root / role).write_text(text)
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(client), "O", "A", "B", "m.py", "7"],
        cwd=root,
        capture_output=True,
        check=False,
        timeout=60,
    )
    return done.returncode


def _server_pids(root: Path) -> list[int]:
    """The pids of the servers started in the repository, in order (from their log)."""
    log = (root / ".git" / "crdtspace" / ".merge" / "server.log").read_text()
    return [
        int(part.split(":")[0])
        for part in log.split("crdtspace merge server ")[1:]
        if ": listening in " in part.split("\n")[0]
    ]


def test_a_server_of_another_installation_or_changed_since_is_replaced(
    repo: Path, tmp_path: Path
) -> None:
    other_client = _copy_of_crdtspace(tmp_path / "other")
    assert _drive_with(other_client, repo, BASE, LEFT, RIGHT) == 0
    assert (repo / "A").read_text() == MERGED
    (theirs,) = _server_pids(repo)
    assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    assert _gone(theirs)  # (it answered `other`, and left)
    ours = _pid(repo)
    assert ours is not None
    assert _server_pids(repo) == [theirs, ours]
    # The other installation's again, then changed on disk (upgraded in place): a new one.
    assert _drive_with(other_client, repo, BASE, LEFT, RIGHT) == 0
    assert len(_server_pids(repo)) == 3
    source = tmp_path / "other" / "crdtspace" / "git" / "mergejob.py"
    os.utime(source, ns=(time.time_ns(), source.stat().st_mtime_ns + 1_000_000_000))
    assert _drive_with(other_client, repo, BASE, LEFT, CONFLICT) == 1
    assert "<<<<<<< left" in (repo / "A").read_text()
    pids = _server_pids(repo)
    assert len(pids) == 4
    assert _gone(pids[2])


def test_two_repositories_have_a_server_each(tmp_path: Path, started: list[Path]) -> None:
    roots = [make_repo(tmp_path / name, {"m.py": BASE}) for name in ("one", "two")]
    started.extend(roots)
    for root in roots:
        assert _drive(root, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    pids = [_pid(root) for root in roots]
    assert None not in pids
    assert pids[0] != pids[1]
    assert _drive(roots[0], BASE, LEFT, CONFLICT)[0] == 1
    assert [_pid(root) for root in roots] == pids


def test_an_idle_server_exits_and_removes_its_socket(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(mergeclient.IDLE_ENV, "0.5")
    assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    log = (repo / ".git" / "crdtspace" / ".merge" / "server.log").read_text()
    pid = int(log.split("crdtspace merge server ")[1].split(":")[0])
    assert _gone(pid)
    assert not _socket_path(repo).exists()


def test_a_server_whose_repository_is_deleted_exits(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "gone", {"m.py": BASE})
    assert _drive(root, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    pid = _pid(root)
    assert pid is not None
    shutil.rmtree(root)
    assert _gone(pid)


def test_a_socket_path_too_long_for_af_unix_still_works(
    tmp_path: Path, started: list[Path]
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    root = make_repo(deep, {"m.py": BASE})
    started.append(root)
    assert len(os.fsencode(_socket_path(root))) > 108
    assert _drive(root, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    assert _pid(root) is not None
    assert _starts(root) == 1


# -- what is not ours is not used ------------------------------------------------------------


def test_a_file_at_the_socket_path_is_neither_followed_nor_removed(
    repo: Path, tmp_path: Path, started: list[Path]
) -> None:
    folder = server_dir(str(repo))
    assert folder is not None
    _socket_path(repo).write_text("not a socket\n")
    code, merged, err = _drive(repo, BASE, LEFT, RIGHT)
    assert (code, merged) == (0, MERGED.encode())
    assert "is not a socket" in err
    assert _socket_path(repo).read_text() == "not a socket\n"
    # A link to another repository's live server: not followed either.
    other = make_repo(tmp_path / "other", {"m.py": BASE})
    started.append(other)
    assert _drive(other, BASE, LEFT, RIGHT)[0] == 0
    _socket_path(repo).unlink()
    _socket_path(repo).symlink_to(_socket_path(other))
    code, merged, err = _drive(repo, BASE, LEFT, CONFLICT)
    assert (code, merged) == _in_process(repo, BASE, LEFT, CONFLICT)[:2]
    assert "is not a socket" in err
    assert _socket_path(repo).is_symlink()


def test_a_server_folder_that_is_a_link_is_not_used(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (repo / ".git" / "crdtspace").mkdir()
    (repo / ".git" / "crdtspace" / ".merge").symlink_to(elsewhere)
    assert _drive(repo, BASE, LEFT, RIGHT)[:2] == (0, MERGED.encode())
    assert list(elsewhere.iterdir()) == []


# -- writing the result ----------------------------------------------------------------------


def test_the_result_is_written_atomically_with_the_file_s_mode(tmp_path: Path) -> None:
    target = tmp_path / "A"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["A"]
    folder = tmp_path / "B"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):  # (replacing a folder fails: nothing is left)
        write_atomic(folder, b"newer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B"]
    assert list(folder.iterdir()) == []


def test_a_message_cut_short_is_not_a_message() -> None:
    message = frame([MAGIC, b"merged", b"x" * 10])
    assert mergeclient.unframe(message) == [MAGIC, b"merged", b"x" * 10]
    for cut in range(1, len(message)):
        assert mergeclient.unframe(message[:cut]) != [MAGIC, b"merged", b"x" * 10]


def test_git_s_driver_call_still_fails_loudly_when_a_version_is_missing(repo: Path) -> None:
    (repo / "A").write_text(LEFT)
    (repo / "B").write_text(RIGHT)
    line = driver_command().replace("%O", "O").replace("%A", "A").replace("%B", "B")
    line = line.replace("%P", "m.py").replace("%L", "7")
    done = subprocess.run(line, shell=True, cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "crdtspace: cannot read the base version 'O': No such file or directory"
    ]
    assert (repo / "A").read_text() == LEFT


def test_the_client_imports_nothing_but_os_sys_and_socket() -> None:
    """What git starts per file stays an interpreter's start: no crdtspace, no `socket`."""
    here = str(Path(mergeclient.SCRIPT).parent)
    show = "import sys; print(' '.join(sorted(sys.modules)))"
    bare = [sys.executable, "-I", "-S", "-c", f"import os; {show}"]
    client = [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {here!r}); "
              f"import mergeclient; {show}"]  # fmt: skip
    before, after = (set(subprocess.check_output(c, text=True).split()) for c in (bare, client))
    assert after - before == {"_socket", "mergeclient"}
