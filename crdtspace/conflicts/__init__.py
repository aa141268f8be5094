"""The conflict layer: merges that are syntactically fine but semantically incompatible.

Conflict values and the node-level findings (`findings`: overlapping edits, additions twice,
edits under a deleted unit), what each language defines and uses (`symbols`, `modulepaths`,
`semantics`), the incremental analysis of a document (`analysis`) and resolutions as edits every
replica sees (`resolution`).

May import: `crdtspace.errors`, the model, and this layer.
"""
