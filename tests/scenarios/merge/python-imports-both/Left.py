import os
import sys


def alpha():
    value = 1
    return value
