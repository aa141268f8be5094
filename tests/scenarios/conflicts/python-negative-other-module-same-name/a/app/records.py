"""Records read from the import files."""

from dataclasses import dataclass


@dataclass
class Record:
    key: str
    value: str


def keys(records):
    return sorted(r.key for r in records)
