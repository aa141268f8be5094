"""A small HTTP client."""

import urllib.request

TIMEOUT_SECONDS = 10
USER_AGENT = "crawler/1.0"


def fetch(url):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.read()
