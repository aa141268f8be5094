"""A unit's new text fitted into its place: the blank lines before it, its indentation, its end.

A node's text holds the blank lines that separate it from the unit before it and, inside a
class or an `impl`, its indentation (`read("app.py::C.m")` gives ``"\\n    def m(self):..."``).
An agent replacing a unit usually writes only the unit: ``"def m(self):\\n    ..."``. Taken as
it is, that glues the unit to the one before and takes a method out of its class body in the
rendered file; blank lines the agent left at its end move into the next unit's text, and grow
at every replace. So a replacement (`Workspace.replace`, the `replace_node` and `edit` tools)
of a unit of a file in a known language keeps what the unit's place had:

- no blank line before it: the old text's leading blank lines;
- its first line at column 0 where the old one was indented: every non-blank line indented by
  the old text's indentation (the agent wrote the unit as if at the top level);
- no newline at its end, or more blank lines than the old text had there: the old text's end.

A text that starts with a blank line, or is indented already, is the writer's choice and kept
as it is; so is an empty text (deleting the unit's text) and any text of a plain-text file.
"""

from __future__ import annotations

__all__ = ["fit_unit"]


def fit_unit(old: str, new: str) -> str:
    """`new`, the text replacing a unit that held `old`, fitted into `old`'s place."""
    if not new.strip() or not old.strip():
        return new
    body = new
    lead = _leading_blank(old)
    if lead and not _leading_blank(new):
        indent = _indentation(old[len(lead) :])
        if indent and not _indentation(body):
            body = _indented(body, indent)
        body = lead + body
    elif not lead:
        indent = _indentation(old)
        if indent and not _indentation(body) and not _leading_blank(body):
            body = _indented(body, indent)
    return _ended_like(old, body)


def _leading_blank(text: str) -> str:
    """The whole blank lines `text` starts with."""
    end = 0
    for line in text.splitlines(keepends=True):
        if line.strip() or not line.endswith("\n"):
            break
        end += len(line)
    return text[:end]


def _indentation(text: str) -> str:
    """The indentation of `text`'s first line."""
    return text[: len(text) - len(text.lstrip(" \t"))]


def _indented(text: str, indent: str) -> str:
    return "".join(
        indent + line if line.strip() else line for line in text.splitlines(keepends=True)
    )


def _ended_like(old: str, new: str) -> str:
    """`new` with `old`'s newlines at its end, when it has none or more than `old`."""
    kept = len(old) - len(old.rstrip("\n"))
    has = len(new) - len(new.rstrip("\n"))
    if kept and (has == 0 or has > kept):
        return new.rstrip("\n") + "\n" * kept
    return new
