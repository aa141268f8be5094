"""Synchronising with the remote store."""

from net.retry import retry


def pull(client):
    return retry(client.pull, retries=5)
