"""The conflict layer: merges that are syntactically fine but semantically incompatible.

Conflict values and the node-level findings (`findings`: overlapping edits, additions twice,
edits under a deleted unit), what each language defines and uses (`symbols`, built from the
query run of `symbolquery` into the values of `symboltable`; `modulepaths`), the semantic checks
(`semantics`, reading the files through `documentsymbols`), the incremental analysis of a
document (`analysis`) and resolutions as edits every replica sees (`resolution`).

May import: `crdtspace.errors`, the model, and this layer.
"""
