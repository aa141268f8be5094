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
            logger.debug("drained %d items", len(items))
            return items


def worker_count():
    return max(1, (os.cpu_count() or 2) - 1)
