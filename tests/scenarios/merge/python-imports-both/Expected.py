import os
import sys
import json


def alpha():
    value = 1
    return value
