"""Retrying flaky network calls."""

import time


def retry(func, retries=3, delay=0.5):
    for attempt in range(retries):
        try:
            return func()
        except OSError:
            if attempt == retries - 1:
                raise
            time.sleep(delay)
    return None
