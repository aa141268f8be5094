"""Exports of the accounting data."""

import csv


def export(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
