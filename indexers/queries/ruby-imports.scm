; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
(call
  method: (identifier) @_m
  arguments: (argument_list . (string (string_content) @spec))
  (#eq? @_m "require")) @import
(call
  method: (identifier) @_m
  arguments: (argument_list . (string (string_content) @spec.relative))
  (#eq? @_m "require_relative")) @import
