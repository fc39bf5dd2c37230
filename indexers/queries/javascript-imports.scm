; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
(import_statement source: (string (string_fragment) @spec)) @import
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @name)))
  source: (string (string_fragment) @spec)) @import
(export_statement source: (string (string_fragment) @spec)) @import
(export_statement
  (export_clause (export_specifier name: (_) @name))
  source: (string (string_fragment) @spec)) @import
; CommonJS `require("x")` and dynamic `import("x")`.
(call_expression
  function: (identifier) @_fn
  arguments: (arguments . (string (string_fragment) @spec))
  (#eq? @_fn "require")) @import
(call_expression function: (import) arguments: (arguments . (string (string_fragment) @spec))) @import
