"""Inventory of a small shop."""

import json
import os
import logging


class Store:
    """Items and their counts."""

    def __init__(self, path):
        self.path = path
        self.items = {}

    def add(self, name, count=1):
        self.items[name] = self.items.get(name, 0) + count
        return self.items[name]

    def remove(self, name):
        del self.items[name]

    def exists(self):
        return os.path.exists(self.path)

    def save(self):
        logging.info("saving %s", self.path)
        with open(self.path, "w") as f:
            json.dump(self.items, f)
