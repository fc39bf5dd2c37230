; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
(import_statement name: (dotted_name) @spec) @import
(import_statement name: (aliased_import name: (dotted_name) @spec)) @import
; `from X import a, b`: X is a dotted name or a relative import (`.`, `..pkg.mod`).
(import_from_statement module_name: (_) @spec name: (dotted_name) @name) @import
(import_from_statement module_name: (_) @spec name: (aliased_import name: (dotted_name) @name)) @import
(import_from_statement module_name: (_) @spec (wildcard_import) @name) @import
