import os
import sys
import re


def main():
    print(os.getcwd())
    print(sys.argv)
