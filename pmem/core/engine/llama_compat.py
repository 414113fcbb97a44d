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
routes llama.cpp's log through its own callback instead (``route_llama_logs``), so the redirect is turned off.
"""

from __future__ import annotations

import collections
import ctypes
import threading
from functools import lru_cache
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any


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


_LOG_LOCK = threading.Lock()
_RECENT_ERRORS: collections.deque[str] = collections.deque(maxlen=8)
_LOG_CALLBACK: Any = None  # kept alive for as long as llama.cpp may call it


def route_llama_logs(*, fresh: bool = False) -> None:
    """Route llama.cpp's own log lines away from the terminal, keeping recent errors for messages (``fresh``: the
    errors kept so far are dropped, before a load whose own errors a message will quote)."""
    global _LOG_CALLBACK
    if fresh:
        _RECENT_ERRORS.clear()
    if _LOG_CALLBACK is not None:
        return
    llama_cpp = import_llama_cpp()

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        if level in (2, 3):  # warn, error
            line = text.decode("utf-8", "replace").strip()
            if line:
                _RECENT_ERRORS.append(line)

    with _LOG_LOCK:
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
        _LOG_CALLBACK = _callback


def last_llama_error() -> str:
    """The last error llama.cpp logged, for a one-line message (its own prefix dropped)."""
    for line in reversed(_RECENT_ERRORS):
        if "error" in line.lower() or "unknown" in line.lower() or "failed" in line.lower():
            return line.split(": ", 1)[-1] if line.count(": ") else line
    return ""
