"""Exports of the accounting data."""

import csv


def legacy_export(rows, path):
    with open(path, "w", newline="", encoding="latin-1") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def export(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
