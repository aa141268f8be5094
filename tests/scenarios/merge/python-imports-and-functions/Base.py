import os


def alpha():
    value = 1
    return value
