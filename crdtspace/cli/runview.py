"""Seeing a run: its events folded into one row per agent, shown live, as a log or as JSON."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

Event = dict[str, Any]

EDITS = frozenset(
    {"edit", "write_file", "replace_node", "insert_node", "delete_node", "move_node", "resolve"}
)
"""The tools whose successful call counts as an edit."""
MAIN_ARGS = ("ref", "refs", "path", "container", "id", "pattern", "glob", "command", "message")
"""The argument that names what a tool call is about, first found wins."""
SHORT = 48
"""Characters of a tool call's argument shown before it is cut."""

PRICES: dict[str, tuple[float, float]] = {
    "opus": (5.0, 25.0),
    "opus-old": (15.0, 75.0),
    "sonnet": (3.0, 15.0),
    "haiku": (1.0, 5.0),
    "haiku-old": (0.8, 4.0),
}
"""USD per million tokens (input, output) by model family: Anthropic's list prices, for an
estimate only (cache reads and writes, batch discounts and price changes are not counted)."""
_MODEL = re.compile(
    r"claude-(?:(\d+)(?:-(\d)(?!\d))?-)?(opus|sonnet|haiku)(?:-(\d{1,2})(?!\d)(?:-(\d{1,2})(?!\d))?)?"
)


def price(model: str) -> tuple[float, float] | None:
    """The (input, output) USD per million tokens of `model`, None when it is not known."""
    found = _MODEL.search(model.lower())
    if found is None:
        return None
    before, before_minor, family, after, after_minor = found.groups()
    major, minor = (after, after_minor) if after else (before, before_minor)
    version = (int(major or 0), int(minor or 0))
    if family in ("opus", "haiku") and version < (4, 5):
        family += "-old"
    return PRICES[family]


@dataclass
class AgentRow:
    """One agent as the run has told of it so far."""

    name: str
    kind: str = ""
    state: str = "waiting"
    claim: list[str] = field(default_factory=list)
    last: str = ""
    """The last tool call, short: ``edit inventory/store.py::load``."""
    refused: bool = False
    """Whether that call was refused."""
    edits: int = 0
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost(self) -> float | None:
        """Estimated USD spent (see `PRICES`), None for no model or an unknown one."""
        prices = price(self.model) if self.model else None
        if prices is None:
            return None
        return (self.input_tokens * prices[0] + self.output_tokens * prices[1]) / 1e6


class RunBoard:
    """A run's state from its events (`add`); safe to read from another thread."""

    def __init__(
        self, kinds: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._start = clock()
        self._stop: float | None = None
        self._rows = {name: AgentRow(name, kind) for name, kind in (kinds or {}).items()}
        self._calls: dict[str, tuple[str, dict[str, Any]]] = {}
        self._conflicts: list[dict[str, Any]] = []
        self.run_id = ""
        self.ended: Event | None = None
        """The ``end`` event, once the run has ended."""

    def add(self, event: Event) -> None:
        """Fold one event in."""
        with self._lock:
            self._fold(event)

    def rows(self) -> list[AgentRow]:
        """A copy of every agent's row, in the order they were first told of."""
        with self._lock:
            return [replace(row, claim=list(row.claim)) for row in self._rows.values()]

    def conflicts(self) -> list[dict[str, Any]]:
        """The open conflicts, as the last ``conflicts`` event listed them."""
        with self._lock:
            return list(self._conflicts)

    def elapsed(self) -> float:
        """Seconds since the run began (or the board was made), until it ended."""
        with self._lock:
            return (self._stop if self._stop is not None else self._clock()) - self._start

    def stage(self) -> str:
        """Where the run is: agents at work, the gate, or how it ended."""
        with self._lock:
            if self.ended is not None:
                commit = self.ended.get("commit")
                return f"committed {str(commit)[:10]}" if commit else "not committed"
            busy = any(r.state in ("waiting", "working") for r in self._rows.values())
            return "agents at work" if busy or not self._rows else "the gate: checking"

    def _row(self, name: str) -> AgentRow:
        return self._rows.setdefault(name, AgentRow(name))

    def _fold(self, event: Event) -> None:
        kind = event.get("type")
        agent = str(event.get("agent", ""))
        if kind == "run":
            self.run_id = str(event.get("id", ""))
            self._start = self._clock()
            for name in event.get("agents", []):
                self._row(str(name))
        elif kind == "agent":
            row = self._row(agent)
            row.state = str(event.get("state", ""))
            if row.state not in ("waiting", "working"):
                row.claim = []  # (the runner releases an agent's claims when it ends)
        elif kind == "tool_call":
            args = event.get("args") or {}
            self._calls[agent] = (str(event.get("tool", "")), args)
            row = self._row(agent)
            row.last, row.refused = short_call(str(event.get("tool", "")), args), False
        elif kind == "tool_result":
            self._result(agent, event)
        elif kind == "message":
            row = self._row(agent)
            row.model = str(event.get("model") or row.model)
            usage = event.get("usage") or {}  # (the agent's tokens so far, not this turn's)
            row.input_tokens = int(usage.get("input", row.input_tokens))
            row.output_tokens = int(usage.get("output", row.output_tokens))
        elif kind == "asked":
            self._row(agent).last = "asked to settle " + ", ".join(event.get("conflicts", []))
        elif kind == "conflicts":
            self._conflicts = list(event.get("open", []))
        elif kind == "end":
            self.ended, self._stop = event, self._clock()

    def _result(self, agent: str, event: Event) -> None:
        row = self._row(agent)
        tool, args = self._calls.pop(agent, (str(event.get("tool", "")), {}))
        if event.get("error"):
            row.refused = True
            return
        if tool in EDITS:
            row.edits += 1
        elif tool == "claim":
            row.claim += [r for r in _refs(args.get("refs")) if r not in row.claim]
        elif tool == "release":
            gone = set(_refs(args.get("refs")))
            row.claim = [r for r in row.claim if r not in gone]


def _refs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def short_call(tool: str, args: Mapping[str, Any]) -> str:
    """A tool call in a few words: the tool and its main argument, cut to `SHORT`."""
    for name in MAIN_ARGS:
        value = args.get(name)
        if value:
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            text = " ".join(text.split())
            if len(text) > SHORT:
                text = text[: SHORT - 3] + "..."
            return f"{tool} {text}"
    return tool


# -- showing it ------------------------------------------------------------------------------


def render(board: RunBoard) -> RenderableType:
    """The board as a table, one row per agent, the open conflicts below, then the time."""
    table = Table()
    for column in ("agent", "state", "claim", "last tool call"):
        table.add_column(column)
    for column in ("edits", "tokens", "cost"):
        table.add_column(column, justify="right")
    for row in board.rows():
        cost = row.cost
        table.add_row(
            Text(row.name + (f" ({row.kind})" if row.kind else ""), style="bold"),
            Text(row.state, style=_state_style(row.state)),
            Text(", ".join(row.claim)),
            Text(f"{row.last} (refused)", style="red") if row.refused else Text(row.last),
            str(row.edits),
            f"{row.tokens:,}" if row.tokens else "",
            f"${cost:.2f}" if cost is not None else "",
        )
    parts: list[RenderableType] = [table]
    conflicts = board.conflicts()
    if conflicts:
        parts.append(Text(f"open conflicts: {len(conflicts)}", style="bold yellow"))
        parts += [Text("  " + conflict_line(c), style="yellow") for c in conflicts]
    else:
        parts.append(Text("no open conflict", style="dim"))
    parts.append(Text(f"{board.elapsed():.1f} s, {board.stage()}", style="dim"))
    return Group(*parts)


def _state_style(state: str) -> str:
    if state == "done":
        return "green"
    if state.startswith(("stopped", "crashed")):
        return "red"
    return "cyan" if state == "working" else "dim"


def conflict_line(conflict: Mapping[str, Any]) -> str:
    """One open conflict on one line: id, kind, agents, message."""
    agents = ", ".join(map(str, conflict.get("agents", [])))
    message = " ".join(str(conflict.get("message", "")).split())
    return f"{conflict.get('id', '')} {conflict.get('kind', '')} ({agents}): {message}"


class LiveView:
    """The board shown live in a terminal while the run goes (a context manager; call it with
    each event). Rich refreshes from a thread of its own, hence the board's lock."""

    def __init__(self, console: Console, board: RunBoard, refresh_per_second: float = 4) -> None:
        self.board = board
        self._live = Live(
            console=console,
            get_renderable=lambda: render(board),
            refresh_per_second=refresh_per_second,
            transient=False,
        )

    def __call__(self, event: Event) -> None:
        self.board.add(event)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._live.stop()  # (draws the board a last time)


def log_line(event: Event) -> str:
    """The plain log's line for an event, empty for one not worth a line (no markup)."""
    kind = event.get("type")
    agent = f"{event.get('agent', '')!s:12}"
    if kind == "run":
        return f"run {event.get('id', '')}: {', '.join(event.get('agents', []))}"
    if kind == "agent":
        return f"{agent} {event.get('state', '')}"
    if kind == "tool_call":
        return f"{agent} {short_call(str(event.get('tool', '')), event.get('args') or {})}"
    text = str(event.get("text", ""))
    if kind == "tool_result" and event.get("error"):
        return f"{agent}   refused: {_first(text.splitlines())}"
    if kind == "tool_result" and "conflict" in text.lower():
        notes = [line for line in text.splitlines() if "conflict" in line.lower()][:2]
        return "\n".join(f"{agent}   {line.strip()}" for line in notes)
    if kind == "asked":
        return f"{agent} asked to settle {', '.join(event.get('conflicts', []))}"
    if kind == "conflicts":
        listed = event.get("open", [])
        if not listed:
            return "conflicts: none open"
        return "\n".join(f"conflict open: {conflict_line(c)}" for c in listed)
    return ""


def _first(lines: Iterable[str]) -> str:
    return next(iter(lines), "")


class PlainLog:
    """The run as a log, one line per event worth one (for a file, a pipe, CI)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def __call__(self, event: Event) -> None:
        line = log_line(event)
        if line:
            self._write(line)


class JsonLines:
    """Every event as one JSON object per line, for machines."""

    def __init__(self, stream: Callable[[], TextIO]) -> None:
        self._stream = stream

    def __call__(self, event: Event) -> None:
        stream = self._stream()
        stream.write(json.dumps(event, default=str) + "\n")
        stream.flush()
