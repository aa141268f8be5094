"""Release helpers."""

import os
import sys

<<<<<<< left
__version__ = '0.13-dev'
||||||| base
__version__ = '0.12.2-dev'
=======
__version__ = '0.12.3-dev'
>>>>>>> right


def release_name():
    return f"pkg-{__version__}"


def build_dir():
    return os.path.join(sys.prefix, "dist")
