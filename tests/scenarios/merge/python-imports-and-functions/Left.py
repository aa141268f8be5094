import os
import sys


def alpha():
    value = 1
    return value


def gamma():
    value = 3
    return value
