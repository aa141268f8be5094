"""Background workers."""

import logging
import os
import queue

logger = logging.getLogger(__name__)


def drain(q):
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def worker_count():
    count = max(1, (os.cpu_count() or 2) - 1)
    logger.info("using %d workers", count)
    return count
