; What crdtspace's conflict detector needs to know about Go names.
; Read by crdtspace/symbols.py; the capture names are explained in ../python/symbols.scm.
; Functions of the package's other files are visible without an import: a name this file does
; not bind is "unknown", and the detector looks across the directory.

; ---- definitions and scopes ------------------------------------------------------------------

(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @signature
  result: (_)? @returns) @definition.function @scope.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @receiver
             (pointer_type (type_identifier) @receiver)
             (generic_type type: (type_identifier) @receiver)
             (pointer_type (generic_type type: (type_identifier) @receiver))]))
  name: (field_identifier) @name
  parameters: (parameter_list) @signature
  result: (_)? @returns) @definition.method @scope.function

(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.variable))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name) @definition.variable)))

(func_literal) @scope.function

; ---- parameters ------------------------------------------------------------------------------

(parameter_list (parameter_declaration name: (identifier) @param.required)) @params
(parameter_list (parameter_declaration !name type: (_) @param.unnamed)) @params
(parameter_list (variadic_parameter_declaration) @param.rest) @params

; ---- bindings --------------------------------------------------------------------------------

(variadic_parameter_declaration name: (identifier) @local)
(short_var_declaration left: (expression_list (identifier) @local))
(var_spec name: (identifier) @local)
(const_spec name: (identifier) @local)
(range_clause left: (expression_list (identifier) @local))
(type_switch_statement alias: (expression_list (identifier) @local))
(receive_statement left: (expression_list (identifier) @local))

; ---- types of receivers ----------------------------------------------------------------------

(parameter_declaration name: (identifier) @typed.name type: (_) @typed.type)
(var_spec name: (identifier) @typed.name type: (_) @typed.type)
(short_var_declaration
  left: (expression_list . (identifier) @made.name)
  right: (expression_list . [(composite_literal type: (type_identifier) @made.class)
                             (unary_expression operand: (composite_literal type: (type_identifier) @made.class))]))
(short_var_declaration
  left: (expression_list . (identifier) @made.name)
  right: (expression_list . (call_expression function: (_) @made.call)))
(type_spec name: (type_identifier) @field.owner
  type: (struct_type (field_declaration_list
    (field_declaration name: (field_identifier) @field.name type: (_) @field.type))))
; A struct embedding another type gains its methods.
(type_spec name: (type_identifier) @type.open
  type: (struct_type (field_declaration_list (field_declaration !name))))
(type_spec name: (type_identifier) @type.open type: (interface_type))

; ---- references and calls --------------------------------------------------------------------

(identifier) @reference
(selector_expression operand: (_) @object field: (field_identifier) @member)
(keyed_element key: (literal_element (identifier) @skip))

(call_expression function: (identifier) @callee arguments: (argument_list) @arguments) @call
(call_expression function: (selector_expression field: (field_identifier) @callee) arguments: (argument_list) @arguments) @call
(argument_list (_) @argument) @arguments
(argument_list (variadic_argument) @argument.splat) @arguments

; ---- imports ---------------------------------------------------------------------------------

(import_spec !name path: (_ (interpreted_string_literal_content) @import.module)) @import
(import_spec name: [(package_identifier) (blank_identifier)] @import.alias path: (_ (interpreted_string_literal_content) @import.module)) @import
(import_spec name: (dot) @import.star path: (_ (interpreted_string_literal_content) @import.module)) @import
