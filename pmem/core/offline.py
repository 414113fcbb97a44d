"""Network and telemetry switches, set once before any library that could phone home is imported.

pmem never talks to the network at run time. These variables make the Hugging Face stack,
sentence-transformers, tokenizers and Chroma refuse to try, so a missing local file fails
fast instead of silently downloading or hanging on a firewall.

ONNX Runtime (1.29 and later, on Linux and macOS too) starts a telemetry uploader when its environment is made,
which looked up ``mobile.events.data.microsoft.com`` from pmem's embedder threads whenever the process lived long
enough for that thread to run (on a busy machine: always). Its opt-out is an environment variable read once, when
the library initialises, so it must be set here, before anything imports ``onnxruntime``; ``import_onnxruntime``
also switches its runtime events off, for a library built before the variable existed.
"""

from __future__ import annotations

import os
from typing import Any

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    # ONNX Runtime's 1DS telemetry (the name is in libonnxruntime.so 1.32; read once, when the library starts).
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "GGML_NO_BACKTRACE": "1",
    # Quiet: pmem draws its own progress with Rich; library progress bars would corrupt the TUI.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TQDM_DISABLE": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}

TELEMETRY_SWITCHES: tuple[tuple[str, str], ...] = (
    ("HF hub", "HF_HUB_DISABLE_TELEMETRY"),
    ("transformers", "TRANSFORMERS_OFFLINE"),
    ("Chroma", "ANONYMIZED_TELEMETRY"),
    ("ONNX Runtime", "ORT_DISABLE_TELEMETRY"),
)
"""(what, the variable that silences it): what ``pmem doctor`` reports."""

os.environ.update(OFFLINE_ENV)


def telemetry_off() -> list[str]:
    """The libraries whose telemetry switch is set in this process (``pmem doctor``'s network row)."""
    return [what for what, name in TELEMETRY_SWITCHES if os.environ.get(name) == OFFLINE_ENV[name]]


def import_onnxruntime() -> Any:
    """``onnxruntime``, imported with its telemetry off: the one way pmem imports it."""
    os.environ["ORT_DISABLE_TELEMETRY"] = OFFLINE_ENV["ORT_DISABLE_TELEMETRY"]
    import onnxruntime

    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    return onnxruntime
