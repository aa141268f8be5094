; JSX names for crdtspace's conflict detector; TSX reads ../typescript/symbols.scm first.
; A lower-case tag is an HTML element, not a reference.
(jsx_opening_element name: (identifier) @skip (#match? @skip "^[a-z]"))
(jsx_self_closing_element name: (identifier) @skip (#match? @skip "^[a-z]"))
(jsx_closing_element name: (identifier) @skip)
