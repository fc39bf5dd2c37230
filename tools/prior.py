"""What kind of file a path is, and how much a query trusts that kind when it does not ask for it.

Tests, docs, changelogs, examples and data files share a task's words without holding the code
that changes: on the retrieval benchmark they filled about half of the top places. Their scores
are lowered (never dropped) unless the query asks for them.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TEST = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs|testing|testdata|test_?data|fixtures?|__snapshots__|snapshots?"
    r"|__mocks__|mocks?)/|(?:^|/)test_[^/]*$|(?:^|/)conftest\.py$|_test\.\w+$|\.(?:test|spec)\.[cm]?[jt]sx?$"
    r"|_spec\.rb$|Tests?\.(?:java|kt|cs|swift|scala)$|\.snap$",
    re.IGNORECASE,
)
_DOC = re.compile(
    r"\.(?:md|markdown|mdx|rst|adoc|asciidoc|txt)$|(?:^|/)(?:docs?|documentation|man)/"
    r"|(?:^|/)(?:CHANGELOG|CHANGES|HISTORY|NEWS|README|LICEN[CS]E|CONTRIBUTING|AUTHORS)[^/]*$",
    re.IGNORECASE,
)
_EXAMPLE = re.compile(r"(?:^|/)(?:examples?|samples?|demos?|benchmarks?|bench|tutorials?)/", re.IGNORECASE)
# Repository plumbing: CI workflows, issue templates, editor settings. An issue written in the
# repository's template matched its template file first.
_META = re.compile(r"(?:^|/)\.(?:github|gitlab|circleci|devcontainer|vscode|husky)/", re.IGNORECASE)
_DATA = re.compile(r"\.(?:json|ya?ml|toml|lock|csv|tsv|xml|ini|cfg|conf|svg|html?)$", re.IGNORECASE)

# Factor applied to a place's fused score, by query shape and file kind.
PRIORS: dict[str, dict[str, float]] = {
    "natural": {"test": 0.7, "doc": 0.5, "example": 0.7, "data": 0.6, "meta": 0.3},
    "identifier": {"test": 0.8, "doc": 0.7, "example": 0.8, "data": 0.8, "meta": 0.6},
    "path": {},
}
# Words that show a short query wants that kind of file after all ("tests for the parser"). In longer
# text (an issue, a commit message) they describe the situation instead ("the test fails", "adds a
# config option"): on the benchmark's dev split such words were in 23 of 121 queries, none asking for
# tests or docs, and honouring them there cost fused file MRR 0.69 -> 0.67 (Go 0.71 -> 0.65).
ASK_MAX_WORDS = 8
_ASKS = {
    "test": {"test", "tests", "testing", "spec", "specs", "fixture", "fixtures", "snapshot", "mock"},
    "doc": {"doc", "docs", "documentation", "readme", "changelog", "guide", "manual", "tutorial"},
    "example": {"example", "examples", "sample", "demo", "benchmark", "bench"},
    "data": {"config", "configuration", "json", "yaml", "yml", "toml", "settings", "schema"},
    "meta": {"ci", "workflow", "workflows", "github", "gitlab", "action", "actions", "pipeline", "template"},
}


@lru_cache(maxsize=100_000)
def file_kind(path: str) -> str:
    """'meta', 'test', 'doc', 'example', 'data' or 'code'."""
    if _META.search(path):
        return "meta"
    if _TEST.search(path):
        return "test"
    if _EXAMPLE.search(path):
        return "example"
    if _DOC.search(path):
        return "doc"
    if _DATA.search(path):
        return "data"
    return "code"


def priors(shape: str, query_words: set[str], length: int = 1) -> dict[str, float]:
    """The factor per file kind for a query of this shape with these (lower-case) words and this many
    (whitespace-separated) words in all."""
    table = dict(PRIORS.get(shape, {}))
    if length > ASK_MAX_WORDS:
        return table
    for kind, words in _ASKS.items():
        if words & query_words:
            table.pop(kind, None)
    return table
