"""A run of recorded char edits of a node folded into its net change (for one log entry).

An editor's typing session records every keystroke: (part, char offset, old text, new text),
each against the text the previous one left. A log entry needs only the net change from the
texts before the session to the texts after it (the history rebuilds the texts after an
entry from them, see `crdtspace.model.history`), so the session's entry keeps, per part, the
changed stretches: typing a line and fixing a typo in it is one edit, not forty. Stored once
per keystroke, the edits made the log several times the size of the text.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from crdtspace.model.logentry import TextEdit


class _Part:
    """The changed stretches of one text: (start in the current text, old, new), in order and
    apart (two that touch are one)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.olds: list[str] = []
        self.news: list[str] = []

    def edit(self, pos: int, old: str, new: str) -> None:
        """Take in one more edit: `old` at `pos` of the current text becomes `new`."""
        end = pos + len(old)
        starts, news = self.starts, self.news
        i = bisect.bisect_right(starts, pos) - 1
        if i >= 0 and end <= starts[i] + len(news[i]):
            # inside one stretch's new text (typing on in it, a backspace in it): the stretch
            # changes alone (its neighbours are apart from it, so none is touched)
            k = pos - starts[i]
            changed = news[i][:k] + new + news[i][k + len(old) :]
            self._shift(i + 1, len(new) - len(old))
            if changed == self.olds[i]:
                del starts[i], self.olds[i], news[i]
            else:
                news[i] = changed
            return
        # the stretches touching [pos, end]: those starting at or before `end` and ending at
        # or after `pos`
        first = bisect.bisect_left(starts, pos)
        while first > 0 and starts[first - 1] + len(news[first - 1]) >= pos:
            first -= 1
        last = bisect.bisect_right(starts, end)
        if first == last:  # touches nothing: a new stretch
            self._shift(first, len(new) - len(old))
            if old != new:
                starts.insert(first, pos)
                self.olds.insert(first, old)
                news.insert(first, new)
            return
        a = min(pos, starts[first])
        b = max(end, starts[last - 1] + len(news[last - 1]))
        left = news[first][: pos - starts[first]] if starts[first] < pos else ""
        tail_from = end - starts[last - 1]
        right = news[last - 1][tail_from:] if tail_from < len(news[last - 1]) else ""
        before: list[str] = []  # the region's text before every edit taken in
        at = a
        for i in range(first, last):
            if starts[i] > at:
                before.append(old[at - pos : starts[i] - pos])
            before.append(self.olds[i])
            at = starts[i] + len(news[i])
        if at < b:
            before.append(old[at - pos : b - pos])
        merged_old, merged_new = "".join(before), left + new + right
        del starts[first:last], self.olds[first:last], news[first:last]
        self._shift(first, len(new) - len(old))
        if merged_old != merged_new:
            starts.insert(first, a)
            self.olds.insert(first, merged_old)
            news.insert(first, merged_new)

    def _shift(self, index: int, delta: int) -> None:
        if delta:
            starts = self.starts
            for i in range(index, len(starts)):
                starts[i] += delta


def coalesce(edits: Iterable[TextEdit]) -> tuple[TextEdit, ...]:
    """The net change of `edits` (applied in order), as edits applied in order: per part, its
    changed stretches left to right."""
    parts: dict[str, _Part] = {}
    for part, pos, old, new in edits:
        stretches = parts.get(part)
        if stretches is None:
            stretches = parts[part] = _Part()
        stretches.edit(pos, old, new)
    return tuple(
        (part, start, old, new)
        for part, s in parts.items()
        for start, old, new in zip(s.starts, s.olds, s.news, strict=True)
    )
