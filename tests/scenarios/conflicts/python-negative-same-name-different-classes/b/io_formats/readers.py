"""Readers for the two input formats."""

import csv
import json


class CsvReader:
    def __init__(self, handle):
        self.handle = handle

    def reset(self):
        self.handle.seek(0)

    def read(self):
        return list(csv.DictReader(self.handle))


class JsonReader:
    def __init__(self, handle):
        self.handle = handle

    def reset(self):
        self.handle.seek(0)

    def read(self):
        return json.load(self.handle)

    def reload(self):
        self.reset()
        return self.read()
