"""The model: the shared document and one replica's edits of it.

Files are trees of syntax units (tree-sitter, `languages` and `segment`) kept in one pycrdt
document (`document`, `layout`; its edit log entries `logentry`, node creation `nodebuild`),
imported from a commit (`importing`), edited through a replica (`replica`: a chain of parts,
`core`, `reads`, `bases`, `nodeedits`, `recorded`, `sessions`) that re-keys changed text into
units (`rekey`, `rekeyfile`, `textmap`, `splicing`), logs every edit with
what it saw (`history`; identical concurrent changes counted once by `folding`), checks paths
(`paths`), names versions (`versions`), persists its updates (`storage`, read
back by `logscan`) and shows concurrent line edits of one unit with markers (`materialize`).
In-memory replicas exchange updates through `links`.

May import: `crdtspace.errors` and this layer only. Nothing here knows about conflict kinds,
git, the network or agents.
"""
