"""A small HTTP client."""

import urllib.request

DEFAULT_TIMEOUT = 10
USER_AGENT = "crawler/1.0"


def fetch(url):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=DEFAULT_TIMEOUT) as response:
        return response.read()
