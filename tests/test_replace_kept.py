"""`replace` on a plain-text file's node keeps the text it wrote, to diff the next one against
(reading it back from yrs costs what the text's blocks number): whatever changed the node in
between (a peer's update, typing, another write) is never overwritten by a stale copy."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtspace import Workspace, sync
from crdtspace.testing import make_repo

STEP = st.tuples(
    st.sampled_from(["alice", "bob", "type", "within"]),
    st.integers(min_value=0, max_value=10_000),
    st.text(alphabet="ab\n<>", min_size=1, max_size=4),
)


def changed(text: str, at: int, insert: str) -> str:
    """`text` with a character replaced by `insert` (or `insert` added, when empty)."""
    if not text:
        return insert
    pos = at % len(text)
    return text[:pos] + insert + text[pos + 1 :]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_a_write_diffs_against_the_text_there_now(
    tmp_path: Path, steps: list[tuple[str, int, str]]
) -> None:
    repo = tmp_path / "repo"
    if not repo.exists():
        make_repo(repo, {"notes.txt": "start\n"})
    alice = Workspace.from_commit(repo, agent="alice")
    bob = Workspace.from_commit(repo, agent="bob")
    nid = alice.document.roots("notes.txt")[0]
    for who, at, insert in steps:
        if who == "alice":
            new = changed(alice.read(nid), at, insert)
            alice.replace(nid, new)
            assert alice.read(nid) == new
        elif who == "bob":
            sync(alice, bob)
            bob.replace(nid, changed(bob.read(nid), at, insert))
            sync(alice, bob)  # (alice's text changes under what she wrote last)
        elif who == "type":
            text = alice.read(nid)
            alice.splice("notes.txt", at % (len(text) + 1), 0, insert)
        else:
            with alice.transaction():
                new = changed(alice.read(nid), at, insert)
                alice.replace(nid, new)
            assert alice.read(nid) == new
    sync(alice, bob)
    assert alice.render("notes.txt") == bob.render("notes.txt")
