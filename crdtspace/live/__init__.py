"""The live layer: replicas in other processes and editors feeding edits in from the side.

The websocket server that holds the home replica and checks every peer's update (`server`),
networked replicas that join it or any y-websocket server (`netreplica`), and a working tree kept
in step with the workspace both ways (`watch`).

May import: `crdtspace.errors`, the model, the conflict layer (materialized views, conflict
notices) and the git layer (the server runs the gate; watch renders to disk).
"""
