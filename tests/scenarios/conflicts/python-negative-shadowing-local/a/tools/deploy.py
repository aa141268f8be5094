"""Deploying the built site."""

import os
import subprocess
import sys

def log(message):
    if os.environ.get("DEPLOY_VERBOSE"):
        print(message, file=sys.stderr)


def run(command):
    log("running: " + " ".join(command))
    return subprocess.run(command, check=True)
