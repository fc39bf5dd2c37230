; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
(import_spec path: (interpreted_string_literal (interpreted_string_literal_content) @spec)) @import
(import_spec path: (raw_string_literal (raw_string_literal_content) @spec)) @import
