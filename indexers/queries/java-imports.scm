; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
(import_declaration (scoped_identifier) @spec) @import
(import_declaration (scoped_identifier) @spec (asterisk) @name) @import
