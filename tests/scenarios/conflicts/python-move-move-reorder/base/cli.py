"""A tiny command-line tool."""

import sys


def parse(argv):
    return [a for a in argv[1:] if not a.startswith("-")]


def validate(paths):
    missing = [p for p in paths if not p]
    if missing:
        raise SystemExit("empty path")
    return paths


def render(paths):
    return "\n".join(sorted(paths))


def main():
    print(render(validate(parse(sys.argv))))
