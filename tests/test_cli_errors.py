"""The command line's failures read as one clear line, with the right exit code (issue 12):
the gate's refusals and warnings, the server's shutdown, the merge driver's unreadable
inputs, tokens never echoed, remotes that fail, submodules, writes over the size limit."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crdtspace.cli import app
from crdtspace.errors import AuthError, DocumentError, GitStateError
from crdtspace.git import gitio
from crdtspace.live.server import running_server
from crdtspace.testing import git, make_repo
from tests.deadlines import end, read_line

SOURCE = "def one():\n    return 1\n\n\ndef two():\n    return 2\n"
CRDTSPACE = Path(sys.executable).parent / "crdtspace"
SECRET = "s3cr3t-T0KEN-never-shown"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"src/m.py": SOURCE, "README.md": "hello\n"})
    assert run(root, "init", "--agent", "tester")[0] == 0
    return root


def run(repo: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["-C", str(repo), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def run_process(repo: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed command in a process of its own (real stdout, stderr and warnings)."""
    return subprocess.run(
        [str(CRDTSPACE), "-C", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def steps(out: str) -> list[str]:
    """The names of the gate's step lines (`ok   name  detail`, `FAIL name  detail`)."""
    return [line.split()[1] for line in out.splitlines() if line[:4] in ("ok  ", "FAIL")]


# -- 1. the gate says why it refused, and that no check ran ---------------------------------


def test_commit_with_nothing_to_commit_says_why(repo: Path) -> None:
    code, out, err = run(repo, "commit", "-m", "nothing")
    assert code == 1
    assert "FAIL commit       nothing to commit: the workspace equals the branch" in out
    assert "ok   check        no check command configured" in out
    assert steps(out)[-2:] == ["check", "commit"]
    assert err == ""


def test_commit_shows_every_step_in_order(repo: Path) -> None:
    assert run(repo, "write", "src/m.py", "--agent", "alice", stdin=SOURCE + "# more\n")[0] == 0
    code, out, _ = run(repo, "commit", "-m", "more")
    assert code == 0, out
    names = steps(out)
    assert names[-3:] == ["check", "commit", "worktree"]
    assert names.index("syntax") < names.index("check")
    assert "no check command configured" in out
    assert len(names) == len(set(names))  # each step once
    assert out.splitlines()[-1].startswith("committed ")
    # --no-check: the step line is there too
    assert run(repo, "write", "src/m.py", "--agent", "alice", stdin=SOURCE)[0] == 0
    code, out, _ = run(repo, "commit", "-m", "back", "--no-check")
    assert code == 0, out
    assert "check" in steps(out)


# -- 2. warnings: one line each, `warning: <message>` -----------------------------------------


def tear_the_log(repo: Path) -> None:
    log = repo / ".git" / "crdtspace" / "default" / "updates.log"
    with open(log, "ab") as stream:
        stream.write(b"\x05\x00\x00")  # a record header cut short: a torn tail


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--json"],
        ["show", "src/m.py"],
        ["outline", "src/m.py"],
        ["log", "src/m.py"],
        ["render", "README.md"],
        ["conflicts"],
    ],
)
def test_a_warning_is_one_clean_line_on_stderr(repo: Path, command: list[str]) -> None:
    tear_the_log(repo)
    _code, out, err = run(repo, *command)
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1, err
    assert "torn last record" in warned[0]
    assert "CrdtspaceWarning" not in err
    assert ".py:" not in err
    assert "torn" not in out


def test_a_warning_in_a_real_process_is_one_line(repo: Path) -> None:
    tear_the_log(repo)
    done = run_process(repo, "show", "src/m.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == SOURCE
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("warning: Ignored a torn last record")
    assert "CrdtspaceWarning" not in done.stderr
    assert "warnings.warn" not in done.stderr


# -- 3. serve stops on SIGINT and SIGTERM: exit 0, no traceback -------------------------------


def silent_websocket(port: int, token: str) -> socket.socket:
    """A websocket client that upgrades, then never answers anything (not even the close):
    hypercorn cancels its connection at the end of the graceful timeout."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /default?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b" 101 " in sock.recv(65536).split(b"\r\n", 1)[0]
    return sock


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_a_signal(repo: Path, stop: signal.Signals) -> None:
    env = {**os.environ, "CRDTSPACE_TOKEN": SECRET}
    server = subprocess.Popen(
        [str(CRDTSPACE), "-C", str(repo), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = read_line(server, "serve to say it is serving")  # "serving ws://...": ready
        assert first.startswith("serving ws://127.0.0.1:"), first
        port = int(first.rsplit(":", 1)[1].split("/")[0])
        client = silent_websocket(port, SECRET)
        time.sleep(0.3)
        server.send_signal(stop)
        time.sleep(0.3)
        server.send_signal(stop)  # a second one during the shutdown changes nothing
        out, err = server.communicate(timeout=30)
        client.close()
    finally:
        end(server)
    assert server.returncode == 0, err
    assert "Traceback" not in err
    assert "CancelledError" not in err
    assert len(err.splitlines()) <= 1, err
    assert out == "stopped; the workspace is closed and its log flushed\n"
    assert SECRET not in first + out + err


# -- 4. the merge driver: an unreadable input is an error, not a conflict ---------------------


@pytest.mark.parametrize("missing", ["base", "current", "other"])
def test_merge_driver_names_a_missing_input(tmp_path: Path, missing: str) -> None:
    files = {role: tmp_path / f"{role}.py" for role in ("base", "current", "other")}
    for role, path in files.items():
        if role != missing:
            path.write_text(SOURCE)
    args = [str(files[r]) for r in ("base", "current", "other")]
    for switch in ("", "off"):  # the driver, and the driver switched off (git's merge)
        result = CliRunner().invoke(
            app, ["merge-driver", *args, "m.py"], env={"CRDTSPACE_MERGE_DRIVER": switch}
        )
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert f"cannot read the {missing} version" in lines[0]
        assert str(files[missing]) in lines[0]
        assert not files[missing].exists()
        if missing != "current":
            assert files["current"].read_text() == SOURCE  # left alone


def test_merge_driver_with_an_unreadable_input_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "current.py").write_text(SOURCE)
    (tmp_path / "other.py").write_text(SOURCE)
    (tmp_path / "base.py").mkdir()  # there, but not a file it can read
    done = subprocess.run(
        [str(CRDTSPACE), "merge-driver", "base.py", "current.py", "other.py", "m.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "crdtspace: cannot read the base version 'base.py': Is a directory"
    ]
    assert (tmp_path / "current.py").read_text() == SOURCE


# -- 5. a token is never shown ----------------------------------------------------------------


def assert_no_secret(code: int, out: str, err: str) -> None:
    assert code != 0
    assert SECRET not in out + err
    assert "token=" not in out + err or "token=***" in out + err
    one_error_line(err)


@pytest.mark.parametrize(
    "url",
    [
        "notaurl",
        f"notaurl?token={SECRET}",
        f"http://127.0.0.1:1/?token={SECRET}",
    ],
)
def test_connect_never_shows_the_token_for_a_bad_url(repo: Path, url: str) -> None:
    code, out, err = run(repo, "connect", url, "--token", SECRET, "--agent", "a", "--once")
    assert_no_secret(code, out, err)


def test_connect_never_shows_the_token_of_an_unreachable_host(repo: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"ws://user:{SECRET}@127.0.0.1:{port}/default?token={SECRET}"  # (waits 10 s)
    code, out, err = run(repo, "connect", url, "--token", SECRET, "--agent", "a", "--once")
    assert_no_secret(code, out, err)
    assert f"Cannot reach ws://127.0.0.1:{port}/default" in err


def test_a_refused_token_is_never_shown(repo: Path) -> None:
    with running_server(repo, token="the-right-one") as server:
        code, out, err = run(
            repo, "connect", server.url, "--token", SECRET, "--agent", "a", "--once"
        )
        assert_no_secret(code, out, err)
        assert code == AuthError.exit_code
        for url in (server.url, f"{server.url}?token={SECRET}"):
            code, out, err = run(repo, "status", "--server", url, "--token", SECRET)
            assert_no_secret(code, out, err)
            assert code == AuthError.exit_code


@pytest.mark.parametrize(
    "url", ["notaurl", f"http://127.0.0.1:1/?token={SECRET}", f"ws://x:{SECRET}@127.0.0.1:1"]
)
def test_status_server_never_shows_the_token(repo: Path, url: str) -> None:
    code, out, err = run(repo, "status", "--server", url, "--token", SECRET)
    assert_no_secret(code, out, err)
    given = CliRunner().invoke(  # the token from the environment
        app, ["-C", str(repo), "status", "--server", url], env={"CRDTSPACE_TOKEN": SECRET}
    )
    assert_no_secret(given.exit_code, given.stdout, given.stderr)


def test_serve_errors_never_show_the_token(repo: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = run(repo, "serve", "--port", str(port), "--token", SECRET)
    assert_no_secret(code, out, err)
    assert "Cannot listen on 127.0.0.1" in err


# -- 6. push and pull: an unknown, unreachable or refusing remote -----------------------------


@pytest.mark.parametrize("command", ["push", "pull"])
def test_an_unknown_remote_is_one_clear_sentence(repo: Path, command: str) -> None:
    code, _, err = run(repo, command, "nosuchremote")
    assert code == GitStateError.exit_code
    line = one_error_line(err)
    assert line.startswith("error: There is no git remote named 'nosuchremote'")
    assert "(hint: " in line
    assert "repository exists" not in line


@pytest.mark.parametrize("command", ["push", "pull"])
def test_an_unreachable_remote_is_one_clear_sentence(
    repo: Path, tmp_path: Path, command: str
) -> None:
    nowhere = tmp_path / "nowhere.git"
    git(repo, "remote", "add", "gone", str(nowhere))
    for remote in (str(nowhere), "gone"):
        code, _, err = run(repo, command, remote)
        assert code == GitStateError.exit_code
        line = one_error_line(err)
        verb = "push to" if command == "push" else "fetch from"
        assert line.startswith(f"error: Cannot {verb} the remote {remote!r}: "), line
        assert "does not appear to be a git repository" in line
        assert "(hint: " in line
        assert "repository exists" not in line


def test_a_refused_push_is_one_clear_sentence(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "strict.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no crdtspace refs here' >&2\nexit 1\n")
    hook.chmod(0o755)
    code, _, err = run(repo, "push", str(remote))
    assert code == GitStateError.exit_code
    line = one_error_line(err)
    assert line.startswith(f"error: The remote {str(remote)!r} refused the push"), line
    assert "pre-receive hook declined" in line
    assert "(hint: " in line


def test_a_remote_url_with_a_password_is_not_shown(repo: Path) -> None:
    code, _, err = run(repo, "push", f"http://user:{SECRET}@127.0.0.1:1/x.git")
    assert code == GitStateError.exit_code
    assert SECRET not in err
    one_error_line(err)


# -- 7. a submodule committed with git is kept git-only ---------------------------------------


def add_gitlink(repo: Path, tmp_path: Path) -> str:
    """Commit a submodule entry (mode 160000) whose commit is in another repository."""
    other = make_repo(tmp_path / "library", {"lib.py": "x = 1\n"})
    sha = git(other, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/lib")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "a submodule")
    return sha


def test_sync_git_keeps_a_submodule_git_only(repo: Path, tmp_path: Path) -> None:
    sha = add_gitlink(repo, tmp_path)
    code, out, err = run(repo, "sync-git")
    assert code == 0, err
    code, out, _ = run(repo, "status", "--json")
    assert code == 0
    git_only = {g["path"]: g["reason"] for g in json.loads(out)["git_only"]}
    assert git_only == {"vendor/lib": "submodule"}
    assert run(repo, "sync-git")[0] == 0  # and again: nothing stuck
    # the gate's commit keeps the gitlink as git made it
    assert run(repo, "write", "src/m.py", "--agent", "alice", stdin=SOURCE + "# x\n")[0] == 0
    code, out, _ = run(repo, "commit", "-m", "with a submodule")
    assert code == 0, out
    tree = git(repo, "ls-tree", "-r", "HEAD")
    assert f"160000 commit {sha}\tvendor/lib" in tree.splitlines()
    # the submodule going away is followed too
    git(repo, "rm", "--cached", "--quiet", "vendor/lib")
    git(repo, "commit", "--quiet", "-m", "no submodule")
    assert run(repo, "sync-git")[0] == 0
    assert json.loads(run(repo, "status", "--json")[1])["git_only"] == []


def test_with_the_hooks_a_submodule_commit_does_not_block_later_commits(
    repo: Path, tmp_path: Path
) -> None:
    assert run(repo, "hooks", "install")[0] == 0
    add_gitlink(repo, tmp_path)  # --no-verify: the hooks' post-commit brings it in
    # a commit of the workspace's state through git: the pre-commit hook lets it through
    assert run(repo, "write", "README.md", "--agent", "alice", stdin="hello again\n")[0] == 0
    (repo / "README.md").write_text("hello again\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "--quiet", "-m", "a person's commit")
    status = json.loads(run(repo, "status", "--json")[1])
    assert status["base"] == git(repo, "rev-parse", "HEAD").strip()
    assert {g["path"] for g in status["git_only"]} == {"vendor/lib"}


# -- 8. a write over the size limit is refused at once -----------------------------------------


def test_a_write_over_the_size_limit_is_refused_at_once(repo: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    line = "x = 'a line of a generated file'\n"
    big.write_text(line * (2_200_000 // len(line)))
    assert big.stat().st_size > 2_000_000 > gitio.DEFAULT_SIZE_LIMIT
    log = repo / ".git" / "crdtspace" / "default" / "updates.log"
    before = log.read_bytes()
    for target in ("src/m.py", "src/new.py", "src/m.py::two"):
        started = time.monotonic()
        code, out, err = run(repo, "write", target, "--from", str(big), "--agent", "bob")
        assert time.monotonic() - started < 5
        assert code == DocumentError.exit_code
        line_ = one_error_line(err)
        assert "size limit" in line_
        assert f"{gitio.DEFAULT_SIZE_LIMIT:,} bytes" in line_
        assert out == ""
    started = time.monotonic()
    code, _, err = run(repo, "write", "src/m.py", stdin=big.read_text())  # stdin too
    assert time.monotonic() - started < 5
    assert code == DocumentError.exit_code
    assert "size limit" in err
    assert log.read_bytes() == before  # nothing written
    assert run(repo, "show", "src/m.py")[1] == SOURCE
