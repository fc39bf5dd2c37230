; Definitions for chunking and the symbol table. Captures: @name, @definition.<kind>, optional @parent.
; The first pattern that matches a node wins, so specific patterns come before general ones.
(method name: (_) @name) @definition.method
(singleton_method name: (_) @name) @definition.method
(class name: [(constant) (scope_resolution)] @name) @definition.class
(module name: [(constant) (scope_resolution)] @name) @definition.module
; `Point = Struct.new(:x, :y) do ... end` defines a class.
(assignment
  left: (constant) @name
  right: (call receiver: (constant) @_receiver method: (identifier) @_method)
  (#any-of? @_receiver "Struct" "Class" "Data")
  (#any-of? @_method "new" "define")) @definition.class
(assignment left: (constant) @name) @definition.constant
