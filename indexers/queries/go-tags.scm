; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
; The first pattern that matches a node wins, so specific patterns come before general ones.
(function_declaration name: (identifier) @name) @definition.function
; A method's parent is its receiver's type.
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @parent
             (pointer_type (type_identifier) @parent)
             (generic_type type: (type_identifier) @parent)
             (pointer_type (generic_type type: (type_identifier) @parent))]))
  name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(method_elem name: (field_identifier) @name) @definition.declaration
(const_spec name: (identifier) @name) @definition.constant
; Package-level variables (sentinel errors, registries).
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name) @definition.constant)))
