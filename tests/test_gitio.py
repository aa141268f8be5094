"""gitio against real git repositories in temporary directories."""

from __future__ import annotations

import os
import posixpath
import subprocess
from pathlib import Path

import git as gitpython
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crdtspace.errors import DocumentError, GitStateError, PathError
from crdtspace.git import gitio
from crdtspace.testing import GitFailed, commit_files, git, make_repo

MIB = 1 << 20


# --------------------------------------------------------------------------------------------
# classify


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"plain\n", "plain\n"),
        (b"no final newline", "no final newline"),
        (b"a\r\nb\r\n", "a\r\nb\r\n"),
        (b"\xef\xbb\xbfbom\r\n", "\ufeffbom\r\n"),
        ("tabs\tand ünïcödé ✓ 𝄞\n".encode(), "tabs\tand ünïcödé ✓ 𝄞\n"),
        (b"x" * 8000 + b"\0", "x" * 8000 + "\0"),  # like git: only the first 8000 bytes count
    ],
)
def test_classify_keeps_text_exactly(data: bytes, text: str) -> None:
    assert gitio.classify(data) == (text, None)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\0", "binary (NUL byte at offset 0)"),
        (b"abc\0def", "binary (NUL byte at offset 3)"),
        (b"x" * 7999 + b"\0", "binary (NUL byte at offset 7999)"),
        (b"abc\xff", "invalid UTF-8 at byte 3"),
        (b"ok\n" * 1000 + b"\xc3", "invalid UTF-8 at byte 3000"),  # truncated sequence
        (b"ab\xed\xa0\x80", "invalid UTF-8 at byte 2"),  # an encoded surrogate
        (b"\xff\xfeu\0t\0f\0", "binary (NUL byte at offset 3)"),  # UTF-16 is binary to git too
    ],
)
def test_classify_git_only(data: bytes, reason: str) -> None:
    assert gitio.classify(data) == (None, reason)


def test_classify_size_limit() -> None:
    assert gitio.classify(b"x" * MIB) == ("x" * MIB, None)  # at the limit is fine
    assert gitio.classify(b"x" * (MIB + 1)) == (
        None,
        "larger than the 1 MiB size limit (1,048,577 bytes)",
    )
    big = b"y" * int(2.3 * MIB)
    assert gitio.classify(big) == (None, "larger than the 1 MiB size limit (2.3 MiB)")


def test_classify_custom_limit_and_order() -> None:
    assert gitio.classify(b"hello", size_limit=5) == ("hello", None)
    assert gitio.classify(b"hello!", size_limit=5) == (
        None,
        "larger than the 5 bytes size limit (6 bytes)",
    )
    assert gitio.classify(b"x" * 3000, size_limit=2048) == (
        None,
        "larger than the 2 KiB size limit (2.9 KiB)",
    )
    # binary is checked first, then the size, then UTF-8
    assert gitio.classify(b"\0" * 10, size_limit=5) == (None, "binary (NUL byte at offset 0)")
    assert gitio.classify(b"\xff" * 10, size_limit=5)[1] == (
        "larger than the 5 bytes size limit (10 bytes)"
    )


# --------------------------------------------------------------------------------------------
# read_tree


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "mixed",
        {
            "src/pkg/deep/mod.py": "def f():\n    return 1\n",
            "src/pkg/__init__.py": "",
            "run.sh": "#!/bin/sh\necho hi\n",
            "crlf.txt": b"one\r\ntwo\r\n",
            "bom.txt": b"\xef\xbb\xbfhello\n",
            "image.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "latin1.txt": b"caf\xe9\n",
            "big.txt": b"z" * (MIB + 10),
            "big.bin": b"\0" + b"z" * (MIB + 10),
            "copy.py": "def f():\n    return 1\n",  # same blob as src/pkg/deep/mod.py
            "dir with space/ünï.txt": "unicode path\n",
            "B.txt": "upper\n",
        },
    )
    os.chmod(root / "run.sh", 0o755)
    os.symlink("src/pkg/deep/mod.py", root / "link.py")
    commit_files(root, {}, "mode and link")
    return root


def test_read_tree_every_kind_of_entry(mixed: Path) -> None:
    repo = gitio.open_repo(mixed)
    files = gitio.read_tree(gitio.resolve_commit(repo))
    by_path = {f.path: f for f in files}
    assert [f.path for f in files] == sorted(by_path)
    assert set(by_path) == {
        "B.txt",
        "big.bin",
        "big.txt",
        "bom.txt",
        "copy.py",
        "crlf.txt",
        "dir with space/ünï.txt",
        "image.png",
        "latin1.txt",
        "link.py",
        "run.sh",
        "src/pkg/__init__.py",
        "src/pkg/deep/mod.py",
    }
    for f in files:  # every blob sha is git's
        assert f.blob == git(mixed, "rev-parse", f"HEAD:{f.path}").strip()
        assert (f.text is None) == (f.git_only_reason is not None)

    assert by_path["src/pkg/deep/mod.py"].text == "def f():\n    return 1\n"
    assert by_path["src/pkg/deep/mod.py"].mode == "100644"
    assert by_path["copy.py"].text == by_path["src/pkg/deep/mod.py"].text
    assert by_path["src/pkg/__init__.py"].text == ""
    assert by_path["crlf.txt"].text == "one\r\ntwo\r\n"
    assert by_path["bom.txt"].text == "\ufeffhello\n"
    assert by_path["dir with space/ünï.txt"].text == "unicode path\n"

    run = by_path["run.sh"]
    assert (run.mode, run.text) == ("100755", "#!/bin/sh\necho hi\n")
    link = by_path["link.py"]
    assert (link.mode, link.text, link.git_only_reason) == ("120000", None, "symbolic link")
    assert by_path["image.png"].git_only_reason == "binary (NUL byte at offset 8)"
    assert by_path["latin1.txt"].git_only_reason == "invalid UTF-8 at byte 3"
    assert (
        by_path["big.txt"].git_only_reason == "larger than the 1 MiB size limit (1,048,586 bytes)"
    )
    assert by_path["big.bin"].git_only_reason == "binary (NUL byte at offset 0)"


def test_read_tree_custom_size_limit(mixed: Path) -> None:
    commit = gitio.resolve_commit(gitio.open_repo(mixed))
    by_path = {f.path: f for f in gitio.read_tree(commit, size_limit=10)}
    assert by_path["B.txt"].text == "upper\n"
    assert by_path["run.sh"].git_only_reason == "larger than the 10 bytes size limit (18 bytes)"
    assert by_path["image.png"].git_only_reason == "binary (NUL byte at offset 8)"


def test_read_tree_of_an_older_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    commit_files(repo, {"README.md": None, "new.txt": "new\n"})
    handle = gitio.open_repo(repo)
    assert [f.path for f in gitio.read_tree(gitio.resolve_commit(handle, first))] == [
        "README.md",
        "pkg/mod.py",
    ]
    assert [f.path for f in gitio.read_tree(gitio.resolve_commit(handle))] == [
        "new.txt",
        "pkg/mod.py",
    ]


def test_read_tree_many_files_in_parallel_batches(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"d{i % 7}/f{i:04}.txt": f"file {i}\n" for i in range(900)}
    files["d0/bin"] = b"\0"
    root = make_repo(tmp_path / "many", files)
    result = gitio.read_tree(gitio.resolve_commit(gitio.open_repo(root)))
    assert len(result) == 901
    assert [f.path for f in result] == sorted(files)
    for f in result:
        expected = files[f.path]
        assert f.text == (expected if isinstance(expected, str) else None)


def test_read_tree_submodule(tmp_path: Path) -> None:
    inner = make_repo(tmp_path / "inner", {"lib.py": "X = 1\n"})
    outer = make_repo(tmp_path / "outer", {"main.py": "import lib\n"})
    git(
        outer,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(inner),
        "vendor/lib",
    )
    git(outer, "commit", "-q", "-m", "add a submodule")
    files = {f.path: f for f in gitio.read_tree(gitio.resolve_commit(gitio.open_repo(outer)))}
    assert sorted(files) == [".gitmodules", "main.py", "vendor/lib"]
    sub = files["vendor/lib"]
    assert sub.mode == "160000"
    assert sub.blob == git(inner, "rev-parse", "HEAD").strip()
    assert (sub.text, sub.git_only_reason) == (None, "submodule")
    assert files[".gitmodules"].text is not None


def test_read_tree_gitlink_without_checkout(repo: Path) -> None:
    sha = "1234567890abcdef1234567890abcdef12345678"
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},sub")
    git(repo, "commit", "-q", "-m", "a gitlink")
    files = {f.path: f for f in gitio.read_tree(gitio.resolve_commit(gitio.open_repo(repo)))}
    assert files["sub"] == gitio.TrackedFile("sub", "160000", sha, None, "submodule")


def test_read_tree_missing_blob_is_a_git_state_error(repo: Path) -> None:
    blob = git(repo, "rev-parse", "HEAD:README.md").strip()
    (Path(repo) / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(GitStateError, match=f"{blob}"):
        gitio.read_tree(gitio.resolve_commit(gitio.open_repo(repo)))


# --------------------------------------------------------------------------------------------
# resolve_commit, head_commit, is_dirty, blob_text


def test_resolve_commit_by_many_names(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "tag", "v1")
    git(repo, "tag", "-a", "v1-annotated", "-m", "annotated")
    second = commit_files(repo, {"x.txt": "x\n"})
    handle = gitio.open_repo(repo)
    assert gitio.resolve_commit(handle).hexsha == second
    assert gitio.resolve_commit(handle, "HEAD").hexsha == second
    assert gitio.resolve_commit(handle, "main").hexsha == second
    assert gitio.resolve_commit(handle, "v1").hexsha == first
    assert gitio.resolve_commit(handle, "v1-annotated").hexsha == first  # peeled to the commit
    assert gitio.resolve_commit(handle, first[:8]).hexsha == first
    assert gitio.resolve_commit(handle, "HEAD~1").hexsha == first
    assert isinstance(gitio.resolve_commit(handle), gitpython.Commit)


@pytest.mark.parametrize("rev", ["nope", "HEAD~5", "v9", "HEAD^{tree}", "HEAD:README.md", "-x", ""])
def test_resolve_commit_unknown(repo: Path, rev: str) -> None:
    with pytest.raises(GitStateError, match="does not name a commit") as caught:
        gitio.resolve_commit(gitio.open_repo(repo), rev)
    assert repr(rev) in caught.value.message


def test_resolve_commit_in_an_empty_repository(tmp_path: Path) -> None:
    handle = gitio.open_repo(make_repo(tmp_path / "empty"))
    for rev in ("HEAD", "main", "abc123"):
        with pytest.raises(GitStateError, match="no commits yet") as caught:
            gitio.resolve_commit(handle, rev)
        assert caught.value.hint == "commit something first"


def test_resolve_commit_on_an_unborn_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "fresh")
    handle = gitio.open_repo(repo)
    with pytest.raises(GitStateError, match="current branch 'fresh' has no commits yet"):
        gitio.resolve_commit(handle)
    assert gitio.resolve_commit(handle, "main").hexsha == git(repo, "rev-parse", "main").strip()


def test_head_commit(repo: Path, tmp_path: Path) -> None:
    assert gitio.head_commit(gitio.open_repo(repo)) == git(repo, "rev-parse", "HEAD").strip()
    assert gitio.head_commit(gitio.open_repo(make_repo(tmp_path / "empty"))) is None


def test_is_dirty(repo: Path, tmp_path: Path) -> None:
    handle = gitio.open_repo(repo)
    assert not gitio.is_dirty(handle)
    (repo / "untracked.txt").write_text("u\n")
    assert not gitio.is_dirty(handle)
    assert gitio.is_dirty(handle, untracked_files=True)
    (repo / "untracked.txt").unlink()
    (repo / "README.md").write_text("changed\n")
    assert gitio.is_dirty(handle)
    git(repo, "add", "README.md")
    assert gitio.is_dirty(handle)  # staged counts too

    empty = make_repo(tmp_path / "empty")
    handle = gitio.open_repo(empty)
    assert not gitio.is_dirty(handle)
    (empty / "a.txt").write_text("a\n")
    assert not gitio.is_dirty(handle)
    assert gitio.is_dirty(handle, untracked_files=True)
    git(empty, "add", "a.txt")
    assert gitio.is_dirty(handle)


def test_blob_text(mixed: Path) -> None:
    handle = gitio.open_repo(mixed)
    files = {f.path: f for f in gitio.read_tree(gitio.resolve_commit(handle))}
    assert gitio.blob_text(handle, files["crlf.txt"].blob) == b"one\r\ntwo\r\n"
    assert gitio.blob_text(handle, files["image.png"].blob) == b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
    assert gitio.blob_text(handle, files["link.py"].blob) == b"src/pkg/deep/mod.py"
    assert gitio.blob_text(handle, files["latin1.txt"].blob[:10]) == b"caf\xe9\n"
    with pytest.raises(GitStateError, match="not in the repository"):
        gitio.blob_text(handle, "0" * 40)
    with pytest.raises(GitStateError, match="is a commit, not a blob"):
        gitio.blob_text(handle, git(mixed, "rev-parse", "HEAD").strip())
    with pytest.raises(GitStateError, match="not a blob sha"):
        gitio.blob_text(handle, "HEAD:crlf.txt")


# --------------------------------------------------------------------------------------------
# open_repo, repo_root, state_dir, user_name


def test_open_repo_from_a_subdirectory_and_a_file(repo: Path) -> None:
    for start in (repo, repo / "pkg", repo / "pkg" / "mod.py"):
        handle = gitio.open_repo(start)
        assert gitio.repo_root(handle) == repo.resolve()


def test_open_repo_outside_any_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitStateError, match="is not inside a git repository") as caught:
        gitio.open_repo(plain)
    assert caught.value.hint == "run `git init` or cd into a repository"
    with pytest.raises(GitStateError, match="does not exist"):
        gitio.open_repo(tmp_path / "missing")


def test_open_repo_bare(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    bare.mkdir()
    git(bare, "init", "-q", "--bare")
    with pytest.raises(GitStateError, match="bare repository"):
        gitio.open_repo(bare)


def test_state_dir(repo: Path) -> None:
    handle = gitio.open_repo(repo)
    assert gitio.state_dir(handle) == Path(handle.git_dir) / "crdtspace" / "default"
    for name in ("agent-1", "a.b_c", "X" * 64, "a..b"):
        assert gitio.state_dir(handle, name).name == name
    assert not (Path(handle.git_dir) / "crdtspace").exists()  # not created


@pytest.mark.parametrize("name", ["", ".hidden", "..", ".", "a/b", "a b", "ü", "x" * 65, "a\0"])
def test_state_dir_refuses_bad_workspace_names(repo: Path, name: str) -> None:
    with pytest.raises(PathError, match="workspace name"):
        gitio.state_dir(gitio.open_repo(repo), name)


def test_user_name(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handle = gitio.open_repo(repo)
    assert gitio.user_name(handle) == "Test User"
    git(repo, "config", "--unset", "user.name")
    monkeypatch.setenv("USER", "somebody")
    assert gitio.user_name(handle) == "somebody"
    monkeypatch.delenv("USER")
    assert gitio.user_name(handle) == "anonymous"
    # a global setting counts when the repository has none
    Path(os.environ["GIT_CONFIG_GLOBAL"]).write_text("[user]\n\tname = Global Person\n")
    try:
        assert gitio.user_name(handle) == "Global Person"
    finally:
        Path(os.environ["GIT_CONFIG_GLOBAL"]).write_text("")


# --------------------------------------------------------------------------------------------
# safe_relpath


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.py", "a.py"),
        ("pkg/mod.py", "pkg/mod.py"),
        ("a/./b", "a/b"),
        ("./a", "a"),
        ("a/x/../b", "a/b"),
        ("a//b", "a/b"),
        ("a/b/", "a/b"),
        ("x/../y/../z", "z"),
        ("ünï cödé/ä.txt", "ünï cödé/ä.txt"),
        (".gitignore", ".gitignore"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        ("a/.git-keep", "a/.git-keep"),
    ],
)
def test_safe_relpath_good(repo: Path, path: str, expected: str) -> None:
    assert gitio.safe_relpath(repo, path) == expected
    assert gitio.safe_relpath(None, path) == expected
    assert gitio.safe_relpath(repo, str(repo / path)) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../x", "outside the repository"),
        ("a/../../x", "outside the repository"),
        ("..", "outside the repository"),
        ("", "is empty"),
        (".", "names the repository root"),
        ("a/..", "names the repository root"),
        ("./", "names the repository root"),
        (".git", "points into .git"),
        (".git/config", "points into .git"),
        ("./.git/HEAD", "points into .git"),
        (".GIT/config", "points into .git"),
        ("a/../.git/config", "points into .git"),
        ("sub/.git/config", "points into .git"),
        ("a\0b", "NUL byte"),
    ],
)
def test_safe_relpath_bad(repo: Path, path: str, message: str) -> None:
    for root in (repo, None):
        with pytest.raises(PathError, match=message) as caught:
            gitio.safe_relpath(root, path)
        assert repr(path) in caught.value.message
        assert "\n" not in str(caught.value)
        assert isinstance(caught.value, DocumentError)


def test_safe_relpath_absolute(repo: Path, tmp_path: Path) -> None:
    assert gitio.safe_relpath(repo, str(repo / "pkg" / "new.py")) == "pkg/new.py"
    assert gitio.safe_relpath(repo, str(repo / "pkg" / ".." / "x.py")) == "x.py"
    with pytest.raises(PathError, match="'/etc/passwd' is outside the repository"):
        gitio.safe_relpath(repo, "/etc/passwd")
    with pytest.raises(PathError, match="outside the repository"):
        gitio.safe_relpath(repo, str(tmp_path / "elsewhere.py"))
    with pytest.raises(PathError, match="outside the repository"):
        gitio.safe_relpath(repo, str(repo / ".." / "repo-sibling" / "x.py"))
    with pytest.raises(PathError, match="names the repository root"):
        gitio.safe_relpath(repo, str(repo))
    with pytest.raises(PathError, match=r"points into \.git"):
        gitio.safe_relpath(repo, str(repo / ".git" / "config"))
    with pytest.raises(PathError, match="is absolute"):
        gitio.safe_relpath(None, str(repo / "a.py"))


def test_safe_relpath_through_symlinked_directories(repo: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"  # like /tmp and /private/tmp on macOS
    alias.symlink_to(repo, target_is_directory=True)
    assert gitio.safe_relpath(repo, str(alias / "pkg" / "mod.py")) == "pkg/mod.py"
    assert gitio.safe_relpath(alias, str(repo / "pkg" / "mod.py")) == "pkg/mod.py"
    assert gitio.safe_relpath(alias, str(alias / "new.py")) == "new.py"
    # a tracked symbolic link is a file: it is named, never followed
    (repo / "link.py").symlink_to("pkg/mod.py")
    assert gitio.safe_relpath(repo, str(repo / "link.py")) == "link.py"
    (repo / "escape.py").symlink_to("/etc/passwd")
    assert gitio.safe_relpath(repo, str(repo / "escape.py")) == "escape.py"
    # but a path may not go through a linked directory (git refuses that too)
    (repo / "linked").symlink_to(tmp_path, target_is_directory=True)
    for path in ("linked/x.py", str(repo / "linked" / "x.py")):
        with pytest.raises(PathError, match="beyond a symbolic link"):
            gitio.safe_relpath(repo, path)
    assert gitio.safe_relpath(None, "linked/x.py") == "linked/x.py"  # no root: text rules only


_SAFE_NAME = st.text(
    alphabet="abcxyzABC019._- ü",
    min_size=1,
    max_size=8,
).filter(lambda name: name not in (".", "..") and name.lower() != ".git")
_COMPONENT = st.one_of(_SAFE_NAME, _SAFE_NAME, _SAFE_NAME, st.sampled_from([".", "..", ""]))


@given(st.lists(_COMPONENT, min_size=1, max_size=8))
def test_safe_relpath_properties(components: list[str]) -> None:
    path = "/".join(components)
    assume(not path.startswith("/"))
    expected = posixpath.normpath(path)
    try:
        result = gitio.safe_relpath(None, path)
    except PathError:
        # refused only when folding the dots leaves nothing, or climbs above the root
        depth = 0
        escaped = False
        for part in components:
            if part == "..":
                depth -= 1
                escaped = escaped or depth < 0
            elif part not in ("", "."):
                depth += 1
        assert escaped or depth == 0
        return
    assert result == expected
    assert ".." not in result.split("/")
    assert not result.startswith("/")
    assert "" not in result.split("/")
    assert gitio.safe_relpath(None, result) == result


# --------------------------------------------------------------------------------------------
# testing helpers


def test_make_repo_writes_bytes_exactly(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "exact", {"a.txt": "é\r\n", "b.bin": b"\0\xff"}, message="first")
    assert (root / "a.txt").read_bytes() == "é\r\n".encode()
    assert git(root, "show", "HEAD:a.txt").encode() == "é\r\n".encode()
    assert git(root, "branch", "--show-current").strip() == "main"
    assert git(root, "log", "-1", "--format=%an <%ae> %s").strip() == (
        "Test User <test@example.com> first"
    )
    sha = commit_files(root, {"a.txt": None, "c/d.txt": "d\n"}, "second")
    assert sha == git(root, "rev-parse", "HEAD").strip()
    assert git(root, "ls-files").split() == ["b.bin", "c/d.txt"]
    assert not (root / "a.txt").exists()


def test_git_helper_reports_failures(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    with pytest.raises(subprocess.CalledProcessError) as caught:
        git(root, "rev-parse", "--verify", "nope")
    assert isinstance(caught.value, GitFailed)
    assert "fatal" in str(caught.value)


def test_make_repo_identity_is_quoted(tmp_path: Path) -> None:
    name = 'Ann "the tester" \\ O\'Neil; #1'
    root = make_repo(tmp_path / "q", {"a": "a"}, user=name, email="ann@example.org")
    assert git(root, "log", "-1", "--format=%an <%ae>").strip() == f"{name} <ann@example.org>"
    assert gitio.user_name(gitio.open_repo(root)) == name


def test_a_missing_object_mid_batch_fails_cleanly(tmp_path: Path) -> None:
    # git keeps writing blobs nobody reads after the error: the reader must not hang on it
    files: dict[str, str | bytes] = {f"f{i:03}.txt": f"{i}\n" * 2000 for i in range(600)}
    root = make_repo(tmp_path / "r", files)
    handle = gitio.open_repo(root)
    shas = [f.blob for f in gitio.read_tree(gitio.resolve_commit(handle))]
    shas.insert(3, "0" * 40)
    with pytest.raises(GitStateError, match="is missing from the repository"):
        gitio._read_blobs(handle, shas)
    assert len(gitio._read_blobs(handle, shas[4:])) == 597
