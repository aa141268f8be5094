"""The file git runs as the merge driver: the client (`mergeclient`, beside it), from its bytecode.

``python -I -S .../drivercommand.py %O %A %B %P %L`` (`crdtspace.git.mergedriver.driver_command`).
Python compiles the file it is given to run at every start (the client's 500 lines took about
3 ms); a module it imports is read from its cached bytecode. The process ends with
``os._exit``, skipping the interpreter's teardown (1-2 ms): the client writes with ``os.write``
only, so nothing is left to flush.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
client = __import__("mergeclient")  # (as a top-level module: the package is not imported)
os._exit(client.main(sys.argv[1:]))
