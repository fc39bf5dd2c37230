; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
; The first pattern that matches a node wins, so specific patterns come before general ones.
; Classes, structs, enums, actors and extensions are all `class_declaration`, told apart by their keyword.
(class_declaration declaration_kind: "struct" name: (type_identifier) @name) @definition.struct
(class_declaration declaration_kind: "enum" name: (type_identifier) @name) @definition.enum
(class_declaration declaration_kind: "extension" name: (user_type (type_identifier) @name)) @definition.impl
(class_declaration name: (type_identifier) @name) @definition.class
(protocol_declaration name: (type_identifier) @name) @definition.interface
(function_declaration name: (simple_identifier) @name) @definition.function
(init_declaration "init" @name) @definition.method
(protocol_function_declaration name: (simple_identifier) @name) @definition.declaration
(typealias_declaration name: (type_identifier) @name) @definition.type
(source_file (property_declaration name: (pattern bound_identifier: (simple_identifier) @name)) @definition.constant)
