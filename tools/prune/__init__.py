"""Prune a JSON payload to the fields a task needs, encoded in whatever costs fewest tokens.

Fields are chosen by explicit paths (`items[*].{id,status,owner.login}`, `data.*.name`), by a
JMESPath expression, or inferred from a task description: field names and a sample of their
values are matched against its words, and each record's identifiers are always kept. The result
is encoded as TOON, compact JSON or `path: value` lines, whichever is fewest o200k tokens. String
values pass through `guard` (credentials redacted, instruction-like text flagged). Hostile input
fails or is cut with a message that says so: invalid JSON (with line and column), nesting beyond
MAX_DEPTH (cut), payloads beyond MAX_PAYLOAD_CHARS, unknown field paths (listing what is there).

The modules, in the order they build on each other: `settings` (limits, encodings), `errors`,
`results` (PruneResult), `paths` (parsing, showing and checking field paths), `loading` (the
payload, its size and depth limits), `selection` (the parts of a payload that paths reach), `leaves`
(`schema`: its leaf paths with counts and samples), `inference` (fields from a task's words),
`guarding` (string values through `guard`), `encodings` (TOON, compact JSON, text; the cheapest),
`expression` (JMESPath), `render` (the text form), `fit` (cutting to the budget) and `pruning`
(`prune`, which runs them).
"""

from .encodings import encode, key_value_text
from .errors import BadExpression, BadPrune, InvalidJson, PayloadTooLarge, UnknownField
from .inference import ID_KEYS, LABEL_KEYS, SYNONYM_WEIGHT, SYNONYMS, infer
from .leaves import schema
from .loading import load
from .paths import Step, parse_paths
from .pruning import prune
from .render import prune_text
from .results import PruneResult
from .settings import (
    DEFAULT_BUDGET,
    DEPTH_MARKER,
    ENCODINGS,
    MAX_BUDGET,
    MAX_DEPTH,
    MAX_PATH_CHARS,
    MAX_PATHS,
    MAX_PAYLOAD_CHARS,
    MAX_SCHEMA_PATHS,
    MIN_BUDGET,
    UNTRUSTED,
)

__all__ = [
    "DEFAULT_BUDGET",
    "DEPTH_MARKER",
    "ENCODINGS",
    "ID_KEYS",
    "LABEL_KEYS",
    "MAX_BUDGET",
    "MAX_DEPTH",
    "MAX_PATHS",
    "MAX_PATH_CHARS",
    "MAX_PAYLOAD_CHARS",
    "MAX_SCHEMA_PATHS",
    "MIN_BUDGET",
    "SYNONYMS",
    "SYNONYM_WEIGHT",
    "UNTRUSTED",
    "BadExpression",
    "BadPrune",
    "InvalidJson",
    "PayloadTooLarge",
    "PruneResult",
    "Step",
    "UnknownField",
    "encode",
    "infer",
    "key_value_text",
    "load",
    "parse_paths",
    "prune",
    "prune_text",
    "schema",
]
