"""Command-line entry point."""

import json
import sys


def main(argv):
    rows = json.load(open(argv[1], encoding="utf-8"))
    sys.stdout.write(json.dumps(rows, indent=2))
    return 0
