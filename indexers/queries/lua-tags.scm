; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
; The first pattern that matches a node wins, so specific patterns come before general ones.
; `function M.f()` and `function M:f()` belong to the table `M`.
(function_declaration
  name: (dot_index_expression table: (_) @parent field: (identifier) @name)) @definition.function
(function_declaration
  name: (method_index_expression table: (_) @parent method: (identifier) @name)) @definition.method
(function_declaration name: (identifier) @name) @definition.function
(assignment_statement
  (variable_list . name: (dot_index_expression table: (_) @parent field: (identifier) @name) .)
  (expression_list . value: (function_definition) .)) @definition.function
(assignment_statement
  (variable_list . name: (identifier) @name .)
  (expression_list . value: (function_definition) .)) @definition.function
