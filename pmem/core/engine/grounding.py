"""The grounding adapter: a LoRA that teaches the embedded SmolLM2-135M-Instruct to answer from pmem's prompt.

Told "I have a border collie called Pepper", the bare 135M model answered "What is my dog's name?" with an invented
name, though the fact was in its prompt. The adapter shipped here (made by ``bench/grounding_adapter.py`` from
synthetic users and public LoCoMo conversations, no user data) teaches it to use the profile block and the
memories, and to say it does not know when they do not hold the answer. It was trained for one file only: it is
applied when the chat model's fingerprint is the one it records, beneath the user's own distilled adapter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GROUNDING_DIR = Path(__file__).resolve().parent / "grounding"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Grounding:
    path: Path
    scale: float
    base_fingerprint: str


def shipped() -> Grounding | None:
    """The adapter that ships with pmem, if its files are whole."""
    try:
        manifest = json.loads((GROUNDING_DIR / MANIFEST).read_text())
        path = GROUNDING_DIR / manifest["file"]
        if not path.is_file():
            return None
        return Grounding(path, float(manifest.get("scale", 1.0)), str(manifest["base_fingerprint"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def grounding_for(model_path: Path) -> Grounding | None:
    """The grounding adapter to apply on ``model_path``: only on the exact file it was trained for."""
    from pmem.core.models import model_fingerprint

    adapter = shipped()
    if adapter is None:
        return None
    try:
        return adapter if model_fingerprint(model_path) == adapter.base_fingerprint else None
    except OSError:
        return None
