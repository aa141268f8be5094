"""`python -m crdtspace`: the command line."""

from crdtspace.cli import main

main()
