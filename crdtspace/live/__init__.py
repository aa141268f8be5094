"""The live layer: replicas in other processes and editors feeding edits in from the side.

The websocket server that holds the home replica and checks every peer's update (`server`; the
home replica, its checks and its committer in `home`, the peer message format in `protocol`,
the token and the status endpoint as a client reaches them in `access`), the workspace service:
announced, found, started on demand (`service`), networked replicas that join it or any
y-websocket server (`netreplica`; its websocket, sync and reconnection in `connection`), and a
working tree kept in step with the workspace both ways (`watch`; what it keeps of each path and
reads of both sides in `watchstate`, files on disk and its events in `disk`).

May import: `crdtspace.errors`, the model, the conflict layer (materialized views, conflict
notices) and the git layer (the server runs the gate; watch renders to disk). Like the git
layer, it works on a `Replica`; `Workspace.connect` makes networked replicas that are also
`Workspace`s.
"""
