; Which syntax nodes become keyed units, and how each is named (Go).
;   @unit  the node that becomes a unit (its text, leading trivia included)
;   @name  its identity within its parent (several @name captures are joined with ".")
;   @kind  optional: the node whose type is the unit's kind
;   @body  optional: makes the unit a container; the named children of @body are its units
; Every other top-level declaration is an unnamed unit of its own type: the package clause,
; imports (`import "fmt"` and `import (...)` blocks alike).

(function_declaration name: (identifier) @name) @unit

; A method is named receiver type "." method name, without pointer or type parameters:
;   func (s *Server) Start()   ->  Server.Start
;   func (l List[T]) Len() int ->  List.Len
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @name
        (pointer_type (type_identifier) @name)
        (generic_type type: (type_identifier) @name)
        (pointer_type (generic_type type: (type_identifier) @name))
      ]))
  name: (field_identifier) @name) @unit

; A single declaration is a unit named after what it declares (the first name of
; `var x, y int`); a parenthesised group, `const ( ... )`, is an unnamed container whose
; specs are the units, each named after its first name.
((type_declaration [(type_spec name: (_) @name) (type_alias name: (_) @name)]) @unit
  (#not-match? @unit "^type\\s*\\("))
((type_declaration) @unit @body
  (#match? @unit "^type\\s*\\("))
(type_spec name: (_) @name) @unit
(type_alias name: (_) @name) @unit

((const_declaration (const_spec . name: (identifier) @name)) @unit
  (#not-match? @unit "^const\\s*\\("))
((const_declaration) @unit @body
  (#match? @unit "^const\\s*\\("))
(const_spec . name: (identifier) @name) @unit

(var_declaration (var_spec . name: (identifier) @name)) @unit
(var_declaration (var_spec_list) @body) @unit
(var_spec . name: (identifier) @name) @unit
