import os

LIMIT = 10
STEP = 2


def size(path):
    return os.path.getsize(path)


def right_end():
    return 2
