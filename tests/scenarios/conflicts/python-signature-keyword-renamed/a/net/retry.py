"""Retrying flaky network calls."""

import time


def retry(func, attempts=3, delay=0.5):
    for attempt in range(attempts):
        try:
            return func()
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
    return None
