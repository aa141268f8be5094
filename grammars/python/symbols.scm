; What crdtspace's conflict detector needs to know about Python names. Read by crdtspace/symbols.py.
;
; Definitions
;   (#set! import.module "m") gives an import's module where no node holds it
;   @definition.<kind>  the whole definition (function, class, variable, ...); @name its name
;   @scope.<kind>       a node that opens a scope (function, class, comprehension); named after
;                       the @name of the same match, else "<node type>"
;   @signature          the parameter list of the definition in the same match
;   @static             a function whose first parameter is not the receiver
;   @base with @class   a base expression of the class
;   @class.open         a class whose members cannot all be known (decorated, metaclass)
; Parameters (grouped by @params, their list node)
;   @param.required  @param.optional  @param.rest (*args)  @param.kwrest (**kw)
;   @param.keyword_marker (a bare `*`)  @param.positional_marker (`/`)
; Names
;   @reference      an identifier that may be a load; @skip one that is not
;   @local          a name bound in its scope (not a load); @local.bind bound and also a load
;   @global / @nonlocal   names declared so in a function
;   @member with @object: `object.member`; @attribute.store with @object: `object.member = ...`
;   @outer          evaluated in the scope around the one it sits in (annotations, defaults)
; Receivers: @made.name bound by a call of @made.class (`cart = Cart()`): calls through the name
;   are looked up in that class when every binding of the name in its scope is such a call
; Calls: @call with @callee; arguments grouped by @arguments: @argument, @argument.keyword
;   (the keyword's name, inside a non-positional @argument.named), @argument.splat
; Imports: @import with @import.module, @import.name, @import.alias, @import.star

; ---- definitions and scopes ------------------------------------------------------------------

(function_definition
  name: (identifier) @name
  parameters: (parameters) @signature) @definition.function @scope.function

(decorated_definition
  definition: (function_definition name: (identifier) @name parameters: (parameters) @signature)) @definition.function

(decorated_definition
  (decorator (identifier) @_static (#eq? @_static "staticmethod"))
  definition: (function_definition) @static)

(class_definition name: (identifier) @name) @definition.class @scope.class

(decorated_definition definition: (class_definition name: (identifier) @name)) @definition.class

; A decorated class may gain members the decorator adds.
(decorated_definition definition: (class_definition) @class.open)

(class_definition superclasses: (argument_list (_) @base)) @class
(class_definition superclasses: (argument_list (keyword_argument))) @class.open
(class_definition superclasses: (argument_list) @outer)

(expression_statement (assignment left: (identifier) @name) @definition.variable)
(expression_statement (assignment left: (pattern_list (identifier) @name)) @definition.variable)
(expression_statement (assignment left: (tuple_pattern (identifier) @name)) @definition.variable)
(expression_statement (assignment right: (assignment left: (identifier) @name)) @definition.variable)
(type_alias_statement left: (type (identifier) @name)) @definition.type

(lambda) @scope.function
(list_comprehension) @scope.comprehension
(set_comprehension) @scope.comprehension
(dictionary_comprehension) @scope.comprehension
(generator_expression) @scope.comprehension

; The first iterable of a comprehension is evaluated outside it.
(list_comprehension body: (_) . (for_in_clause right: (_) @outer))
(set_comprehension body: (_) . (for_in_clause right: (_) @outer))
(dictionary_comprehension body: (_) . (for_in_clause right: (_) @outer))
(generator_expression body: (_) . (for_in_clause right: (_) @outer))

; ---- parameters ------------------------------------------------------------------------------

(parameters (identifier) @param.required) @params
(parameters (typed_parameter . (identifier) @param.required)) @params
(parameters (default_parameter name: (identifier) @param.optional)) @params
(parameters (typed_default_parameter name: (identifier) @param.optional)) @params
(parameters (list_splat_pattern (identifier) @param.rest)) @params
(parameters (typed_parameter (list_splat_pattern (identifier) @param.rest))) @params
(parameters (dictionary_splat_pattern (identifier) @param.kwrest)) @params
(parameters (typed_parameter (dictionary_splat_pattern (identifier) @param.kwrest))) @params
(parameters (keyword_separator) @param.keyword_marker) @params
(parameters (positional_separator) @param.positional_marker) @params

(lambda_parameters (identifier) @local)
(lambda_parameters (default_parameter name: (identifier) @local))
(lambda_parameters (list_splat_pattern (identifier) @local))
(lambda_parameters (dictionary_splat_pattern (identifier) @local))

; Annotations and defaults are evaluated where the function is defined.
(typed_parameter type: (_) @outer)
(typed_default_parameter type: (_) @outer)
(default_parameter value: (_) @outer)
(typed_default_parameter value: (_) @outer)
(function_definition return_type: (_) @outer)
(type_parameter (type (identifier) @local))

; ---- bindings --------------------------------------------------------------------------------

(assignment left: (identifier) @local)
(assignment left: (identifier) @made.name right: (call function: (identifier) @made.class))
(assignment left: (pattern_list (identifier) @local))
(assignment left: (tuple_pattern (identifier) @local))
(assignment left: (list_pattern (identifier) @local))
(pattern_list (list_splat_pattern (identifier) @local))
(tuple_pattern (identifier) @local)
(tuple_pattern (list_splat_pattern (identifier) @local))
(list_pattern (identifier) @local)
(list_pattern (list_splat_pattern (identifier) @local))
(pattern_list (identifier) @local)
(augmented_assignment left: (identifier) @local.bind)
(named_expression name: (identifier) @local)
(for_statement left: (identifier) @local)
(for_in_clause left: (identifier) @local)
(as_pattern_target (identifier) @local)
(as_pattern_target (_ (identifier) @local))
(as_pattern_target (_ (list_splat_pattern (identifier) @local)))
(as_pattern_target (_ (list_splat (identifier) @local)))
(case_pattern (dotted_name . (identifier) @local .))
(splat_pattern (identifier) @local)
(keyword_pattern . (identifier) @skip)
(keyword_pattern (dotted_name . (identifier) @local .))
(class_pattern (dotted_name (identifier) @skip))
(global_statement (identifier) @global)
(nonlocal_statement (identifier) @nonlocal)

(assignment left: (attribute object: (identifier) @object attribute: (identifier) @attribute.store))
(assignment left: (pattern_list (attribute object: (identifier) @object attribute: (identifier) @attribute.store)))
(assignment left: (tuple_pattern (attribute object: (identifier) @object attribute: (identifier) @attribute.store)))
(augmented_assignment left: (attribute object: (identifier) @object attribute: (identifier) @attribute.bind))

; ---- references and calls --------------------------------------------------------------------

(identifier) @reference
(attribute object: (_) @object attribute: (identifier) @member)
(keyword_argument name: (identifier) @skip)

(call function: (identifier) @callee arguments: (argument_list) @arguments) @call
(call function: (attribute attribute: (identifier) @callee) arguments: (argument_list) @arguments) @call
(call function: (identifier) @callee arguments: (generator_expression) @argument) @call
(call function: (attribute attribute: (identifier) @callee) arguments: (generator_expression) @argument) @call
(argument_list (_) @argument) @arguments
(argument_list (keyword_argument name: (identifier) @argument.keyword) @argument.named) @arguments
(argument_list (list_splat) @argument.splat) @arguments
(argument_list (dictionary_splat) @argument.splat) @arguments

; ---- imports ---------------------------------------------------------------------------------

(import_statement name: (dotted_name) @import.module) @import
(import_statement name: (aliased_import name: (dotted_name) @import.module alias: (identifier) @import.alias)) @import
(import_from_statement module_name: (_) @import.module name: (dotted_name) @import.name) @import
(import_from_statement module_name: (_) @import.module name: (aliased_import name: (dotted_name) @import.name alias: (identifier) @import.alias)) @import
(import_from_statement module_name: (_) @import.module (wildcard_import) @import.star) @import
(future_import_statement name: (dotted_name) @import.name (#set! import.module "__future__")) @import
(future_import_statement
  name: (aliased_import name: (dotted_name) @import.name alias: (identifier) @import.alias)
  (#set! import.module "__future__")) @import
(dotted_name (identifier) @skip)
(aliased_import alias: (identifier) @skip)
