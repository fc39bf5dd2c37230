; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
; The first pattern that matches a node wins, so specific patterns come before general ones.
(function_definition name: (name) @name) @definition.function
(method_declaration name: (name) @name body: (_)) @definition.method
; Abstract and interface methods have no body.
(method_declaration name: (name) @name) @definition.declaration
(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum
; Only the braced form `namespace A { ... }` encloses its definitions.
(namespace_definition name: (namespace_name) @name body: (_)) @definition.namespace
(assignment_expression
  left: (variable_name (name) @name)
  right: [(anonymous_function) (arrow_function)]) @definition.function
(const_declaration (const_element (name) @name) @definition.constant)
