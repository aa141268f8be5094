; Which syntax nodes become keyed units, and how each is named.
;   @unit  the node that becomes a unit (its text, leading trivia included)
;   @name  its identity within its parent (several @name captures are joined with ".")
;   @kind  optional: the node whose type is the unit's kind (so a decorated function is still a
;          function_definition, and adding a decorator does not change its identity)
;   @body  optional: makes the unit a container; the named children of @body are its units
; Every other statement directly inside a container is an unnamed unit of its own type.

(function_definition name: (identifier) @name) @unit

(class_definition name: (identifier) @name body: (block) @body) @unit

(decorated_definition
  definition: (function_definition name: (identifier) @name) @kind) @unit

(decorated_definition
  definition: (class_definition name: (identifier) @name body: (block) @body) @kind) @unit

; Assignments are named after their target, so `X = 1` and `X = 2` are the same unit.
(expression_statement (assignment left: (identifier) @name)) @unit
(expression_statement (assignment left: (attribute) @name)) @unit
