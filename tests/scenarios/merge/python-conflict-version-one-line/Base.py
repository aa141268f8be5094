"""Release helpers."""

import os
import sys

__version__ = '0.12.2-dev'


def release_name():
    return f"pkg-{__version__}"


def build_dir():
    return os.path.join(sys.prefix, "build")
