import os
import sys
import re


def main():
    print(re.escape(os.getcwd()))
    print(sys.argv)
