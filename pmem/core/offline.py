"""Network and telemetry switches, set once before any library that could phone home is imported.

pmem never talks to the network at run time. These variables make the Hugging Face stack,
sentence-transformers, tokenizers and Chroma refuse to try, so a missing local file fails
fast instead of silently downloading or hanging on a firewall.
"""

from __future__ import annotations

import os

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "GGML_NO_BACKTRACE": "1",
    # Quiet: pmem draws its own progress with Rich; library progress bars would corrupt the TUI.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TQDM_DISABLE": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}

os.environ.update(OFFLINE_ENV)
