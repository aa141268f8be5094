import os
import sys
import json


def alpha():
    value = 1
    return value


def gamma():
    value = 3
    return value


def delta():
    value = 4
    return value
