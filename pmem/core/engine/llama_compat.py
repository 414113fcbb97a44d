"""Importing llama-cpp-python with pmem's guard for a known llama.cpp crash.

On CPUs with AMX (Intel Sapphire Rapids and later), a llama.cpp built with ``-march=native`` puts quantized
weights in its AMX "extra" buffer type, and its AMX matrix multiply segfaults on them (llama.cpp issue
#20824, open; seen here with SmolLM2's Q4_1 weights on the first decode). Extra buffer types only repack
weights for speed, so on such a CPU every model pmem (or its tests and benchmarks) loads goes without them.
On other CPUs nothing changes.

llama-cpp-python also silences llama.cpp while a model loads by pointing file descriptors 1 and 2 at
/dev/null and back. That is process-wide and not thread-safe: pmem loads its extraction model on a
background thread while the main thread prints a reply, so the reply went to /dev/null, and two loads
at once (switching model while the profile learns) left stdout pointing at /dev/null for good. pmem
routes llama.cpp's log through its own callback instead (``engine.llama``), so the redirect is turned off.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import ModuleType, TracebackType


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return "amx_int8" in line.split(":", 1)[-1].split()
    return False


class _KeepStreams:
    """Stands in for ``llama_cpp._utils.suppress_stdout_stderr``: leaves stdout and stderr where they are."""

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable

    def __enter__(self) -> _KeepStreams:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        return None


@lru_cache(maxsize=1)
def import_llama_cpp() -> ModuleType:
    """``llama_cpp``, with the default model parameters made safe for this CPU and its stream redirect
    turned off (once per process)."""
    import llama_cpp
    import llama_cpp._internals as internals
    import llama_cpp.llama as llama_module
    import llama_cpp.llama_cpp as bindings

    for module in (llama_module, internals):
        if hasattr(module, "suppress_stdout_stderr"):
            module.suppress_stdout_stderr = _KeepStreams  # type: ignore[attr-defined]

    if cpu_has_amx():
        default = bindings.llama_model_default_params

        def safe_default_params():  # type: ignore[no-untyped-def]
            params = default()
            params.use_extra_bufts = False
            return params

        bindings.llama_model_default_params = safe_default_params
        llama_cpp.llama_model_default_params = safe_default_params
    return llama_cpp
