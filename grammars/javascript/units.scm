; Which syntax nodes become keyed units, and how each is named (JavaScript, JSX).
;   @unit  the node that becomes a unit (its text, leading trivia included)
;   @name  its identity within its parent (several @name captures are joined with ".")
;   @kind  optional: the node whose type is the unit's kind (so `export function f` is still a
;          function_declaration named f, and adding or removing `export` keeps its identity)
;   @body  optional: makes the unit a container; the named children of @body are its units
; Every other statement directly inside a container is an unnamed unit of its own type
; (imports, `export { a, b }`, expression statements, a `#!` line...).
; Decorators are part of the class, method or field they decorate (the grammar puts them inside).

; -- declarations, bare ------------------------------------------------------------------
(function_declaration name: (identifier) @name) @unit
(generator_function_declaration name: (identifier) @name) @unit
(class_declaration name: (identifier) @name body: (class_body) @body) @unit

; `const f = () => ...`, `let x = 1, y = 2` and `var v` are named after their first declarator
; (a destructuring first declarator, `const {a, b} = o`, leaves the unit unnamed).
(lexical_declaration . (variable_declarator name: (identifier) @name)) @unit
(variable_declaration . (variable_declarator name: (identifier) @name)) @unit

; -- the same declarations behind `export` / `export default` ---------------------------
(export_statement
  declaration: [
    (function_declaration name: (identifier) @name)
    (generator_function_declaration name: (identifier) @name)
    (class_declaration name: (identifier) @name body: (class_body) @body)
    (lexical_declaration . (variable_declarator name: (identifier) @name))
    (variable_declaration . (variable_declarator name: (identifier) @name))
  ] @kind) @unit

; -- class members ------------------------------------------------------------------------
; Methods are named after their property name (`m`, `#m`, `"m"`, `[Symbol.iterator]`); an
; accessor's name starts with its keyword so a getter and its setter are two units: `get.x`,
; `set.x`.
(method_definition ["get" "set"]? @name . name: (_) @name) @unit
(field_definition property: (_) @name) @unit

; -- CommonJS and prototype assignments: named after their target, like Python's `X = 1` ---
;   module.exports.parse = ...   Foo.prototype.bar = function () {...}   exports.x = 1
(expression_statement (assignment_expression left: [(identifier) (member_expression)] @name)) @unit
