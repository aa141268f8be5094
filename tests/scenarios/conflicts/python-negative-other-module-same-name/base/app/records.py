"""Records read from the import files."""

from dataclasses import dataclass


@dataclass
class Record:
    key: str
    value: str


def parse(text):
    """The old `key=value` line format."""
    return [Record(*line.split("=", 1)) for line in text.splitlines() if "=" in line]


def keys(records):
    return sorted(r.key for r in records)
