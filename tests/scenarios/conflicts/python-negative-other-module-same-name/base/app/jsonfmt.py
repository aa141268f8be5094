"""The JSON import format."""

import json


def parse(text):
    return json.loads(text)
