import os
import json


def alpha():
    value = 1
    return value


def delta():
    value = 4
    return value
