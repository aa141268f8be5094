"""Exports of the accounting data."""

import csv


def legacy_export(rows, path):
    with open(path, "w", newline="", encoding="latin-1") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def export(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def export_excel_csv(rows, path):
    # Same dialect as legacy_export() used, but UTF-8 with a BOM so Excel opens it.
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return "written like legacy_export, in UTF-8"
