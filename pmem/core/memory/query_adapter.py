"""A learned linear map from a question's vector to the vectors of the turns that answer it.

Questions and the sentences that answer them do not look alike ("What pets does Ana have?" vs "Luna chewed my
shoes again"), and a small general-purpose embedder places them further apart than it places two questions.
The adapter is ``q -> normalise(q + q @ delta)``, applied to the query only: stored vectors stay as they are (no
reindex), it costs one 384 x 384 product per search, and it holds no user data (it was trained on LoCoMo
conversations 0-4, never on what pmem stores; ``bench/locomo_query_adapter.py`` trains it and reads it on 5-9).
It fits one embedder, the all-MiniLM-L6-v2 that ships with pmem, as shipped: a configured embedder gets none, and
the tuned one (``tuning.py``, the default since it recalls more) needs none; it serves indexes built before it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pmem.core.errors import ModelError

PACKAGED = Path(__file__).with_name("query_adapter_minilm.npz")
"""The adapter for the packaged all-MiniLM-L6-v2 (float16 ``delta`` and a JSON ``about`` string)."""


@dataclass(frozen=True)
class QueryAdapter:
    delta: np.ndarray
    """(d, d) float32: what the map adds to the identity."""
    about: dict

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        out = vector + vector @ self.delta
        return (out / max(float(np.linalg.norm(out)), 1e-12)).astype(np.float32)

    @property
    def dimension(self) -> int:
        return int(self.delta.shape[0])

    def save(self, path: Path) -> None:
        np.savez(path, delta=self.delta.astype(np.float16), about=np.array(json.dumps(self.about, sort_keys=True)))

    @classmethod
    def load(cls, path: Path) -> QueryAdapter:
        try:
            with np.load(path, allow_pickle=False) as data:
                delta = np.asarray(data["delta"], dtype=np.float32)
                about = json.loads(str(data["about"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot read the query adapter {path}: {exc}") from None
        if delta.ndim != 2 or delta.shape[0] != delta.shape[1]:
            raise ModelError(f"the query adapter {path} is not a square matrix (shape {delta.shape})")
        return cls(delta, about)


@lru_cache(maxsize=1)
def packaged() -> QueryAdapter:
    return QueryAdapter.load(PACKAGED)


def query_adapter_for(settings: Any) -> QueryAdapter | None:
    """The adapter for the configured embedder: the packaged one for the packaged embedder, unless turned off."""
    if not settings.memory.query_adapter or settings.embedder.path:
        return None
    return packaged()
