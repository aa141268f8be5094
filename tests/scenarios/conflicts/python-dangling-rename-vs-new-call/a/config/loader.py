"""Reading the application's settings."""

import json
from pathlib import Path

DEFAULTS = {"debug": False, "port": 8000}


def read_settings(path):
    """Settings from a JSON file, over the defaults."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {**DEFAULTS, **data}


def port(path):
    return int(read_settings(path)["port"])
