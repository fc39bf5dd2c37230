; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
; The first pattern that matches a node wins, so specific patterns come before general ones.
; The Kotlin grammar names few fields: a declaration's name is its direct identifier child.
(class_declaration "interface" (type_identifier) @name) @definition.interface
(class_declaration "enum" (type_identifier) @name) @definition.enum
(class_declaration (type_identifier) @name) @definition.class
(object_declaration (type_identifier) @name) @definition.class
(companion_object (type_identifier) @name) @definition.class
; An extension function's parent is its receiver type.
(function_declaration
  receiver: (receiver_type [(user_type (type_identifier) @parent)
                            (nullable_type (user_type (type_identifier) @parent))])
  (simple_identifier) @name) @definition.method
(function_declaration (simple_identifier) @name (function_body)) @definition.function
; Abstract and interface functions have no body.
(function_declaration (simple_identifier) @name) @definition.declaration
(type_alias (type_identifier) @name) @definition.type
(source_file (property_declaration (variable_declaration (simple_identifier) @name)) @definition.constant)
