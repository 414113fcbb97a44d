"""Freed memory is overwritten before it is handed out again, so no file can carry old words in its padding.

Chroma's HNSW index (chroma-core/hnswlib, as of chromadb 1.5.9) allocates its buffers with ``malloc`` at full
capacity and writes them to ``data_level0.bin`` and ``length.bin`` whole, including the slots no vector uses yet.
Those slots hold whatever the process freed there before: text of the user's turns, a forgotten one included
(https://github.com/chroma-core/chroma/issues/7688). Measured here: a marker freed before a write was found in
``data_level0.bin`` in 3 of 4 fresh processes, and a full test run once found a forgotten turn's word there.
Forgetting must reach every file, so pmem asks glibc to fill each allocation with a constant byte and each freed
block with another (``mallopt(M_PERTURB)``). Cost, same machine and hour: generation 116 vs 114 tokens/s, import
and search within noise (bench/README.md, "Forgetting and freed memory").

glibc's per-thread cache of small blocks (up to 1,032 bytes) bypasses that fill: a buffer that small
(``length.bin`` while a collection holds fewer than 259 vectors) could still be handed recycled bytes. The cache
can only be turned off when a process starts (``GLIBC_TUNABLES=glibc.malloc.tcache_count=0``), so the ``pmem``
command starts itself once more with it (``pmem/cli/entry.py``, using :func:`restart_environment`). Code that
imports pmem as a library gets the fill, not the cache switch. Elsewhere than glibc none of this applies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Mapping

_M_PERTURB = -6
"""glibc's mallopt parameter: allocations are filled with ~byte, freed blocks with byte."""
_BYTE = 0xA5

TCACHE_OFF = "glibc.malloc.tcache_count=0"
"""The glibc tunable that turns the per-thread cache off; glibc reads it once, at process start."""
_RESTARTED = "_PMEM_RESTARTED"
"""Set in the restarted process, so it never restarts again (glibc may drop GLIBC_TUNABLES, e.g. for setuid)."""

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


def glibc() -> bool:
    """Whether this process runs on glibc, whose allocator the switches here are for."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):
        return False


def _tunables(environ: Mapping[str, str]) -> list[str]:
    return [t for t in environ.get("GLIBC_TUNABLES", "").split(":") if t]


def small_blocks_scrubbed(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process started with glibc's per-thread cache off, so small freed blocks are filled too."""
    return glibc() and TCACHE_OFF in _tunables(environ)


def restart_environment(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The environment to start this process again with, so small blocks are filled too; None if not needed.

    None on other C libraries, in a process already restarted, and where the user set the cache size themselves.
    """
    tunables = _tunables(environ)
    if not glibc() or environ.get(_RESTARTED) or any(t.startswith("glibc.malloc.tcache_count=") for t in tunables):
        return None
    return {**environ, "GLIBC_TUNABLES": ":".join([*tunables, TCACHE_OFF]), _RESTARTED: "1"}
