"""One crdtspace networked replica in a process of its own, for `benchmarks/sync.py --compare
--processes` (the same line protocol as `benchmarks/yjs_client.mjs`):

    python benchmarks/sync_replica.py URL TOKEN AGENT

It connects (`Workspace.connect`), finds notes.txt's node and prints ``READY``. Then ``edit I``
on stdin appends the token ``<I>`` to the node (`replace`, as an agent edits) and prints
``start I T``, T the time just before the edit; and whenever a change to its text inserts the
next token ``<I>`` (0, 1, ...), it prints ``got I T``, T when its observer saw it (inside the
merge; yrs's own event, its delta read, as `sync.Arrivals` does).
Times are `time.perf_counter()`, CLOCK_MONOTONIC on Linux as Node's `process.hrtime` is. It
leaves at the end of its input.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from _common import ROOT  # noqa: F401  # (puts the checkout on sys.path)
from sync import inserts

from crdtspace import Workspace
from crdtspace.live.netreplica import NetworkReplica


def main() -> None:
    url, token, agent = sys.argv[1:4]
    replica = Workspace.connect(url, token, agent=agent, timeout=30)
    assert isinstance(replica, NetworkReplica)
    watching: list[Any] = []  # (an observer lives as long as its subscription)
    try:
        expected = [0]

        def seen(event: Any) -> None:  # (yrs's own event: see sync.Arrivals)
            now = time.perf_counter()
            while inserts(event, f"<{expected[0]}>"):
                print(f"got {expected[0]} {now!r}", flush=True)
                expected[0] += 1

        with replica.lock:
            nid = replica.document.roots("notes.txt")[0]
            node_text = replica.document.node(nid)["text"]
            text = str(node_text)
            watching += [node_text, node_text.integrated.observe(seen)]
        print("READY", flush=True)
        for line in sys.stdin:
            command, number = line.split()
            if command == "edit":
                text += f"<{number}>"
                expected[0] = int(number) + 1  # (its own: not reported)
                start = time.perf_counter()
                replica.replace(nid, text)
                print(f"start {number} {start!r}", flush=True)
    finally:
        watching.clear()
        replica.close()


if __name__ == "__main__":
    main()
