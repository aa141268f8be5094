"""`python -m inventory.cli FILE` prints a stock report."""

import sys

from inventory.store import format_report, load


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: inventory FILE", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        print(format_report(load(handle.read())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
