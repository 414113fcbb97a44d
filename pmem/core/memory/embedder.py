"""Sentence embeddings with sentence-transformers, loaded from a local directory (never from a hub)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pmem.core.errors import ModelError


class Embedder:
    """A lazily loaded sentence-transformers model; thread-safe, CPU by default."""

    def __init__(self, name: str, path: Path, *, device: str = "cpu", threads: int | None = None) -> None:
        self.name = name
        self.path = Path(path)
        self.device = device
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch

                if self.threads:
                    torch.set_num_threads(self.threads)
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ModelError(f"cannot load the embedder from {self.path}: {exc}") from None
            return self._model

    @property
    def dimension(self) -> int:
        model = self.load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self.load()
        with self._lock:
            vectors = model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)
