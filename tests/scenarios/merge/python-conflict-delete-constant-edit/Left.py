import logging

LOG = logging.getLogger(__name__)


def fetch(url):
    for attempt in range(3):
        LOG.debug("fetch %s (%d)", url, attempt)
