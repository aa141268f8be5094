; What crdtspace's conflict detector needs to know about JavaScript names.
; Read by crdtspace/symbols.py; the capture names are explained in ../python/symbols.scm.

; ---- definitions and scopes ------------------------------------------------------------------

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @signature) @definition.function @scope.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @signature) @definition.function @scope.function

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function parameters: (formal_parameters) @signature)
          (function_expression parameters: (formal_parameters) @signature)] @scope.function) @definition.function

(variable_declarator
  name: (identifier) @name
  value: (arrow_function parameter: (identifier) @param.required) @scope.function @params) @definition.function

(class_declaration name: (identifier) @name) @definition.class @scope.class
(class_declaration (class_heritage (_) @base)) @class

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name
  parameters: (formal_parameters) @signature) @definition.method @scope.function

(field_definition property: [(property_identifier) (private_property_identifier)] @name) @definition.variable

(program (lexical_declaration (variable_declarator name: (identifier) @name)) @definition.variable)
(program (variable_declaration (variable_declarator name: (identifier) @name)) @definition.variable)
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @definition.variable))
(program (export_statement declaration: (variable_declaration (variable_declarator name: (identifier) @name)) @definition.variable))

(function_expression) @scope.function
(arrow_function) @scope.function
(class) @scope.class

; ---- parameters ------------------------------------------------------------------------------

(formal_parameters (identifier) @param.required) @params
(formal_parameters [(object_pattern) (array_pattern)] @param.unnamed) @params
(formal_parameters (assignment_pattern left: (_) @param.optional)) @params
(formal_parameters (rest_pattern (_) @param.rest)) @params
(arrow_function parameter: (identifier) @local)

; ---- bindings --------------------------------------------------------------------------------

(variable_declarator name: (identifier) @local)
(object_pattern (shorthand_property_identifier_pattern) @local)
(pair_pattern value: (identifier) @local)
(array_pattern (identifier) @local)
(rest_pattern (identifier) @local)
(assignment_pattern left: (identifier) @local)
(object_assignment_pattern left: (shorthand_property_identifier_pattern) @local)
(catch_clause parameter: (identifier) @local)
(for_in_statement left: (identifier) @local)
(function_expression name: (identifier) @local)
(class name: (identifier) @local)

(assignment_expression
  left: (member_expression object: (this) @object property: [(property_identifier) (private_property_identifier)] @attribute.store))

; ---- references and calls --------------------------------------------------------------------

(identifier) @reference
(member_expression object: (_) @object property: [(property_identifier) (private_property_identifier)] @member)
(jsx_opening_element name: (identifier) @skip (#match? @skip "^[a-z]"))
(jsx_self_closing_element name: (identifier) @skip (#match? @skip "^[a-z]"))
(jsx_closing_element name: (identifier) @skip)

(call_expression function: (identifier) @callee arguments: (arguments) @arguments) @call
(call_expression function: (member_expression property: [(property_identifier) (private_property_identifier)] @callee) arguments: (arguments) @arguments) @call
(new_expression constructor: (identifier) @callee arguments: (arguments) @arguments) @call
(arguments (_) @argument) @arguments
(arguments (spread_element) @argument.splat) @arguments

; ---- imports ---------------------------------------------------------------------------------

(import_statement (import_clause (identifier) @import.alias) source: (string (string_fragment) @import.module) (#set! import.name "default")) @import
(import_statement (import_clause (named_imports (import_specifier name: (_) @import.name alias: (identifier) @import.alias))) source: (string (string_fragment) @import.module)) @import
(import_statement (import_clause (named_imports (import_specifier !alias name: (identifier) @import.name))) source: (string (string_fragment) @import.module)) @import
(import_statement (import_clause (namespace_import (identifier) @import.alias)) source: (string (string_fragment) @import.module)) @import
(variable_declarator
  name: (identifier) @import.alias
  value: (call_expression function: (identifier) @_require arguments: (arguments . (string (string_fragment) @import.module) .))
  (#eq? @_require "require")) @import
(import_specifier (_) @skip)
(import_clause (identifier) @skip)
(namespace_import (identifier) @skip)

; ---- `var self = this`: self.x() is this.x() --------------------------------------------------

(variable_declarator name: (identifier) @made.name value: (this) @made.class)
