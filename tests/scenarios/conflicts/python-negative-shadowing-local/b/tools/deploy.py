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


def main(argv):
    verbose = "-v" in argv
    targets = [a for a in argv if not a.startswith("-")]
    for target in targets:
        if verbose:
            print("deploying", target)
        run(["rsync", "-a", "build/", target])
    return 0
