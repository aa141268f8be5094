"""A typing session's edits folded into its net change: the same texts after, fewer edits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crdtspace.model.coalesce import coalesce
from crdtspace.model.history import apply_edits
from crdtspace.model.logentry import LogEntry, TextEdit


@st.composite
def sessions(draw: st.DrawFn) -> tuple[dict[str, str], list[TextEdit], dict[str, str]]:
    """Texts before, a run of edits (each against the texts the previous one left), after."""
    alphabet = "ab\n é日🙂"
    texts = {"text": draw(st.text(alphabet, max_size=30)), "head": draw(st.text(alphabet))}
    before = dict(texts)
    edits: list[TextEdit] = []
    for _ in range(draw(st.integers(0, 30))):
        part = draw(st.sampled_from(["text", "text", "head", "name"]))
        current = texts.get(part, "")
        pos = draw(st.integers(0, len(current)))
        old = current[pos : pos + draw(st.integers(0, min(4, len(current) - pos)))]
        new = draw(st.text(alphabet, max_size=3))
        edits.append((part, pos, old, new))
        texts[part] = current[:pos] + new + current[pos + len(old) :]
    return before, edits, texts


@given(sessions())
def test_coalesced_edits_give_the_same_texts(
    session: tuple[dict[str, str], list[TextEdit], dict[str, str]],
) -> None:
    before, edits, after = session
    folded = coalesce(edits)
    entry = LogEntry("1.1", "alice", (), "edit", edits=folded)
    result = apply_edits(before, entry)
    assert {k: result.get(k, "") for k in after} == {k: v for k, v in after.items()}
    assert len(folded) <= len(edits)
    assert {part for part, *_ in folded} <= {part for part, *_ in edits}


def test_typing_a_word_and_fixing_it_is_one_edit() -> None:
    edits = [("text", i, "", c) for i, c in enumerate("helo")]
    edits += [("text", 3, "o", ""), ("text", 3, "", "lo"), ("text", 10, "", "x")]
    assert coalesce(edits) == (("text", 0, "", "hello"), ("text", 10, "", "x"))


def test_typing_undone_leaves_no_edit() -> None:
    assert coalesce([("text", 5, "", "ab"), ("text", 5, "ab", "")]) == ()
