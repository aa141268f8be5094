import os

LIMIT = 10
STEP = 2


def exists(path):
    return os.path.exists(path)


def size(path):
    return os.path.getsize(path)


def left_end():
    return 1


def right_end():
    return 2
