import os
import re
import sys


def main():
    print(os.getcwd())
    print(sys.argv, re.I)
