import os
import sys
import json


def main():
    print(os.getcwd())
    print(sys.argv)
