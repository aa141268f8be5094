; What crdtspace's conflict detector needs to know about Rust names.
; Read by crdtspace/symbols.py; the capture names are explained in ../python/symbols.scm.
; @import.tree is a use tree that symbols.py expands (`use a::{b, c::d as e, f::*}`).
; Macro invocations are not references; an impl block is the scope of its methods.

; ---- definitions and scopes ------------------------------------------------------------------

(function_item
  name: (identifier) @name
  parameters: (parameters) @signature
  return_type: (_)? @returns) @definition.function @scope.function
(function_signature_item
  name: (identifier) @name
  parameters: (parameters) @signature) @definition.function

(struct_item name: (type_identifier) @name) @definition.type
(enum_item name: (type_identifier) @name) @definition.type
(union_item name: (type_identifier) @name) @definition.type
(type_item name: (type_identifier) @name) @definition.type
(trait_item name: (type_identifier) @name) @definition.type @scope.class
(mod_item name: (identifier) @name) @definition.module
(source_file (const_item name: (identifier) @name) @definition.constant)
(source_file (static_item name: (identifier) @name) @definition.constant)
(macro_definition name: (identifier) @name) @definition.macro

(impl_item type: [(type_identifier) @name
                  (generic_type type: (type_identifier) @name)
                  (scoped_type_identifier name: (type_identifier) @name)]) @scope.class

(closure_expression) @scope.function

; ---- parameters ------------------------------------------------------------------------------

(parameters (parameter pattern: (_) @param.unnamed)) @params
(parameters (variadic_parameter) @param.rest) @params

; ---- bindings --------------------------------------------------------------------------------

(parameter pattern: (identifier) @local)
(parameter pattern: (_ (identifier) @local))
(closure_parameters (identifier) @local)
(closure_parameters (parameter pattern: (identifier) @local))
(let_declaration pattern: (identifier) @local)
(for_expression pattern: (identifier) @local)
(tuple_pattern (identifier) @local)
(tuple_struct_pattern (identifier) @local)
(slice_pattern (identifier) @local)
(field_pattern (identifier) @local)
(field_pattern (shorthand_field_identifier) @local)
(reference_pattern (identifier) @local)
(mut_pattern (identifier) @local)
(captured_pattern (identifier) @local)
(match_pattern (identifier) @local)
(let_condition pattern: (identifier) @local)
(or_pattern (identifier) @local)

; ---- types of receivers ----------------------------------------------------------------------

(parameter pattern: (identifier) @typed.name type: (_) @typed.type)
(parameter pattern: (mut_pattern (identifier) @typed.name) type: (_) @typed.type)
(let_declaration pattern: (identifier) @typed.name type: (_) @typed.type)
(let_declaration pattern: (mut_pattern (identifier) @typed.name) type: (_) @typed.type)
(let_declaration pattern: (identifier) @made.name value: (call_expression function: (_) @made.call))
(let_declaration pattern: (mut_pattern (identifier) @made.name) value: (call_expression function: (_) @made.call))
(let_declaration pattern: (identifier) @made.name value: (struct_expression name: (type_identifier) @made.class))
(let_declaration pattern: (mut_pattern (identifier) @made.name) value: (struct_expression name: (type_identifier) @made.class))
(struct_item name: (type_identifier) @field.owner
  body: (field_declaration_list (field_declaration name: (field_identifier) @field.name type: (_) @field.type)))
; A type implementing a trait gains the trait's provided methods.
(impl_item trait: (_) type: [(type_identifier) @type.open (generic_type type: (type_identifier) @type.open)])
(trait_item name: (type_identifier) @type.open)

; ---- references and calls --------------------------------------------------------------------

(identifier) @reference
(type_identifier) @reference
(macro_invocation macro: (identifier) @skip)
(macro_invocation macro: (scoped_identifier name: (identifier) @skip))
(scoped_identifier path: (_) @object name: (identifier) @member)
(field_expression value: (_) @object field: (field_identifier) @member)

(call_expression function: (identifier) @callee arguments: (arguments) @arguments) @call
(call_expression function: (scoped_identifier name: (identifier) @callee) arguments: (arguments) @arguments) @call
(call_expression function: (field_expression field: (field_identifier) @callee) arguments: (arguments) @arguments) @call
(arguments (_) @argument) @arguments

; ---- imports ---------------------------------------------------------------------------------

(use_declaration argument: (_) @import.tree) @import
(use_declaration (_ (identifier) @skip))
(use_declaration (_ (_ (identifier) @skip)))
(use_declaration (_ (_ (_ (identifier) @skip))))
(use_declaration (_ (_ (_ (_ (identifier) @skip)))))
(enum_variant name: (identifier) @skip)
(const_item name: (identifier) @local)
(static_item name: (identifier) @local)
