import logging

LOG = logging.getLogger(__name__)
RETRIES = 5


def fetch(url):
    for attempt in range(RETRIES):
        LOG.debug("fetch %s (%d)", url, attempt)
