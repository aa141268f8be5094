"""Synchronising with the remote store."""

from net.retry import retry


def pull(client):
    return retry(client.pull, retries=5)


def push(client):
    return retry(client.push, retries=2, delay=1.0)
