"""The short catalog of chat models ``pmem models pull`` knows by name, and the one it recommends for this computer.

Package data (``models_data/catalog.json``), so that the names, pinned revisions and checksums are reviewed with
the code and never fetched. Recommending reads RAM and cores only: no network, no model loaded."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOG_FILE = Path(__file__).with_name("models_data") / "catalog.json"

SPARE_FRACTION = 0.5
"""A model is recommended only if a chat needs at most this share of the RAM: the rest stays for the system, the
browser and the editor the user also runs."""
BUFFERS_GB = 0.3
"""llama.cpp's compute buffers and pmem's own stores, beside the weights and the KV cache."""


@dataclass(frozen=True)
class CatalogModel:
    name: str
    repo: str
    revision: str
    file: str
    size_gb: float
    sha256: str
    licence: str
    template: str
    params: str
    tier: int
    min_cores: int
    preferred: bool

    @property
    def ram_gb(self) -> float:
        """Memory a chat needs: the weights, the KV cache of pmem's automatic context (at most the weights' size
        and 1 GiB: ``models.context_size``), and buffers."""
        return round(self.size_gb + min(self.size_gb, 1.0) + BUFFERS_GB, 1)

    def fits(self, ram_bytes: int | None, cores: int | None) -> bool:
        enough_ram = ram_bytes is None or self.ram_gb * 1e9 <= ram_bytes * SPARE_FRACTION
        enough_cores = cores is None or cores >= self.min_cores
        return enough_ram and enough_cores


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogModel, ...]:
    data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return tuple(CatalogModel(**entry) for entry in data["models"])


def lookup(name: str) -> CatalogModel | None:
    wanted = name.strip().lower()
    return next((m for m in catalog() if m.name == wanted), None)


def machine() -> tuple[int | None, int | None]:
    """This computer's RAM in bytes and its CPU cores (None where the system does not say)."""
    from pmem.core.models import _ram_bytes

    return _ram_bytes(), os.cpu_count()


def recommend(ram_bytes: int | None, cores: int | None) -> CatalogModel | None:
    """The largest tier that fits with room to spare, its preferred entry first; None when even the smallest
    does not fit (the embedded model is then the right one)."""
    fitting = [m for m in catalog() if m.fits(ram_bytes, cores)]
    return max(fitting, key=lambda m: (m.tier, m.preferred, -m.size_gb), default=None)
