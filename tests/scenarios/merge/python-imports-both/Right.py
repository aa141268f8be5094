import os
import json


def alpha():
    value = 1
    return value
