"""Exporting report rows."""

import csv
import io
import json


def to_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue()


def to_json(rows):
    return json.dumps(rows, indent=2)
