"""An in-memory cache with expiry."""

import time


class Cache:
    def __init__(self, ttl=60.0):
        self.ttl = ttl
        self.entries = {}

    def get(self, key):
        value, stamp = self.entries.get(key, (None, 0.0))
        return value if time.monotonic() - stamp < self.ttl else None

    def put(self, key, value):
        self.entries[key] = (value, time.monotonic())

    def purge(self):
        self.entries.clear()
