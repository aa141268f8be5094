"""Deploying the built site."""

import os
import subprocess
import sys

verbose = False


def log(message):
    if verbose:
        print(message, file=sys.stderr)


def run(command):
    log("running: " + " ".join(command))
    return subprocess.run(command, check=True)
