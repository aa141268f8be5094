; Which syntax nodes become keyed units, and how each is named (TypeScript; TSX shares it).
;   @unit  the node that becomes a unit (its text, leading trivia included)
;   @name  its identity within its parent (several @name captures are joined with ".")
;   @kind  optional: the node whose type is the unit's kind (so `export function f`,
;          `declare function f` and `export declare function f` are all a function_declaration
;          or function_signature named f: adding or removing `export`/`declare` keeps identity)
;   @body  optional: makes the unit a container; the named children of @body are its units
; Every other statement directly inside a container is an unnamed unit of its own type
; (imports, `export { a }`, `export = x`, expression statements, index signatures...).
; Decorators and comments before a unit are trivia (see profile.toml): they belong to it.
;
; Containers: classes and abstract classes (class_body), interfaces (interface_body),
; namespaces and modules (`namespace N {}`, `module M {}`, `declare module "m" {}`) and
; `declare global {}` (named "global"). Enums and type aliases are single units.
; Variables are named after their first declarator (`const f = () => ...` is f; a
; destructuring first declarator leaves the unit unnamed). A module named by a string keeps
; its quotes: `declare module "fs"` is named "fs" with the quotes, `namespace A.B` is "A.B".
;
; The declarations are listed once per wrapper (none, export, declare, export declare):
; queries have no macros, so the five lists below must be kept the same.

; -- bare declarations --------------------------------------------------------------------
[
  (function_declaration name: (identifier) @name)
  (generator_function_declaration name: (identifier) @name)
  (function_signature name: (identifier) @name)
  (class_declaration name: (type_identifier) @name body: (class_body) @body)
  (abstract_class_declaration name: (type_identifier) @name body: (class_body) @body)
  (interface_declaration name: (type_identifier) @name body: (interface_body) @body)
  (type_alias_declaration name: (type_identifier) @name)
  (enum_declaration name: (identifier) @name)
  (lexical_declaration . (variable_declarator name: (identifier) @name))
  (variable_declaration . (variable_declarator name: (identifier) @name))
  (internal_module name: (_) @name body: (statement_block)? @body)
  (module name: (_) @name body: (statement_block)? @body)
] @unit

; `namespace N {}` is a statement that holds an expression in this grammar
(expression_statement
  [
    (internal_module name: (_) @name body: (statement_block)? @body)
    (module name: (_) @name body: (statement_block)? @body)
  ] @kind) @unit

; -- export ... ---------------------------------------------------------------------------
(export_statement
  declaration: [
    (function_declaration name: (identifier) @name)
    (generator_function_declaration name: (identifier) @name)
    (function_signature name: (identifier) @name)
    (class_declaration name: (type_identifier) @name body: (class_body) @body)
    (abstract_class_declaration name: (type_identifier) @name body: (class_body) @body)
    (interface_declaration name: (type_identifier) @name body: (interface_body) @body)
    (type_alias_declaration name: (type_identifier) @name)
    (enum_declaration name: (identifier) @name)
    (lexical_declaration . (variable_declarator name: (identifier) @name))
    (variable_declaration . (variable_declarator name: (identifier) @name))
    (internal_module name: (_) @name body: (statement_block)? @body)
    (module name: (_) @name body: (statement_block)? @body)
  ] @kind) @unit

; -- declare ... --------------------------------------------------------------------------
(ambient_declaration
  [
    (function_declaration name: (identifier) @name)
    (generator_function_declaration name: (identifier) @name)
    (function_signature name: (identifier) @name)
    (class_declaration name: (type_identifier) @name body: (class_body) @body)
    (abstract_class_declaration name: (type_identifier) @name body: (class_body) @body)
    (interface_declaration name: (type_identifier) @name body: (interface_body) @body)
    (type_alias_declaration name: (type_identifier) @name)
    (enum_declaration name: (identifier) @name)
    (lexical_declaration . (variable_declarator name: (identifier) @name))
    (variable_declaration . (variable_declarator name: (identifier) @name))
    (internal_module name: (_) @name body: (statement_block)? @body)
    (module name: (_) @name body: (statement_block)? @body)
  ] @kind) @unit

; -- export declare ... -------------------------------------------------------------------
(export_statement
  declaration: (ambient_declaration
    [
      (function_declaration name: (identifier) @name)
      (generator_function_declaration name: (identifier) @name)
      (function_signature name: (identifier) @name)
      (class_declaration name: (type_identifier) @name body: (class_body) @body)
      (abstract_class_declaration name: (type_identifier) @name body: (class_body) @body)
      (interface_declaration name: (type_identifier) @name body: (interface_body) @body)
      (type_alias_declaration name: (type_identifier) @name)
      (enum_declaration name: (identifier) @name)
      (lexical_declaration . (variable_declarator name: (identifier) @name))
      (variable_declaration . (variable_declarator name: (identifier) @name))
      (internal_module name: (_) @name body: (statement_block)? @body)
      (module name: (_) @name body: (statement_block)? @body)
    ] @kind)) @unit

; `declare global { ... }`: a container named "global"
(ambient_declaration "global" @name (statement_block) @body) @unit

; -- class and interface members ----------------------------------------------------------
; Named after their property name (`m`, `#m`, `"m"`, `[Symbol.iterator]`); an accessor's name
; starts with its keyword so a getter and its setter are two units: `get.x`, `set.x`.
(method_definition ["get" "set"]? @name . name: (_) @name) @unit
(method_signature ["get" "set"]? @name . name: (_) @name) @unit
(abstract_method_signature ["get" "set"]? @name . name: (_) @name) @unit
(public_field_definition name: (_) @name) @unit
(property_signature name: (_) @name) @unit

; -- CommonJS and prototype assignments: named after their target, like Python's `X = 1` ---
(expression_statement (assignment_expression left: [(identifier) (member_expression)] @name)) @unit
