"""What a slice or a fetch returns, before it is put in text form."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Piece:
    """A section as returned: its text after guarding, whole or trimmed at paragraph boundaries."""

    id: str
    title_path: str
    level: int
    start_line: int
    end_line: int
    text: str
    tokens: int  # of `text`
    section_tokens: int  # of the whole section
    complete: bool
    score: float = 0.0
    notes: list[str] = field(default_factory=list)  # redactions and injection warnings


@dataclass
class Summary:
    title: str
    gist: str
    outline: list[str]


@dataclass
class RoleSlice:
    role: str
    pieces: list[Piece]  # in document order
    omitted: list[str]  # ids of relevant sections that did not fit, best first
    relevant: int  # sections judged relevant
    budget: int
    tokens: int = 0  # of this role's block in the text form


@dataclass
class SliceResult:
    name: str
    format: str
    sections: int
    document_tokens: int
    summary: Summary | None
    roles: list[RoleSlice]
    budget: int
    tokens: int = 0  # of the text form
    whole: bool = False  # the document shown whole: a slice of it would have cost more
    text: str = ""  # the text form as last rendered (`slice_text`), so that a caller need not render it again


@dataclass
class FetchResult:
    name: str
    sections: int
    document_tokens: int
    pieces: list[Piece]
    not_fetched: list[str]  # asked for but over budget
    budget: int
    tokens: int = 0
    text: str = ""  # the text form as last rendered (`fetch_text`)
