; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (assignment left: (identifier) @name) @definition.constant)
