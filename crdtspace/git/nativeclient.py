"""The merge driver's native client: `mergeclient.c`, compiled where a C compiler is.

git runs the driver once per file, in a process of its own, and the Python client's floor is
the interpreter's start (about 7 ms through ``sh -c``, 3.5 times git's whole merge). The C
client does the Python client's fast path only (a warm server, a `merged` answer) and becomes
the Python client on anything else (see the C file's opening comment), so it only has to be
right where it answers; everything that needs judgement stays in Python.

Where: ``$XDG_CACHE_HOME/crdtspace/`` (else ``~/.cache/crdtspace/``), one binary per crdtspace
installation, python and machine, named by a hash of the source, of the system and machine
names, and of what is compiled into it (the request's key: the package root and the python;
the timeouts): a stale binary is never at the name a command registers, and every repository
registered with the same crdtspace shares it (`driver_command` has no repository, and a build
costs a compile once, not once per repository).
The folder is made 0700 and must be this user's, in a parent that no one else can write to;
a binary there is used only if it is this user's and no one else can write it. The compiler
is ``$CC`` (words, as make takes it) or ``cc``; a build that takes over `COMPILE_TIMEOUT`
seconds, fails, or whose binary does not answer ``--key`` with the key is given up, silently:
the Python client is what runs then, as before.

The command registered (`crdtspace.git.mergedriver.driver_command`) runs the binary if it is
there and executable, else the Python client, so a binary removed later costs nothing but time.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from crdtspace.git import mergeclient

__all__ = ["COMPILE_TIMEOUT", "SOURCE", "NativeBuild", "binary_path", "build", "installed"]

SOURCE = Path(__file__).with_name("mergeclient.c")
COMPILE_TIMEOUT = 5.0
"""Seconds a compile (and the new binary's check) may take before the build is given up."""
FLAGS = ("-std=c99", "-O2")
PREFIX = "mergeclient-"


@dataclass(frozen=True)
class NativeBuild:
    """What `build` found or made: the binary, or None and why there is none."""

    path: Path | None
    reason: str
    """``built``, ``cached``, or why there is no binary (a sentence)."""


def cache_dir() -> Path:
    """This user's folder for the binaries (it may not exist yet)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "crdtspace"


def binary_path(python: str) -> Path | None:
    """Where the client for `python` (as the driver command names it) is built; None for a
    python not named by an absolute path (the binary execs it without a search)."""
    if not os.path.isabs(python):
        return None
    digest = hashlib.sha256(SOURCE.read_bytes())
    machine = (os.uname().sysname, os.uname().machine)  # (a home shared by other machines)
    for value in (*_defines(python, python).items(), FLAGS, machine):
        digest.update(repr(value).encode("utf-8", "surrogateescape") + b"\0")
    return cache_dir() / (PREFIX + digest.hexdigest()[:24])


def installed(python: str) -> Path | None:
    """The built client for `python`, if it is there and safe to run (else None)."""
    path = binary_path(python)
    return path if path is not None and _safe_binary(path) else None


def build(python: str = sys.executable) -> NativeBuild:
    """The client for `python`, built now unless it already is; never raises for want of a
    compiler, a folder or a working build: `path` is None then, `reason` says why."""
    path = binary_path(python)
    if path is None:
        return NativeBuild(None, f"the python is not an absolute path ({python})")
    if _safe_binary(path):
        return NativeBuild(path, "cached")
    compiler = _compiler()
    if compiler is None:
        return NativeBuild(None, "no C compiler ($CC, or cc on PATH)")
    try:
        _private_folder(path.parent)
        _compile(compiler, python, path)
    except (OSError, subprocess.SubprocessError, _Failed) as exc:
        return NativeBuild(None, str(exc) or type(exc).__name__)
    if not _safe_binary(path):
        return NativeBuild(None, f"{path} is not a program of this user only")
    return NativeBuild(path, "built")


class _Failed(Exception):
    """A build that did not give a working binary (its message says how)."""


def _compiler() -> list[str] | None:
    words = shlex.split(os.environ.get("CC", "").strip() or "cc")
    found = shutil.which(words[0]) if words else None
    return [found, *words[1:]] if found else None


def _defines(python: str, executable: str) -> dict[str, str | int]:
    """What is compiled into the client (``-DNAME=VALUE``): the rest of its knowledge is
    mergeclient.py's, as constants there."""
    return {
        "CRDTSPACE_KEY": _c_string(_key(executable)),
        "CRDTSPACE_MAGIC": _c_string(mergeclient.MAGIC),
        "CRDTSPACE_ROOT": _c_string(os.fsencode(mergeclient.ROOT)),
        "CRDTSPACE_PYTHON": _c_string(os.fsencode(python)),
        "CRDTSPACE_EXECUTABLE": _c_string(os.fsencode(executable)),
        "CRDTSPACE_SCRIPT": _c_string(os.fsencode(mergeclient.SCRIPT)),
        "CRDTSPACE_TIMEOUT": _c_string(repr(mergeclient.TIMEOUT).encode()),
        "CRDTSPACE_WAIT_MS": round((mergeclient.TIMEOUT + mergeclient.MARGIN) * 1000),
        "CRDTSPACE_CONNECT_MS": round(mergeclient.CONNECT_TIMEOUT * 1000),
        "CRDTSPACE_FOLDER": _c_string(mergeclient.FOLDER.encode()),
        "CRDTSPACE_SOCKET": _c_string(mergeclient.SOCKET.encode()),
    }


def _key(executable: str) -> bytes:
    """The Python client's key (`mergeclient.KEY`) when `executable` runs it."""
    magic, root = mergeclient.KEY.split(b"\0")[:2]
    return b"\0".join([magic, root, os.fsencode(executable)])


def _c_string(data: bytes) -> str:
    """A C string literal of `data`, every byte in octal (no quoting left to a shell)."""
    return '"' + "".join(f"\\{byte:03o}" for byte in data) + '"'


def _executable(python: str) -> str:
    """`python`'s own sys.executable, which the Python client puts in its key (asked once,
    when the client is compiled). Not for a script (``#!``): the python it runs may change
    under the same name, and a key that is not the Python client's would send the other's
    server away at every merge."""
    with open(python, "rb") as stream:
        if stream.read(2) == b"#!":
            raise _Failed(f"the python is a script ({python})")
    code = "import sys; sys.stdout.write(sys.executable)"
    done = subprocess.run(
        [python, "-I", "-S", "-c", code],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=COMPILE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        raise _Failed(f"{python} does not run")
    return os.fsdecode(done.stdout)


def _compile(compiler: list[str], python: str, path: Path) -> None:
    """Compile the client into `path` (through a temporary name beside it) and check it."""
    executable = _executable(python)
    defines = _defines(python, executable)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    command = [*compiler, *FLAGS, "-o", str(temporary), str(SOURCE)]
    command += [f"-D{name}={value}" for name, value in defines.items()]
    try:
        done = subprocess.run(
            command,
            cwd=path.parent,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=COMPILE_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise _Failed(f"the C compiler failed ({os.path.basename(compiler[0])})")
        os.chmod(temporary, 0o700)
        said = subprocess.run(
            [str(temporary), "--key"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=COMPILE_TIMEOUT,
            check=False,
        )
        if said.returncode != 0 or said.stdout != _key(executable):
            raise _Failed("the compiled client does not run here")
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _private_folder(folder: Path) -> None:
    """Make `folder` (0700) if need be; it must be this user's, with a parent no one else can
    write to (so that no one else can put a binary where a command names one)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise _Failed(f"{folder} is not a folder of this user")
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    parent = folder.parent.stat()
    shared = parent.st_mode & 0o022 and not parent.st_mode & stat.S_ISVTX
    if parent.st_uid not in (os.geteuid(), 0) or shared:
        raise _Failed(f"{folder.parent} can be written by others")


def _safe_binary(path: Path) -> bool:
    """Whether `path` is a program of this user's that no one else can change."""
    try:
        info = path.lstat()
        folder = path.parent.lstat()
    except OSError:
        return False
    mine = info.st_uid == os.geteuid() and folder.st_uid == os.geteuid()
    private = not (info.st_mode | folder.st_mode) & 0o022
    return stat.S_ISREG(info.st_mode) and stat.S_ISDIR(folder.st_mode) and mine and private
