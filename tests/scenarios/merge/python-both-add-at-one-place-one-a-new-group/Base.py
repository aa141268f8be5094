import os

LIMIT = 10


def size(path):
    return os.path.getsize(path)
