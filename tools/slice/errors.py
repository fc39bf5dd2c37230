"""What the slicer raises on input it cannot honour."""

from __future__ import annotations

from tokenlean.indexers.errors import TokenleanError


class BadSlice(TokenleanError):
    """A slice or fetch that cannot be honoured."""


class EmptyDocument(BadSlice):
    """The document has no text to slice."""


class UnknownSection(BadSlice):
    """A section id that the document does not have."""
