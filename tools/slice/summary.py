"""The summary of a whole document: title, outline with sizes, and an extractive gist."""

from __future__ import annotations

import math
import re
from collections import Counter

from tokenlean.indexers import tokens

from .document import Document
from .parse import _ADORNMENT, _BULLET, _CHANGELOG, _FENCE
from .query import text_terms
from .results import Summary
from .settings import (
    _PROSE_FORMATS,
    GIST_MIN_TOKENS,
    GIST_SHARE,
    GIST_TOKENS,
    OUTLINE_MAX_TOKENS,
    OUTLINE_MIN_TOKENS,
    OUTLINE_SHARE,
)


def _compact(n: int) -> str:
    if n < 1000:
        return str(n)
    return f"{n / 1000:.1f}k" if n < 10_000 else f"{round(n / 1000)}k"


def outline(doc: Document, max_tokens: int) -> list[str]:
    """Outline lines `id title tokens`, indented by level, within `max_tokens`.

    When the full outline does not fit, deeper levels collapse into their parent's line, which
    then names the id range below it and its size; past that, the tail is summarised in one line.
    """
    groups: list[tuple[int, int]] = []  # (first, last) index of each section with its parts
    for i, s in enumerate(doc.sections):
        if s.part and s.part[0] > 1 and groups:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    secs = doc.sections
    depth = [secs[a].level for a, _ in groups]
    size = [sum(secs[k].tokens for k in range(a, b + 1)) for a, b in groups]
    for max_depth in range(max(depth), 0, -1):
        lines = []
        for g, (a, b) in enumerate(groups):
            if depth[g] > max_depth:
                continue
            ids = secs[a].id if a == b else f"{secs[a].id}-{secs[b].id}"
            line = f"{'  ' * (depth[g] - 1)}{ids} {secs[a].title} {_compact(size[g])}"
            below = g + 1
            while below < len(groups) and depth[below] > depth[g]:
                below += 1
            if below > g + 1 and depth[g] == max_depth:
                hidden = sum(size[g + 1 : below])
                line += f" [{secs[groups[g + 1][0]].id}-{secs[groups[below - 1][1]].id}: {_compact(hidden)}]"
            lines.append(line)
        if tokens.count("\n".join(lines)) <= max_tokens:
            return lines
    kept: list[str] = []
    spent = 0
    tail_cost = 24
    for line in lines:
        cost = tokens.count(line) + 1
        if spent + cost + tail_cost > max_tokens:
            break
        kept.append(line)
        spent += cost
    shown_ids = {ln.split()[0].split("-")[0] for ln in kept}
    rest = [g for g, (a, _) in enumerate(groups) if depth[g] == 1 and secs[a].id not in shown_ids]
    if rest:
        first = secs[groups[rest[0]][0]].id
        total = sum(s.tokens for s in secs[groups[rest[0]][0] :])
        kept.append(f"… {first}-{secs[-1].id}: {len(rest)} more top-level sections, {_compact(total)} tokens")
    return kept


_NOT_PROSE = re.compile(
    r"^(?:\s{4,}|\t|\s*(?:#|\||<|!\[|\[!|\[\^|\.\. |>>>|\$ |:[a-z]+:|[-=~^*+#`:'\".]{3,}\s*$))"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(\[*_])")


def _plain(sentence: str) -> str:
    sentence = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", sentence)
    sentence = re.sub(r"(?<![\w*])\*{1,2}([^*\s][^*]*?)\*{1,2}(?![\w*])", r"\1", sentence)
    sentence = re.sub(r"`([^`<]*?)\s*<[^>]*>`_{1,2}", r"\1", sentence)
    sentence = sentence.replace("**", "").replace("``", "`")
    sentence = _INLINE_TAG.sub("", sentence)  # `<abbr title="...">CLI</abbr>` reads as `CLI`
    return " ".join(sentence.split())


_INLINE_TAG = re.compile(
    r"(?i)</?(?:a|abbr|b|br|code|del|em|i|img|ins|kbd|mark|p|s|small|span|strong|sub|sup|u)(?:\s[^<>]*)?/?>"
)


def _prose_paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    fence = False
    for line in text.split("\n"):
        if _FENCE.match(line) or line.strip() in ("----", "...."):
            fence = not fence
            line = ""
        if fence or not line.strip() or _NOT_PROSE.match(line) or _ADORNMENT.match(line):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if _BULLET.match(line) and current:
            paragraphs.append(" ".join(current))
            current = []
        current.append(_BULLET.sub("", line.lstrip().removeprefix(">").strip()).strip())
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def gist(doc: Document, max_tokens: int = GIST_TOKENS) -> str:
    """A few of the document's own sentences that best stand for the whole.

    A sentence scores by how widely its words are spread over the document's sections (words the
    whole document is about), per square root of its length, with a bonus for the opening sections.
    Changelogs are left out: release notes do not say what a document is about.
    """
    if doc.format not in _PROSE_FORMATS:
        return _code_gist(doc, max_tokens)
    df: Counter[str] = Counter()
    for terms in doc.body_terms:
        df.update(set(terms))
    candidates: list[tuple[float, int, str]] = []
    position = 0
    about = [s for s in doc.sections if not any(_CHANGELOG.search(t) for t in s.path)] or doc.sections
    for k, section in enumerate(about):
        for paragraph in _prose_paragraphs(section.text):
            for raw in _SENTENCE_END.split(paragraph):
                sentence = _plain(raw)
                words = len(sentence.split())
                if (
                    not 6 <= words <= 45
                    or "http" in sentence
                    or not sentence[:1].isalnum()
                    or not sentence.rstrip("\"')*_`").endswith((".", "!", "?"))
                ):
                    continue
                terms = set(text_terms(sentence))
                if len(terms) < 3:
                    continue
                score = sum(math.log(1 + df[t]) for t in terms) / math.sqrt(len(terms))
                if position < 3:
                    score *= 2.0
                elif k < 2:
                    score *= 1.5
                candidates.append((score, position, sentence))
                position += 1
    chosen: list[tuple[int, str]] = []
    spent = 0
    for _, pos, sentence in sorted(candidates, key=lambda c: (-c[0], c[1])):
        cost = tokens.count(sentence) + 1
        if spent + cost > max_tokens:
            continue
        chosen.append((pos, sentence))
        spent += cost
        if len(chosen) == 3:
            break
    return " ".join(s for _, s in sorted(chosen))


_LINE_COMMENT = ("#", "//", "--", ";")
_PREAMBLE = ("import ", "from ", "package ", "use ", "#!", "#include", "require")


def _code_gist(doc: Document, max_tokens: int) -> str:
    """The first paragraph of a source file's opening comment or docstring, if it has one."""
    found: list[str] = []
    closing: str | None = None  # what ends the opening comment: a quote, `*/`, or "" for line comments
    for line in doc.lines[:60]:
        text = line.strip()
        if closing is None:
            if not text or text.startswith(_PREAMBLE):
                continue
            if text.startswith(('"""', "'''")):
                closing, text = text[:3], text[3:]
            elif text.startswith("/*"):
                closing, text = "*/", text[2:]
            elif text.startswith(_LINE_COMMENT):
                closing = ""
            else:
                break  # code before any comment
        elif closing == "" and not text.startswith(_LINE_COMMENT):
            break
        ended = bool(closing) and closing in text
        text = text.split(closing)[0] if ended else text
        content = text.lstrip("#/*-!").strip()
        if not content and found:
            break  # the end of the first paragraph
        if content:
            found.append(content)
        if ended:
            break
    gist_text = " ".join(found)
    if tokens.count(gist_text) <= max_tokens:
        return gist_text
    return tokens.truncate(gist_text, max_tokens).rsplit(" ", 1)[0] + " …"


def summarise(doc: Document, budget_tokens: int) -> Summary:
    """Title, gist and outline, sized for a response of `budget_tokens`; kept with the (cached)
    document, since every role and every call on the same text shares them."""
    sizes = (
        min(GIST_TOKENS, budget_tokens // 8, max(GIST_MIN_TOKENS, int(GIST_SHARE * doc.tokens))),
        min(OUTLINE_MAX_TOKENS, budget_tokens // 6, max(OUTLINE_MIN_TOKENS, int(OUTLINE_SHARE * doc.tokens))),
    )
    if sizes not in doc.summaries:
        doc.summaries[sizes] = (gist(doc, sizes[0]), outline(doc, sizes[1]))
    text, lines = doc.summaries[sizes]
    return Summary(title=doc.title, gist=text, outline=list(lines))
