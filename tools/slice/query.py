"""Words and terms: stemming, the role expansions, and a role or question as weighted terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise

from tokenlean.indexers.terms import MAX_TERM_CHARS, STOPWORDS, split_identifier

_WORD = re.compile(r"\w+")
_URL = re.compile(r"https?://[^\s)>\]]+|\]\([^)]*\)|<[a-z]+://[^>]*>")
_VERSION = re.compile(r"(?<![\w.])v?(\d+)\.(\d+)(?:\.(\d+))?")
# Longest first within each family; the first that matches is stripped.
_SUFFIXES = tuple(
    "ations ation ments ment ances ance ences ence ities ity ings ing ness ers er ies ied ed es ly s".split()
)


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A light suffix-stripping stem, so that `faster`/`fast` and `caches`/`caching`/`cache` meet."""
    if not word.isalpha() or not word.isascii():
        return word
    if len(word) <= 4:  # `pods`, `tags`, `docs` lose their `s`; `this`, `less`, `plus` keep it
        plural = len(word) == 4 and word.endswith("s") and not word.endswith(("ss", "us", "is"))
        return word[:-1] if plural else word
    for suffix in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        if suffix == "s" and word.endswith("ss"):
            break
        if suffix == "es" and not word[:-2].endswith(("s", "x", "z", "ch", "sh")):
            continue  # `types` is `type` + s, `classes` is `class` + es
        base = word[: -len(suffix)]
        if suffix in ("ies", "ied"):
            base += "y"
        if len(base) >= 4:
            word = base
        break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """`getUserName` -> (getusername, user, name): a compound kept whole and its words stemmed."""
    parts = [p for p in split_identifier(word) if len(p) > 1 and p not in STOPWORDS and not p.isdigit()]
    stems = tuple(dict.fromkeys(stem(p) for p in parts))
    if len(split_identifier(word)) > 1:
        return (word.lower()[:MAX_TERM_CHARS], *stems)
    return stems


def text_terms(text: str) -> list[str]:
    """Stemmed, code-aware terms of prose or code; URLs left out, versions kept as `2.14`/`2.14.0`."""
    text = _URL.sub(" ", text)
    out: list[str] = []
    for m in _VERSION.finditer(text):
        major, minor, patch = m.groups()
        out.append(f"{major}.{minor}")
        if patch is not None:
            out.append(f"{major}.{minor}.{patch}")
    for word in _WORD.findall(text):
        out.extend(_word_terms(word))
    return out


# Words that say who is asking rather than what about.
_ROLE_WORDS = frozenset(
    stem(w)
    for w in (
        "reviewer review reviewing engineer developer user expert specialist person someone team lead "
        "focus focused looking look know tell show question role agent wants interested"
    ).split()
)
# Common reviewer roles and the words their concerns are usually written in. Kept small and general;
# a trigger (a word, matched stemmed, or a phrase) in the role adds its row's words at EXPANSION_WEIGHT.
EXPANSION_WEIGHT = 0.35
COMPOUND_WEIGHT = 0.5  # two words of the role joined (`set up` -> `setup`): its own words, said another way
ROLE_EXPANSIONS: dict[str, tuple[str, str]] = {
    "security": (
        "security, secure, appsec, vulnerability, pentest, auditor",
        "security secure vulnerability cve auth authentication authorization permission token secret "
        "password credential encryption tls ssl certificate injection sanitize xss csrf exploit unsafe",
    ),
    "performance": (
        "performance, perf, speed, latency, fast, faster, slow, efficiency, scalability, throughput",
        "performance fast faster slow speed latency throughput memory cpu cache benchmark optimize "
        "optimization efficient overhead scaling concurrency parallel thread allocation quadratic",
    ),
    "docs": (
        "docs, documentation, writer, tutorial",
        "documentation docs example tutorial guide usage readme docstring reference",
    ),
    "testing": (
        "test, testing, tests, tester, qa",
        "test testing pytest unittest fixture mock coverage assert ci regression",
    ),
    "api": (
        "api, interface, sdk, integrator",
        "api interface class function method parameter argument return signature endpoint schema component "
        "module reference deprecated",
    ),
    "ux": (
        "ux, ui, usability, designer, accessibility",
        "usability user interface cli command output message error help prompt display color accessibility",
    ),
    "ops": (
        "ops, devops, sre, operations, operator, deploy, deploying, deployment, infrastructure, production",
        "deploy deployment production install configuration environment docker kubernetes monitoring "
        "logging timeout retry proxy load balancer upgrade shutdown performance capacity limit resource "
        "memory",
    ),
    "onboarding": (
        "user, new user, newcomer, beginner, getting started, first time, onboarding",
        "install installation quickstart quick start getting started tutorial example usage requirements",
    ),
    "upgrade": (
        "upgrade, upgrading, migrate, migrating, migration, breaking",
        "upgrade migration breaking change deprecated removed drop compatibility version release",
    ),
}
_EXPANSIONS: list[tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]] = [
    (
        frozenset(
            t for phrase in triggers.split(",") if " " not in phrase.strip() for t in text_terms(phrase)
        ),
        tuple(p.strip() for p in triggers.split(",") if " " in p.strip()),
        tuple(dict.fromkeys(text_terms(words))),
    )
    for triggers, words in ROLE_EXPANSIONS.values()
]


# "from 2.13 to 2.14", "since 4.66", "from httpcore 1.0 to httpcore2": the first version is where the
# reader is, not what they need to read about; the releases after it (up to the second version, when
# one is given) are.
# A package may be named before the version: `from httpcore 1.0`, `from urfave/cli v1.22`, `@scope/pkg`.
_PACKAGE = r"(?:[a-z@][\w./@-]*\s+)?"
_FROM_TO = re.compile(rf"(?i)\bfrom\s+{_PACKAGE}v?(\d+(?:\.\d+)+)\s*(?:to|->|→|\.\.)\s*(?:v?\d|[a-z])")
# "since 4.66", "after 2.1", and where the reader is: "pinned to 3.3.4", "we are on 2.0", "stuck at 1.x",
# "our service is on axios 1.2.6", "we run 1.7.2", "our backend pins axios 1.5.1", "we held Vue at 3.4.14".
_SINCE = re.compile(
    r"(?i)\b(?:since|after|pin(?:s|ned)?(?:\s+(?:to|at))?|stuck\s+(?:on|at)|still\s+on|currently\s+on|"
    rf"(?:held|kept|stayed|froze)\s+{_PACKAGE}(?:at|on)|"
    r"(?:is|are|am|we're|i'm)\s+(?:still\s+|currently\s+)?(?:on|at|using|running)|"
    rf"(?:we|i|they)\s+(?:still\s+)?(?:run|use))\s+{_PACKAGE}v?(\d+(?:\.\d+)+)"
)
# "which later releases fix it", "since then": a question naming one release asks about what came
# after it ("our app on Vue 3.4.15 ... which later 3.4 releases fix", "we moved to 15.0.0. Since then").
# "HTTPie 3.2.1 started crashing ... which releases fix these": what broke in one release is fixed after it.
_LATER = re.compile(
    r"(?i)\b(?:later|newer|subsequent|since\s+then|after\s+that)\b|"
    r"\b(?:which|what)\s+(?:[\w.]+\s+){0,2}(?:releases?|versions?)\s+(?:that\s+)?"
    r"(?:fix|fixes|fixed|resolves?|resolved|address(?:es)?)\b"
)


def _most_specific(versions: set[str]) -> set[str]:
    """The versions no other one of `versions` lies in: `2.14` goes when `2.14.0` is there too."""
    return {v for v in versions if not any(w.startswith(v + ".") for w in versions)}


def _has_line(version: str, releases: frozenset[str] | None) -> bool:
    """Whether `version` can be one of the document's releases (or they are not known): the document
    has notes in its line (`2.32`, `2.32.1`: any `2.32...`), or it comes before the oldest notes the
    document keeps of its major version (of any, when it has none of that major). A version in
    between the lines the document has is another package's ("after requests 2.32 was installed",
    in HTTPie's changelog, whose 2.x line ends at 2.6)."""
    if releases is None:
        return True
    line = _version_key(version)[:2]
    lines = {_version_key(r)[:2] for r in releases}
    if line in lines:
        return True
    same_major = [known for known in lines if known[0] == line[0]]
    return line < min(same_major or lines)


def _only_release(text: str, releases: frozenset[str] | None = None) -> str | None:
    """The one full release `text` names (`3.4.15`; a line it names too, `3.4`, is not another) of
    the document's `releases` when they are known, or None. Two-part versions are left alone:
    `Python 3.8`, `Node 18.2` are the platform's."""
    named = {m.group(0).lstrip("vV") for m in _VERSION.finditer(text)}
    named = _most_specific({v for v in named if _has_line(v, releases)})
    if len(named) != 1:
        return None
    (version,) = named
    return version if version.count(".") == 2 else None


# `1.x`, `2.3.*`: every release in that line.
_WILD_VERSION = re.compile(r"(?<![\w.])v?(\d+(?:\.\d+)?)\.[xX*](?![\w])")
# Words that ask about what changed between releases; without one, release notes are background.
_CHANGE_TERMS = frozenset(
    text_terms(
        "change changes changed changelog release releases released version versions upgrade upgrading "
        "migrate migration breaking deprecated deprecation removed history added fixed regression"
    )
)
# A heading made only of a question word (`How`, `Why`) answers that question about the whole subject.
_QUESTION_WORDS = frozenset("how why what when where who".split())
# "how do I make a new release?", "how to upgrade": a question asking for a procedure. Its change
# words (`release`, `upgrade`) name what the reader wants to do, not releases they want to read about.
_PROCEDURE = re.compile(r"(?i)\bhow\s+(?:do|can|should|would|could|does)\s+(?:i|we|you|one)\b|\bhow\s+to\b")


@dataclass(frozen=True)
class Query:
    """A role or question as weighted terms: its own words at 1.0, role expansions lower.

    `versions` are the release lines the question is about (`2.14`, `1` for `1.x`), `since` the
    release the reader is at (`from 4.66.0 to 4.68.0`, `since 4.66`), `asks` its question words,
    and `changes` whether it asks what changed between releases: it names releases, or it has a
    change word and does not ask how to do something.
    """

    text: str
    weights: dict[str, float]
    versions: frozenset[str] = frozenset()
    asks: frozenset[str] = frozenset()
    changes: bool = False
    since: str | None = None

    @classmethod
    def of(cls, text: str, expand: bool = True, releases: frozenset[str] | None = None) -> Query:
        """The query of `text`; `releases` are the versions of the document's release notes, when it
        has any: a version in none of their lines is not where the reader is."""
        said = list(dict.fromkeys(text_terms(text)))
        own = [t for t in said if t not in _ROLE_WORDS]
        starts = (m.group(1) for m in chain(_FROM_TO.finditer(text), _SINCE.finditer(text)))
        since = next((v for v in starts if _has_line(v, releases)), None)
        if since is None and _LATER.search(text):
            since = _only_release(text, releases)
        if since is not None:
            start = set(text_terms(since))
            own = [t for t in own if t not in start]
        versions = {t for t in own if _VERSION.fullmatch(t)}
        # `2.14.0` names that release, not its line (text_terms gives both `2.14` and `2.14.0`)
        versions = _most_specific(versions)
        versions |= {m.group(1) for m in _WILD_VERSION.finditer(text)}  # `1.x`: asked for, kept
        weights = dict.fromkeys(own, 1.0)
        plain = " ".join(re.findall(r"\w+", text.lower()))
        for term in _compounds(plain):
            weights.setdefault(term, COMPOUND_WEIGHT)
        if expand:
            for words, phrases, related in _EXPANSIONS:
                if words & set(said) or any(f" {p} " in f" {plain} " for p in phrases):
                    for w in related:
                        weights.setdefault(w, EXPANSION_WEIGHT)
        asks = frozenset(_QUESTION_WORDS & set(plain.split()))
        asked_changes = bool(_CHANGE_TERMS & set(own)) and not _PROCEDURE.search(text)
        changes = bool(versions) or since is not None or asked_changes
        return cls(text, weights, frozenset(versions), asks, changes, since)

    def within(self, releases: set[str | None]) -> Query:
        """The query read against the versions of a document's release notes (none: unchanged)."""
        known = frozenset(v for v in releases if v)
        return Query.of(self.text, releases=known) if known else self

    def without(self, terms: set[str]) -> Query:
        """The query without `terms`, unless that would leave none of its own words."""
        kept = {t: w for t, w in self.weights.items() if t not in terms}
        if not any(w == 1.0 for w in kept.values()):
            return self
        return Query(self.text, kept, self.versions, self.asks, self.changes, self.since)

    @property
    def procedure(self) -> bool:
        """Whether the question asks how to do something (`how do I ...`, `how to ...`)."""
        return bool(_PROCEDURE.search(self.text))

    @property
    def scoped(self) -> bool:
        """Whether the question names releases."""
        return bool(self.versions) or self.since is not None

    def names_release(self, version: str | None) -> bool:
        """Whether the release `version` (`2.14.1`) is one the question is about: in a line it names,
        or after the one the reader is at (`since`) and, when lines are named too, before the last."""
        if version is None:
            return False
        key = _version_key(version)
        if self.since is not None and (
            _in_releases(version, frozenset({self.since})) or key <= _version_key(self.since)
        ):
            return False  # where the reader is, or before it (`pinned to 1.20.0 ... which 1.x`)
        if _in_releases(version, self.versions):
            return True
        if self.since is None:
            return False
        # A line wholly before the reader's release bounds nothing ("HTTPie 3.2.1 ... urllib3 2.x").
        bounds = [
            _version_key(v)
            for v in self.versions
            if _version_key(v) > _version_key(self.since) or _in_releases(self.since, frozenset({v}))
        ]
        return not bounds or key < max(bounds)


# Words that join no compound (`how do` is no word, `set up` and `log in` are).
_GLUE = frozenset(
    "how what why when where who which whom whose do does did can could should would will shall may "
    "might must i we you they he she it me us them my our your their its is are was were be been am "
    "the a an of to for and or but nor this that these those there here".split()
)


def _compounds(plain: str) -> list[str]:
    """Terms of two adjacent words written as one (`set up` -> `setup`, `file name` -> `filename`):
    documents write many such words both ways, and a heading says `Development Setup`."""
    words = plain.split()
    joined = (
        a + b
        for a, b in pairwise(words)
        if a.isalpha() and b.isalpha() and len(a + b) >= 5 and a not in _GLUE and b not in _GLUE
    )
    return [t for word in joined for t in _word_terms(word) if t not in _ROLE_WORDS]


def _in_releases(version: str | None, lines: frozenset[str]) -> bool:
    """Whether `version` (`2.14.1`) is one of the release `lines` (`2.14`, `2`)."""
    return version is not None and any(version == w or version.startswith(w + ".") for w in lines)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))
