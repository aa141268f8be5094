"""Inventory of a small shop."""

import json


class Store:
    """Items and their counts."""

    def __init__(self, path):
        self.path = path
        self.items = {}

    def add(self, name, count=1):
        self.items[name] = self.items.get(name, 0) + count
        return self.items[name]

    def remove(self, name):
        self.items.pop(name, 0)

    def save(self):
        with open(self.path, "w") as f:
            json.dump(self.items, f)
