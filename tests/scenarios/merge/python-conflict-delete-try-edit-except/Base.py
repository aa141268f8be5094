import os

try:
    import simplejson as json
except ImportError:
    import json

CACHE = os.path.expanduser("~/.cache/tool")


def load(path):
    with open(path) as stream:
        return json.load(stream)
