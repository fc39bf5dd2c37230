"""Splitting a document into sections by its own structure: headings (Markdown, reST,
AsciiDoc), definitions for source code, groups of paragraphs for plain text; long sections into parts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tokenlean.indexers import tokens
from tokenlean.indexers.chunks import chunk_file, supported_languages
from tokenlean.indexers.languages import language_of
from tokenlean.indexers.terms import MAX_TERM_CHARS, split_identifier

from .query import _WORD, _word_terms
from .settings import _PROSE_FORMATS, MAX_SECTION_TOKENS, MAX_TITLE_CHARS, PART_TOKENS, TEXT_SECTION_TOKENS

_CHANGELOG = re.compile(
    r"(?i)^(?:change ?log|change history|changes|release notes|history|what's new|news)\b|^\[?v?\d+\.\d+"
)
# Names in prose: inline code or link text, snake_case, CamelCase, ALLCAPS words.
_NAME = re.compile(r"`[^`\n]{2,60}`|\b\w*_\w+\b|\b[A-Z]?[a-z]+[A-Z]\w*\b|\b[A-Z][A-Z0-9]{3,}\b")


def _names(span: str) -> list[str]:
    """The names in a span of code or an identifier: a compound whole (`shutdown_event`, not its
    words, which are often common ones), other words stemmed; words under five letters left out."""
    out = []
    for word in _WORD.findall(span):
        if len(split_identifier(word)) > 1:
            out.append(word.lower()[:MAX_TERM_CHARS])
        else:
            out.extend(t for t in _word_terms(word) if len(t) >= 5 and not t[0].isdigit())
    return out


# A release heading: `v2.14.0 (2026-10-08)`, `[1.0.0] - 2026-01-05`, `Version 3.5.3`.
_RELEASE = re.compile(r"(?i)^\W*(?:version\s+|release\s+)?v?(\d+(?:\.\d+)+)")


@dataclass(frozen=True)
class Section:
    """A unit of a document that is ranked and returned whole (or trimmed) and fetched by `id`."""

    id: str  # `s1`, `s2`, ... in document order
    title: str
    path: tuple[str, ...]  # titles from the top of the heading tree down to this one
    level: int  # depth in the heading tree, 1 = top
    start_line: int  # 1-based, inclusive
    end_line: int
    text: str
    tokens: int
    part: tuple[int, int] | None = None  # (k, n) when a long section was split into n parts

    @property
    def title_path(self) -> str:
        label = " > ".join(self.path)
        return f"{label} ({self.part[0]}/{self.part[1]})" if self.part else label


@dataclass(frozen=True)
class _Raw:
    start: int  # 0-based rows, inclusive
    end: int
    path: tuple[str, ...]


def _format_of(name: str, lines: list[str] | None = None) -> str:
    """The format `name`'s extension gives; a name that gives none (inline text, a handle, a
    `README` or `CHANGES` without extension, `.txt`) is read by its `lines`' headings."""
    language = language_of(name)
    if language == "text" and lines:
        return _sniffed(lines)
    if language in _PROSE_FORMATS:
        return language
    if language in supported_languages():
        return language
    return "text"


_ATX_HEADING = re.compile(r"^#{1,6}[ \t]+\S")


def _sniffed(lines: list[str]) -> str:
    """Markdown or AsciiDoc when two or more lines outside code blocks are their headings (`## Usage`,
    `== Usage`); else plain text, whose reST-style underlined titles are still read as headings."""
    atx = 0
    fence: str | None = None
    for line in lines:
        opened = fence
        fence = _fence_after(line, fence)
        if opened is None and fence is None:
            atx += bool(_ATX_HEADING.match(line))
    asciidoc = len(_asciidoc_headings(lines))
    if max(atx, asciidoc) < 2:
        return "text"
    return "markdown" if atx >= asciidoc else "asciidoc"


def _sections(lines: list[str], text: str, fmt: str) -> tuple[list[Section], str, str]:
    """The sections; how the document opens: `root` (one heading over all), `preamble` (text
    before the first heading, or plain text), or `none`; and the title its front matter gives."""
    skip, title = front_matter(lines) if fmt == "markdown" else (0, "")
    if not _has_text(lines[skip:]):  # nothing but front matter: it is the text
        skip = 0
    if skip:  # its closing `---` under `title: ...` would read as a heading underline
        text = "\n" * skip + "\n".join(lines[skip:])
    if fmt in ("markdown", "rst", "asciidoc", "text"):
        headings = {
            "markdown": _markdown_headings,
            "rst": _rst_headings,
            "asciidoc": _asciidoc_headings,
            "text": _text_headings,
        }[fmt](lines, text)
        raws = _from_headings(lines, headings, skip, title) if headings else _paragraph_groups(lines, skip)
        if not headings or _has_text(lines[skip : headings[0][0]]):
            opening = "preamble"
        else:
            opening = "root" if _single_root(headings) else "none"
    else:
        raws = _from_code(text, fmt) or _paragraph_groups(lines)
        opening = "none"
    return _finish(lines, raws, fmt), opening, title


_FRONT_MATTER_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$")


def front_matter(lines: list[str]) -> tuple[int, str]:
    """How many rows a leading YAML (`---`) or TOML (`+++`) front matter block takes (a static site
    generator's metadata: Jekyll, Hugo, Docusaurus, Eleventy), and its `title`; (0, "") without one."""
    fence = lines[0].strip() if lines else ""
    if fence not in ("---", "+++"):
        return 0, ""
    ends = (fence, "...") if fence == "---" else (fence,)
    for k in range(1, min(len(lines), 200)):
        if lines[k].strip() in ends:
            fields = [m for line in lines[1:k] if (m := _FRONT_MATTER_FIELD.match(line))]
            if not fields:
                return 0, ""
            title = next((m[2] for m in fields if m[1].lower() == "title"), "")
            return k + 1, _clean_title(title.strip("'\"")) if title else ""
    return 0, ""


def _clean_title(title: str) -> str:
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # [text](url)
    title = re.sub(r"`([^`<]*?)\s*<[^>]*>`_{1,2}", r"\1", title)  # `text <url>`_
    title = re.sub(r"</?[A-Za-z][^>]*>", "", title)  # inline HTML
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


def _markdown_headings(lines: list[str], text: str) -> list[tuple[int, int, str]]:
    symbols = chunk_file(text, "markdown").symbols
    out = []
    for s in symbols:
        level = len(s.signature) - len(s.signature.lstrip("#"))
        out.append((s.start_line - 1, max(level, 1), s.name))
    return sorted(out)


_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")


def _rst_headings(lines: list[str], text: str = "") -> list[tuple[int, int, str]]:
    """Titles underlined (and optionally overlined) by a run of one punctuation character.

    Levels follow the order in which adornment styles first appear, as in docutils.
    """
    styles: list[tuple[str, bool]] = []
    out = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        over = _ADORNMENT.match(line)
        if (
            over
            and i + 2 < n
            and lines[i + 1].strip()
            and not _ADORNMENT.match(lines[i + 1])
            and lines[i + 2].strip()[:1] == over.group(1)
            and _ADORNMENT.match(lines[i + 2])
        ):
            style, title, row, i = (over.group(1), True), lines[i + 1].strip(), i, i + 3
        elif (
            line.strip()
            and not line[0].isspace()
            and not over
            and i + 1 < n
            and (i == 0 or not lines[i - 1].strip())
            and (under := _ADORNMENT.match(lines[i + 1]))
            and len(lines[i + 1].rstrip()) >= min(len(line.rstrip()), 4)
        ):
            style, title, row, i = (under.group(1), False), line.strip(), i, i + 2
        else:
            i += 1
            continue
        if style not in styles:
            styles.append(style)
        out.append((row, styles.index(style) + 1, title))
    return out


_ADOC_HEADING = re.compile(r"^(={1,6})\s+(\S.*?)(?:\s+=+)?\s*$")
_ADOC_DELIMITER = re.compile(r"^(?:-{4,}|\.{4,}|={4,}|\*{4,}|\+{4,}|/{4,}|_{4,}|```.*)\s*$")


def _asciidoc_headings(lines: list[str], text: str = "") -> list[tuple[int, int, str]]:
    out = []
    block: str | None = None  # the delimiter of the open block: headings inside it are content
    for row, line in enumerate(lines):
        if _ADOC_DELIMITER.match(line):
            marker = line.strip()[:3] if line.startswith("```") else line.strip()
            if block is None:
                block = marker
            elif block == marker:
                block = None
            continue
        if block is None and (m := _ADOC_HEADING.match(line)):
            out.append((row, len(m.group(1)), m.group(2)))
    return out


def _text_headings(lines: list[str], text: str = "") -> list[tuple[int, int, str]]:
    """Plain text often underlines its titles as reST does; two or more such titles are used."""
    found = _rst_headings(lines)
    return found if len(found) >= 2 else []


def _from_headings(
    lines: list[str], headings: list[tuple[int, int, str]], skip: int = 0, title: str = ""
) -> list[_Raw]:
    """Sections under headings, and the text before the first one (after `skip` rows of front
    matter, titled by `title` when it has one)."""
    raws: list[_Raw] = []
    first = headings[0][0]
    if _has_text(lines[skip:first]):
        raws.append(_Raw(skip, first - 1, (title or _first_line_title(lines[skip:first]),)))
    # A single top heading over everything (a README's `# Name`) is the document's title: the
    # sections below it are shown without it, one level up.
    single_root = not raws and _single_root(headings)
    top = headings[0][1]
    trail: list[tuple[int, str]] = []
    for i, (row, level, title) in enumerate(headings):
        if single_root and i > 0:
            level = max(level, top + 1)
        while trail and trail[-1][0] >= level:
            trail.pop()
        clean = _clean_title(title) or "(untitled)"
        level = _release_level(trail, clean, level)
        while trail and trail[-1][0] >= level:
            trail.pop()
        trail.append((level, clean))
        end = headings[i + 1][0] - 1 if i + 1 < len(headings) else len(lines) - 1
        path = tuple(t for _, t in trail)
        raws.append(_Raw(row, end, path[1:] if single_root and i > 0 else path))
    return raws


def _release_level(trail: list[tuple[int, str]], title: str, level: int) -> int:
    """The level of a heading once releases are made siblings: a release is never part of another
    release. Changelogs written by conventional-changelog head minor releases `#` and patches `##`,
    so axios' `## 1.5.1` sat under `# 1.6.0` and took its title path (and its words). A release under
    its own line (`2.0.1` under `Version 2.0`) stays nested."""
    if not (m := _RELEASE.match(title)):
        return level
    version = m.group(1)
    for depth, above in reversed(trail):
        if outer := _RELEASE.match(above):
            line = outer.group(1)
            return level if version.startswith(line + ".") else min(level, depth)
    return level


# A line that only shows images: a logo or badges above a README's title, not text before it.
_DECORATION = re.compile(
    r"^\s*(?:\|[^|\s][^|]*\||\[?!\[[^\]]*\]\([^)]*\)(?:\]\([^)]*\))?|<(?:img|picture|source|br)\b[^>]*>|\s)*$"
)


def _has_text(lines: list[str]) -> bool:
    return any(line.strip() and not _DECORATION.match(line) for line in lines)


def _single_root(headings: list[tuple[int, int, str]]) -> bool:
    top = min(level for _, level, _ in headings)
    return headings[0][1] == top and [level for _, level, _ in headings].count(top) == 1


def _first_line_title(lines: list[str]) -> str:
    for line in lines:
        title = _clean_title(line.strip().strip("#=*").strip())
        if title and any(ch.isalnum() for ch in title):
            return title
    return "(start)"


def _paragraph_groups(lines: list[str], start: int = 0) -> list[_Raw]:
    """Paragraphs from row `start` grouped into sections of about TEXT_SECTION_TOKENS; a short
    title-like line opens one."""
    blocks = _blocks(lines, start, len(lines) - 1, "text")
    costs = tokens.count_many(["\n".join(lines[a : b + 1]) for a, b in blocks])
    raws: list[_Raw] = []
    group: list[tuple[int, int]] = []
    spent = 0
    for (a, b), cost in zip(blocks, costs, strict=True):
        titled = a == b and len(lines[a].strip()) <= 60 and not lines[a].rstrip().endswith((".", ",", ";"))
        if group and (spent + cost > TEXT_SECTION_TOKENS or (titled and spent >= TEXT_SECTION_TOKENS // 4)):
            raws.append(_Raw(group[0][0], group[-1][1], (_first_line_title(lines[group[0][0] :]),)))
            group, spent = [], 0
        group.append((a, b))
        spent += cost
    if group:
        raws.append(_Raw(group[0][0], group[-1][1], (_first_line_title(lines[group[0][0] :]),)))
    return raws


def _from_code(text: str, language: str) -> list[_Raw]:
    fc = chunk_file(text, language)
    if not fc.parsed:
        return []
    raws = []
    for c in fc.chunks:
        if c.symbol:
            title = f"{c.kind} {c.symbol}"
            path = (*[p for p in c.parent.split(".") if p], title)
        else:
            path = (f"{c.kind} lines {c.start_line}-{c.end_line}",)
        raws.append(_Raw(c.start_line - 1, c.end_line - 1, path))
    return raws


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def _fence_after(line: str, fence: str | None) -> str | None:
    """The Markdown code fence open after `line` (its marker), given the one open before it."""
    if m := _FENCE.match(line):
        mark = m.group(1)[0] * 3
        return mark if fence is None else (None if fence == mark else fence)
    return fence


def _blocks(lines: list[str], a: int, b: int, fmt: str) -> list[tuple[int, int]]:
    """Paragraphs of rows a..b: runs of non-blank lines; blank lines inside code fences do not split."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    fence: str | None = None
    for i in range(a, b + 1):
        line = lines[i]
        if fmt == "markdown":
            fence = _fence_after(line, fence)
        elif fmt == "asciidoc" and _ADOC_DELIMITER.match(line) and line.strip()[:1] in "-.":
            fence = line.strip() if fence is None else (None if fence == line.strip() else fence)
        if not line.strip() and fence is None:
            if start is not None:
                out.append((start, i - 1))
                start = None
        elif start is None:
            start = i
    if start is not None:
        out.append((start, b))
    return out


def _finish(lines: list[str], raws: list[_Raw], fmt: str) -> list[Section]:
    """Trim blank edges, split long sections into parts, number them and count their tokens."""
    spans: list[tuple[int, int, tuple[str, ...], tuple[int, int] | None]] = []
    for r in raws:
        a, b = r.start, r.end
        while a < b and not lines[a].strip():
            a += 1
        while b > a and not lines[b].strip():
            b -= 1
        if a > b or not any(lines[i].strip() for i in range(a, b + 1)):
            continue
        parts = _parts(lines, a, b, fmt)
        for k, (x, y) in enumerate(parts, start=1):
            spans.append((x, y, r.path, (k, len(parts)) if len(parts) > 1 else None))
    texts = ["\n".join(lines[a : b + 1]) for a, b, _, _ in spans]
    counts = tokens.count_many(texts)
    return [
        Section(
            id=f"s{i}",
            title=path[-1],
            path=path,
            level=len(path),
            start_line=a + 1,
            end_line=b + 1,
            text=text,
            tokens=count,
            part=part,
        )
        for i, ((a, b, path, part), text, count) in enumerate(zip(spans, texts, counts, strict=True), start=1)
    ]


def _parts(lines: list[str], a: int, b: int, fmt: str) -> list[tuple[int, int]]:
    total = tokens.count("\n".join(lines[a : b + 1]))
    if total <= MAX_SECTION_TOKENS:
        return [(a, b)]
    units: list[tuple[int, int]] = []
    for x, y in _blocks(lines, a, b, fmt):
        if tokens.count("\n".join(lines[x : y + 1])) <= PART_TOKENS:
            units.append((x, y))
        else:  # one huge paragraph or code block: whole lines
            units.extend((r, r) for r in range(x, y + 1))
    costs = tokens.count_many(["\n".join(lines[x : y + 1]) for x, y in units])
    parts: list[tuple[int, int]] = []
    start, spent = units[0][0], 0
    for (x, _), cost in zip(units, costs, strict=True):
        if spent and spent + cost > PART_TOKENS:
            parts.append((start, x - 1))
            start, spent = x, 0
        spent += cost + 1
    parts.append((start, b))
    return [(x, y) for x, y in parts if x <= y]


def _units(lines: list[str], fmt: str) -> list[tuple[int, int, int | None]]:
    """A section's rows split finer than paragraphs: (first, last, header) per unit, where a list
    item (with the indented paragraphs and code under it) and a table row are units of their own,
    and `header` is the unit index of the table header a row belongs to."""
    units: list[tuple[int, int, int | None]] = []
    item_indent: int | None = None  # indentation of the list item the last unit is
    for a, b in _blocks(lines, 0, len(lines) - 1, fmt):
        first = lines[a]
        if item_indent is not None and _indent(first) > item_indent and units:
            start, _, head = units[-1]
            units[-1] = (start, b, head)  # a paragraph or code under a list item belongs to it
            continue
        item_indent = None
        if b > a and first.lstrip().startswith("|") and _TABLE_RULE.match(lines[a + 1]):
            header = len(units)
            units.append((a, a + 1, None))
            units.extend((r, r, header) for r in range(a + 2, b + 1))
        elif bullets := [r for r in range(a, b + 1) if _BULLET.match(lines[r])]:
            # A list, or the end of one a split section's part starts within (its first lines the
            # rest of an item): each item from its bullet on.
            base = _indent(lines[bullets[0]])
            start = a
            for r in bullets:
                if r > start and _indent(lines[r]) == base:
                    units.append((start, r - 1, None))
                    start = r
            units.append((start, b, None))
            item_indent = base
        else:
            units.append((a, b, None))
    return units


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
