"""Vectors for chunks and questions, from a GGUF model run by llama.cpp in its embedding mode.

The same engine and the same model files as the chat models: a dedicated embedding
GGUF when models.toml names one in ``[documents] embedding_model``, else the first
local model with mean pooling (weaker than a trained embedder, but real and already
on disk). Vectors are L2-normalised, so cosine distance is what the index compares.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.core.config.schema import LocalModel
from app.core.errors import ModelLoadError
from app.core.providers.llama_backends import ensure_loaded as ensure_backends_loaded

Pooling = Literal["mean", "cls", "last"]
EMBED_CTX = 512  # tokens of one chunk that count: chunks are about 300


class Embedder:
    def __init__(self, model_id: str, config: LocalModel, model_file: Callable[[], Path], pooling: Pooling = "mean"):
        self.model_id = model_id
        self.config = config
        self.pooling = pooling
        self._model_file = model_file
        self._lock = threading.Lock()  # one llama.cpp context serves one batch at a time
        self._llm: Any = None

    @property
    def name(self) -> str:
        """What the index records with its vectors: a different model means they are computed again."""
        return f"{self.model_id}:{self.pooling}"

    def _load(self) -> Any:
        if self._llm is not None:
            return self._llm
        path = self._model_file()
        ensure_backends_loaded()
        import llama_cpp

        pooling = {
            "mean": llama_cpp.LLAMA_POOLING_TYPE_MEAN,
            "cls": llama_cpp.LLAMA_POOLING_TYPE_CLS,
            "last": llama_cpp.LLAMA_POOLING_TYPE_LAST,
        }[self.pooling]
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                embedding=True,
                pooling_type=pooling,
                n_ctx=EMBED_CTX,
                n_batch=EMBED_CTX,
                n_ubatch=EMBED_CTX,
                n_threads=self.config.thread_count(),
                n_threads_batch=self.config.thread_count(),  # its default, every core, stalls a busy machine
                n_gpu_layers=self.config.gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {path} to compute document vectors ({exc}). "
                "Choose another [documents] embedding_model in models.toml, or delete the file to fetch it again."
            ) from None
        return self._llm

    @property
    def dimensions(self) -> int:
        with self._lock:
            return int(self._load().n_embd())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised float32 row per text (each cut to the first EMBED_CTX tokens)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            rows = self._load().embed([text or " " for text in texts], normalize=False, truncate=True)
        matrix = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
