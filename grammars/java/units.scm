; Which syntax nodes become keyed units, and how each is named (Java).
;   @unit  the node that becomes a unit (its text, leading trivia included)
;   @name  its identity within its parent (several @name captures are joined with ".")
;   @kind  optional: the node whose type is the unit's kind
;   @body  optional: makes the unit a container; the named children of @body are its units
; Every other member directly inside a container is an unnamed unit of its own type:
; the package declaration, imports, static and instance initializer blocks.
; Annotations are part of the declaration they annotate (the grammar puts them inside).
; Overloaded methods and constructors share their name: several units of one kind and name.

; -- types: containers of their members ----------------------------------------------------
(class_declaration name: (identifier) @name body: (class_body) @body) @unit
(interface_declaration name: (identifier) @name body: (interface_body) @body) @unit
(record_declaration name: (identifier) @name body: (class_body) @body) @unit
(annotation_type_declaration name: (identifier) @name body: (annotation_type_body) @body) @unit

; An enum's constants are in its head; the members after `;` are its units. An enum with
; constants only is a single unit.
(enum_declaration name: (identifier) @name body: (enum_body (enum_body_declarations)? @body)) @unit

; -- members --------------------------------------------------------------------------------
(method_declaration name: (identifier) @name) @unit
(constructor_declaration name: (identifier) @name) @unit
(compact_constructor_declaration name: (identifier) @name) @unit
(annotation_type_element_declaration name: (identifier) @name) @unit

; Fields and interface constants are named after their first declarator: `int x = 1, y;` is x.
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @unit
(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @unit
