"""Validators for the command-line arguments."""

from pathlib import Path


def existing_file(value):
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"{value} is not a file")
    return path
