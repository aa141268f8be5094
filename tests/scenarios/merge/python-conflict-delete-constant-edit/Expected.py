import logging

LOG = logging.getLogger(__name__)
<<<<<<< left
||||||| base
RETRIES = 3
=======
RETRIES = 5
>>>>>>> right


def fetch(url):
    for attempt in range(3):
        LOG.debug("fetch %s (%d)", url, attempt)
