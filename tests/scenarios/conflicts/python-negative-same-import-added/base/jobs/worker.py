"""Background workers."""

import os
import queue


def drain(q):
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def worker_count():
    return max(1, (os.cpu_count() or 2) - 1)
