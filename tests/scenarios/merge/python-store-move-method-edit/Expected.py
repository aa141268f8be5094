"""Inventory of a small shop."""

import json


class Store:
    """Items and their counts."""

    def __init__(self, path):
        self.path = path
        self.items = {}

    def remove(self, name):
        del self.items[name]

    def save(self):
        with open(self.path, "w") as f:
            json.dump(self.items, f)

    def add(self, name, count=1):
        if count < 0:
            raise ValueError(count)
        self.items[name] = self.items.get(name, 0) + count
        return self.items[name]
