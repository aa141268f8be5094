import os

try:
    import simplejson as json
except (ImportError, AttributeError):
    import json

CACHE = os.path.expanduser("~/.cache/tool2")


def load(path):
    with open(path) as stream:
        return json.load(stream)
