import os
import sys
import re
import json


def main():
    print(os.getcwd())
    print(sys.argv)
