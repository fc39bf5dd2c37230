; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
; `mod x;` (a module in its own file); `mod x { ... }` is inline and imports nothing.
(mod_item !body name: (identifier) @spec.mod) @import
; `use a::b::{c, d::E}`: the whole tree, expanded into paths by imports.py.
(use_declaration argument: (_) @spec.use) @import
