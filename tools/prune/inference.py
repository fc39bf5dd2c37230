"""Inferring the fields a task needs from its words, field names and sample values."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

from tokenlean.indexers.terms import STOPWORDS, split_identifier

from ..slice import stem, text_terms
from .leaves import _keys, _Leaf, _prefix, schema

# Keys that name a record; kept by task inference at the record level whatever the task says.
ID_KEYS = ("id", "uid", "uuid", "key", "name", "slug", "number", "title", "url")
# Keys that label an object the task names without naming its fields (`labels` -> `labels[*].name`).
LABEL_KEYS = ("name", "login", "title", "key", "slug", "username", "email", "label", "id")
# API vocabulary: a task word on the left also matches fields named by the words on the right.
SYNONYMS = {
    "author": "user creator owner",
    "wrote": "user author creator",
    "reporter": "user author creator",
    "creator": "user author owner",
    "owner": "user author creator",
    "date": "created updated timestamp time",
    "time": "created updated timestamp date",
    "status": "state phase",
    "state": "status",
    "link": "url href",
    "tag": "label topic",
    "description": "body summary",
    "text": "body content message",
    "error": "message reason",
    "count": "total",
}
SYNONYM_WEIGHT = 0.5  # below a value match of the word itself (`open` is a state before a synonym)
_SYNONYMS = {t: text_terms(words) for word, words in SYNONYMS.items() for t in text_terms(word)}
_LINK_WORDS = frozenset({"url", "uri", "href", "link"})
# Words that say what to do with the data rather than which data.
_TASK_WORDS = frozenset(
    text_terms("show list give find display fetch tell print include keep want need know check see whether")
)


def _match(term: str, words: set[str] | frozenset[str], loose: bool = True) -> bool:
    """A term matches a word equal to it or, when `loose`, one it is a prefix of (or the reverse),
    both of 5 letters at least (`assign` matches `assignee`)."""
    return term in words or (
        loose
        and len(term) >= 5
        and any(len(w) >= 5 and (w.startswith(term) or term.startswith(w)) for w in words)
    )


@lru_cache(maxsize=10_000)
def _parts(key: str) -> frozenset[str]:
    """Stemmed words of a field name: `restartCount` -> {restart, count}, `html_url` -> {html, url}."""
    out = set()
    for word in re.findall(r"\w+", key):
        for part in split_identifier(word):
            if len(part) > 1 and part not in STOPWORDS and not part.isdigit():
                out.add(stem(part))
    return frozenset(out)


def _records(value: Any, leaves: dict[str, _Leaf]) -> list[str]:
    """Path prefixes of the records: the main array of objects, and the top object if it has ids."""
    prefixes: Counter[str] = Counter()
    for path, leaf in leaves.items():
        for m in re.finditer(r"\[\*\]", path):
            prefixes[path[: m.end()]] += leaf.count
            break  # the outermost array on the path
    out = []
    if prefixes:
        out.append(prefixes.most_common(1)[0][0])
    if isinstance(value, dict) and any(k in value for k in ID_KEYS):
        out.append("")
    return out


def _identifiers(records: list[str], leaves: dict[str, _Leaf]) -> list[str]:
    """Id-like leaves of each record: direct children first, else inside a direct child (`metadata.name`)."""
    kept = []
    for prefix in records:
        for depth in (1, 2):
            found = []
            for path in leaves:
                if not path.startswith(prefix) or path == prefix:
                    continue
                rest = path[len(prefix) :].lstrip(".")
                if "[*]" in rest:
                    continue
                keys = _keys(rest)
                if len(keys) == depth and keys[-1] in ID_KEYS:
                    found.append(path)
            if found:
                kept += found
                break
    return kept


def infer(value: Any, task: str) -> tuple[list[str], dict[str, str], list[str]]:
    """Leaf paths a task needs, why each, and the task words no field matched.

    Each task word (or one of its SYNONYMS) is matched against field names, the values of
    enum-like fields, and the names of the objects and arrays that hold fields. A name match counts
    by how much of the name the task covers (`restart count` covers `restartCount`, only half of
    `restartPolicy`) and needs half of it. For each word the best kind of match wins and every field
    matching that well is kept; an object the task names without naming its fields contributes its
    label (`name`, `login`, ...). Link fields (`*_url`) count only when the task asks for links;
    words that name the records themselves (`items`, a constant `kind: Pod`) are not matched.
    Record identifiers are always kept.
    """
    leaves = schema(value)
    records = _records(value, leaves)
    spoken: dict[str, str] = {}  # stemmed term -> the task's own word
    for word in re.findall(r"\w+", task):
        for term in text_terms(word):
            spoken.setdefault(term, word)
    skip = _record_words(records, leaves) | _TASK_WORDS
    terms = [t for t in spoken if not t.replace(".", "").isdigit() and t not in skip]
    everything = {t for term in terms for t in (term, *_SYNONYMS.get(term, []))}
    wants_links = bool(_LINK_WORDS & everything)

    def coverage(key: str) -> float:
        parts = _parts(key)
        return sum(1 for p in parts if any(_match(t, {p}) for t in everything)) / len(parts) if parts else 0.0

    prefixes = {p[: m.start()] for p in leaves for m in re.finditer(r"\.|\[\*\]", p)}
    info = []
    for path, leaf in leaves.items():
        keys = _keys(path)
        if not keys or path in prefixes:  # a null or empty value where other records have fields
            continue
        urls = any(isinstance(v, str) and v.startswith(("http://", "https://")) for v in leaf.samples)
        if (_LINK_WORDS & _parts(keys[-1]) or urls) and not wants_links:
            continue
        strings = [v for v in leaf.samples if isinstance(v, str)]
        enum = (
            set(text_terms(" ".join(strings)))
            if 2 <= len(strings) <= 8 and all(len(v) <= 30 for v in strings)
            else set()
        )
        info.append((path, keys, enum))
    kept: dict[str, str] = {}
    unmatched = []
    for term in terms:
        said = spoken[term]
        variants = [(term, 1.0)] + [(t, SYNONYM_WEIGHT) for t in _SYNONYMS.get(term, []) if t != term]
        hits: list[tuple[str, float, str, str]] = []  # (path, score, why, container)
        for path, keys, enum in info:
            score, why, container = 0.0, "", ""
            for word, weight in variants:
                via, loose = ("", True) if word == term else (f" (as {word!r})", False)
                cover = coverage(keys[-1])
                if cover >= 0.5 and _match(word, _parts(keys[-1]), loose) and 3 * weight * cover > score:
                    score, why, container = 3 * weight * cover, f"name matches {said!r}{via}", ""
                if _match(word, enum, loose) and 1.8 * weight > score:
                    score, why, container = 1.8 * weight, f"values match {said!r}{via}", ""
                for depth, key in enumerate(keys[:-1]):
                    cover = coverage(key)
                    if cover >= 0.5 and _match(word, _parts(key), loose) and weight * cover > score:
                        container = _prefix(path, depth + 1)
                        score, why = weight * cover, f"{container} matches {said!r}{via}"
            if score:
                hits.append((path, score, why, container))
        if not hits:
            unmatched.append(said)
            continue
        best = max(h[1] for h in hits)
        top = [h for h in hits if h[1] >= best * 0.999]
        for path, _, why, container in top:
            if not container:
                kept.setdefault(path, why)
        for path, why in _labels({c: w for _, _, w, c in top if c}, leaves):
            kept.setdefault(path, why)
    for path in _identifiers(records, leaves):
        kept.setdefault(path, "identifier")
    order = {p: i for i, p in enumerate(leaves)}
    ordered = dict(sorted(kept.items(), key=lambda kv: order.get(kv[0], 0)))
    return list(ordered), ordered, unmatched


def _record_words(records: list[str], leaves: dict[str, _Leaf]) -> set[str]:
    """Words that name the records rather than a field: the array's key, constant `kind`-like values."""
    words: set[str] = set()
    for prefix in records:
        keys = _keys(prefix)
        if keys:
            words |= _parts(keys[-1])
        for path, leaf in leaves.items():
            rest = path[len(prefix) :].lstrip(".")
            direct = path.startswith(prefix) and rest and len(_keys(rest)) == 1 and "[*]" not in rest
            if direct and leaf.count > 1 and len(leaf.samples) == 1 and isinstance(leaf.samples[0], str):
                words |= set(text_terms(leaf.samples[0]))
    return words


def _labels(containers: dict[str, str], leaves: dict[str, _Leaf]) -> list[tuple[str, str]]:
    """For objects the task names as a whole: their label field, or their fields when there are few."""
    out = []
    for prefix, why in containers.items():
        if prefix in leaves and not any(p.startswith((f"{prefix}.", f"{prefix}[")) for p in leaves):
            # an array of plain values (or a plain value): the thing itself
            out.append((prefix, why))
            continue
        depth = len(_keys(prefix))
        direct = [
            p
            for p in leaves
            if p.startswith(prefix)
            and len(_keys(p)) == depth + 1
            and _prefix(p, depth) == prefix
            and "[*]" not in p[len(prefix) :]
        ]
        label = next((p for key in LABEL_KEYS for p in direct if _keys(p)[-1] == key), None)
        if label:
            out.append((label, why))
        elif 0 < len(direct) <= 3:
            out.extend((p, why) for p in direct)
    return out
