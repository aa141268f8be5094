; What crdtspace's conflict detector needs to know about Java names.
; Read by crdtspace/symbols.py; the capture names are explained in ../python/symbols.scm.
; The package's other classes and inherited members are visible without an import: a name
; this file does not bind is "unknown". Overloads are several definitions of one name.

; ---- definitions and scopes ------------------------------------------------------------------

(class_declaration name: (identifier) @name) @definition.class @scope.class
(interface_declaration name: (identifier) @name) @definition.type @scope.class
(enum_declaration name: (identifier) @name) @definition.class @scope.class
(record_declaration name: (identifier) @name) @definition.class @scope.class
(annotation_type_declaration name: (identifier) @name) @definition.type @scope.class
(class_declaration superclass: (superclass (_) @base)) @class
(class_declaration interfaces: (super_interfaces)) @class.open
(object_creation_expression (class_body) @scope.class @class.open)

(method_declaration
  type: (_) @returns
  name: (identifier) @name
  parameters: (formal_parameters) @signature) @definition.function @scope.function
(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @signature) @definition.constructor @scope.function
(compact_constructor_declaration name: (identifier) @name) @definition.constructor
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.variable
(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.constant

(lambda_expression) @scope.function

; ---- parameters ------------------------------------------------------------------------------

(formal_parameters (formal_parameter name: (identifier) @param.required)) @params
(formal_parameters (spread_parameter (variable_declarator name: (identifier) @param.rest))) @params

; ---- bindings --------------------------------------------------------------------------------

(local_variable_declaration declarator: (variable_declarator name: (identifier) @local))
(catch_formal_parameter name: (identifier) @local)
(enhanced_for_statement name: (identifier) @local)
(lambda_expression parameters: (identifier) @local)
(inferred_parameters (identifier) @local)
(resource name: (identifier) @local)
(instanceof_expression name: (identifier) @local)
(enum_constant name: (identifier) @local)
(record_pattern_component (identifier) @local)

(assignment_expression
  left: (field_access object: (this) @object field: (identifier) @attribute.store))

; ---- types of receivers ----------------------------------------------------------------------

(local_variable_declaration type: (_) @typed.type declarator: (variable_declarator name: (identifier) @typed.name))
(local_variable_declaration
  declarator: (variable_declarator name: (identifier) @made.name
    value: (object_creation_expression type: (type_identifier) @made.class)))
(local_variable_declaration
  declarator: (variable_declarator name: (identifier) @made.name value: (method_invocation) @made.call))
(formal_parameter type: (_) @typed.type name: (identifier) @typed.name)
(catch_formal_parameter (catch_type . (_) @typed.type .) name: (identifier) @typed.name)
(enhanced_for_statement type: (_) @typed.type name: (identifier) @typed.name)
(class_declaration name: (identifier) @field.owner
  body: (class_body (field_declaration type: (_) @field.type
    declarator: (variable_declarator name: (identifier) @field.name))))
; A class with a superclass inherits methods this file may not show.
(class_declaration name: (identifier) @type.open superclass: (superclass))
(interface_declaration name: (identifier) @type.open)

; ---- references and calls --------------------------------------------------------------------

(identifier) @reference
(type_identifier) @reference
(object_creation_expression type: (type_identifier) @reference)
(field_access object: (_) @object field: (identifier) @member)
(method_invocation object: (_) @object name: (identifier) @member)
(scoped_identifier (identifier) @skip)
(marker_annotation name: (identifier) @skip)
(annotation name: (identifier) @skip)
(element_value_pair key: (identifier) @skip)
(labeled_statement (identifier) @skip)
(break_statement (identifier) @skip)
(continue_statement (identifier) @skip)

(method_invocation name: (identifier) @callee arguments: (argument_list) @arguments) @call
(object_creation_expression type: (type_identifier) @callee arguments: (argument_list) @arguments) @call
(argument_list (_) @argument) @arguments

; ---- imports ---------------------------------------------------------------------------------

(import_declaration (scoped_identifier) @import.module .) @import
(import_declaration "static" (scoped_identifier scope: (_) @import.module name: (identifier) @import.name) .) @import
(import_declaration (scoped_identifier) @import.module (asterisk) @import.star) @import
