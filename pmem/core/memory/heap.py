"""Freed memory is overwritten before it is handed out again, so no file can carry old words in its padding.

Chroma's HNSW index (chroma-core/hnswlib, as of chromadb 1.5.9) allocates its buffers with ``malloc`` at full
capacity and writes them to ``data_level0.bin`` and ``length.bin`` whole, including the slots no vector uses yet.
Those slots hold whatever the process freed there before: text of the user's turns, a forgotten one included
(https://github.com/chroma-core/chroma/issues/7688). Measured here: a marker freed before a write was found in
``data_level0.bin`` in 3 of 4 fresh processes, and a full test run once found a forgotten turn's word there.
Forgetting must reach every file, so pmem asks glibc to fill each allocation with a constant byte and each freed
block with another (``mallopt(M_PERTURB)``). Cost, same machine and hour: generation 116 vs 114 tokens/s, import
and search within noise (bench/README.md, "Forgetting and freed memory").

Not covered: glibc's per-thread cache of small blocks (up to 1,032 bytes) bypasses the fill, so a buffer that
small (``length.bin`` while a collection holds fewer than 259 vectors) can still be handed recycled bytes; that
needs ``GLIBC_TUNABLES=glibc.malloc.tcache_count=0`` at process start. Elsewhere than glibc the call does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

_M_PERTURB = -6
"""glibc's mallopt parameter: allocations are filled with ~byte, freed blocks with byte."""
_BYTE = 0xA5

_lock = threading.Lock()
_state: bool | None = None


def scrub_reused_memory() -> bool:
    """Turn on the filling of allocated and freed memory for this process (once); whether it is on."""
    global _state
    with _lock:
        if _state is None:
            _state = _mallopt_perturb()
        return _state


def _mallopt_perturb() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl has no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_PERTURB, _BYTE))
