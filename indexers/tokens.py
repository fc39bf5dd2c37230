"""Offline token counting with OpenAI's o200k_base encoding (shipped with the package).

No offline tokenizer exists for Claude; o200k_base is the closest public one. Claude models count
roughly 1.15-1.2x (Claude <= 4.6) to 1.5x (Opus 4.7+) the o200k tokens on code and English, so
every count here is labelled an o200k estimate.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

ENCODING = "o200k_base"
_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# Pre-tokenisation pattern of o200k_base, as in tiktoken_ext/openai_public.py (MIT).
_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_lock = threading.Lock()
_loaded: list[tiktoken.Encoding] = []


def _encoding() -> tiktoken.Encoding:
    """The encoding, built once per process even when many threads ask at the same moment."""
    if not _loaded:
        with _lock:
            if not _loaded:
                _loaded.append(_build())
    return _loaded[0]


def _build() -> tiktoken.Encoding:
    import tiktoken  # imported lazily: ~0.4 s to build the ranks, not wanted at server start

    raw = gzip.decompress(resources.files(__package__).joinpath("data/o200k_base.tiktoken.gz").read_bytes())
    if hashlib.sha256(raw).hexdigest() != _SHA256:
        raise RuntimeError("the packaged o200k_base encoding is corrupt: reinstall tokenlean")
    ranks = {base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in raw.splitlines())}
    return tiktoken.Encoding(
        ENCODING, pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 199999}
    )


def count(text: str) -> int:
    """Number of o200k_base tokens in `text` (special-token text is counted as plain text)."""
    if not text:
        return 0
    return len(_encoding().encode_ordinary(text))


def count_many(texts: list[str]) -> list[int]:
    """Token counts for several texts at once (uses tiktoken's thread pool)."""
    if not texts:
        return []
    enc = _encoding()
    if sum(map(len, texts)) < 200_000:  # the batch API starts a thread pool per call: slower when small
        return [len(enc.encode_ordinary(t)) if t else 0 for t in texts]
    return [len(t) for t in enc.encode_ordinary_batch(texts, num_threads=2)]


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` with at most `max_tokens` tokens (may cut mid-line)."""
    tokens = _encoding().encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return text
    return _encoding().decode(tokens[:max_tokens])
