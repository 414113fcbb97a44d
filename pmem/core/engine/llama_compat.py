"""Importing llama-cpp-python with pmem's guard for a known llama.cpp crash.

On CPUs with AMX (Intel Sapphire Rapids and later), a llama.cpp built with ``-march=native`` puts quantized
weights in its AMX "extra" buffer type, and its AMX matrix multiply segfaults on them (llama.cpp issue
#20824, open; seen here with SmolLM2's Q4_1 weights on the first decode). Extra buffer types only repack
weights for speed, so on such a CPU every model pmem (or its tests and benchmarks) loads goes without them.
On other CPUs nothing changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import ModuleType


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return "amx_int8" in line.split(":", 1)[-1].split()
    return False


@lru_cache(maxsize=1)
def import_llama_cpp() -> ModuleType:
    """``llama_cpp``, with the default model parameters made safe for this CPU (once per process)."""
    import llama_cpp
    import llama_cpp.llama_cpp as bindings

    if cpu_has_amx():
        default = bindings.llama_model_default_params

        def safe_default_params():  # type: ignore[no-untyped-def]
            params = default()
            params.use_extra_bufts = False
            return params

        bindings.llama_model_default_params = safe_default_params
        llama_cpp.llama_model_default_params = safe_default_params
    return llama_cpp
