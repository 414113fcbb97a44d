"""pmem's retrieval tuning of the packaged all-MiniLM-L6-v2: a low-rank change to its weights, shipped as a small
file and merged into a copy of the model once, in the cache dir.

Why: a general-purpose sentence embedder places a question far from the turn that answers it ("What pets does Ana
have?" vs "Luna chewed my shoes again"). Taught on question -> evidence-turn pairs (LoCoMo conversations 0-4,
``bench/locomo_embedder_tuning.py``; never on anything pmem stores), the same small model finds the evidence far
more often on conversations it never saw (bench/README.md). The change is LoRA-shaped (``W += scale * B @ A`` for
the attention and feed-forward matrices), so it ships in about a megabyte instead of a second 90 MB model, and the
merged copy is an ordinary sentence-transformers directory: the ONNX export, int8 and the fallback all take it as
they take the original. Merging needs NumPy and safetensors only, no PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pmem.core.errors import ModelError

PACKAGED = Path(__file__).with_name("embedder_tuning_minilm.npz")
"""The tuning of the packaged all-MiniLM-L6-v2: for each changed matrix ``NAME.A`` (rank x in) and ``NAME.B``
(out x rank) in float16, ``scale``, and a JSON ``about`` string (what it was trained on, by which script)."""

WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class Tuning:
    pairs: dict[str, tuple[np.ndarray, np.ndarray]]
    """Weight name -> (A, B), float32."""
    scale: float
    about: dict
    digest: str
    """Of the file's bytes: the merged copy's directory is named by it, so a new tuning is merged beside the old."""

    @property
    def tag(self) -> str:
        """What an index records it was built with (beside the embedder's name and precision)."""
        return f"tuned-{self.digest[:8]}"

    @classmethod
    def load(cls, path: Path) -> Tuning:
        try:
            raw = path.read_bytes()
            with np.load(path, allow_pickle=False) as data:
                names = sorted({k.rsplit(".", 1)[0] for k in data.files if k.endswith((".A", ".B"))})
                pairs = {n: (np.asarray(data[f"{n}.A"], np.float32), np.asarray(data[f"{n}.B"], np.float32)) for n in names}
                scale = float(data["scale"])
                about = json.loads(str(data["about"]))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ModelError(f"cannot read the embedder tuning {path}: {exc}") from None
        for name, (a, b) in pairs.items():
            if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
                raise ModelError(f"the embedder tuning {path} has mismatched factors for {name}: {a.shape} and {b.shape}")
        return cls(pairs, scale, about, hashlib.sha256(raw).hexdigest())

    def save(self, path: Path) -> None:
        arrays = {f"{n}.{part}": m.astype(np.float16) for n, (a, b) in self.pairs.items() for part, m in (("A", a), ("B", b))}
        np.savez(path, scale=np.float32(self.scale), about=np.array(json.dumps(self.about, sort_keys=True)), **arrays)

    def merged(self, base: Path, root: Path) -> Path:
        """A copy of the model at ``base`` with this tuning merged into its weights, made once under ``root``
        (written to a temporary dir and renamed into place, so a crash or a second process never leaves half of one)."""
        target = root / f"{base.parent.name}.{base.name}+{self.tag}"
        if (target / WEIGHTS).is_file():
            return target
        from safetensors.numpy import load_file, save_file

        try:
            weights = load_file(str(base / WEIGHTS))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read the embedder's weights {base / WEIGHTS}: {exc}") from None
        for name, (a, b) in self.pairs.items():
            key = f"{name}.weight"
            if key not in weights or weights[key].shape != (b.shape[0], a.shape[1]):
                raise ModelError(f"the embedder tuning does not fit the model at {base}: no {key} of shape {(b.shape[0], a.shape[1])}")
            weights[key] = (weights[key] + self.scale * (b @ a)).astype(weights[key].dtype)
        root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".tuning-", dir=root))
        try:
            shutil.copytree(base, scratch / "model", ignore=shutil.ignore_patterns(WEIGHTS, "*.onnx", ".git*"))
            save_file(weights, str(scratch / "model" / WEIGHTS), metadata={"format": "pt"})
            (scratch / "model" / "pmem_tuning.json").write_text(json.dumps(self.about, indent=1, sort_keys=True))
            try:
                os.replace(scratch / "model", target)
            except OSError:
                if not (target / WEIGHTS).is_file():  # not a second process that got there first
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return target


@lru_cache(maxsize=1)
def packaged() -> Tuning:
    return Tuning.load(PACKAGED)
