; Import statements for the dependency graph. Captures: @import (the statement, for its line),
; @spec or @spec.<kind> (the module as written), optional @name (an imported name).
; Only `#include "x.h"`: `<x.h>` names a system or library header.
(preproc_include path: (string_literal (string_content) @spec.include)) @import
