; Which syntax nodes become keyed units, and how each is named (Rust).
;   @unit  the node that becomes a unit (its text, leading trivia included)
;   @name  its identity within its parent (several @name captures are joined with ".")
;   @kind  optional: the node whose type is the unit's kind
;   @body  optional: makes the unit a container; the named children of @body are its units
; Every other item directly inside a container is an unnamed unit of its own type:
; `use` declarations, inner attributes, macro invocations such as `lazy_static! {...}`.
; Containers: `mod m { ... }`, traits, impl blocks and `extern "C" { ... }` blocks.
; Structs, enums and unions are single units.

(function_item name: (identifier) @name) @unit
(function_signature_item name: (identifier) @name) @unit
(struct_item name: (type_identifier) @name) @unit
(enum_item name: (type_identifier) @name) @unit
(union_item name: (type_identifier) @name) @unit
(type_item name: (type_identifier) @name) @unit
(associated_type name: (type_identifier) @name) @unit
(const_item name: (identifier) @name) @unit
(static_item name: (identifier) @name) @unit
(macro_definition name: (identifier) @name) @unit
(extern_crate_declaration name: (identifier) @name) @unit

; `mod m;` is a leaf, `mod m { ... }` a container; both are named m.
(mod_item name: (identifier) @name body: (declaration_list)? @body) @unit

(trait_item name: (type_identifier) @name body: (declaration_list) @body) @unit

; An impl block is named after the source text of its type, and a trait impl after its trait,
; the keyword `for` and its type (names are joined with "."), generic arguments included so
; that `impl From<u8> for X` and `impl From<u16> for X` are two units:
;   impl Point                          ->  Point
;   impl<T> Stack<T>                    ->  Stack<T>
;   impl fmt::Display for Point         ->  fmt::Display.for.Point
;   impl<T: Clone> From<T> for Wrap<T>  ->  From<T>.for.Wrap<T>
(impl_item !trait type: (_) @name body: (declaration_list) @body) @unit
(impl_item trait: (_) @name "for" @name type: (_) @name body: (declaration_list) @body) @unit

; `extern "C" { ... }`: an unnamed container of foreign items
(foreign_mod_item body: (declaration_list) @body) @unit
