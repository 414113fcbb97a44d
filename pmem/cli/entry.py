"""The ``pmem`` executable's first lines: start once more with small freed blocks scrubbed, then run the app.

Forgetting must reach every file, and Chroma writes index buffers to disk with whatever bytes the allocator handed
it (pmem/core/heap.py). glibc's per-thread cache can only be switched off at process start, so this runs
before anything heavy is imported: a restart costs one bare interpreter start-up (~0.06 s here), not pmem's.
"""

from __future__ import annotations

import os
import sys

_NO_STORE = frozenset({"-h", "--help", "-V", "--version"})
"""Options that print and exit before any store opens: not worth a restart."""


def main() -> None:
    if not _NO_STORE.intersection(sys.argv[1:]):
        _restart_with_small_blocks_scrubbed()
    from pmem.cli.main import main as run

    run()


def _restart_with_small_blocks_scrubbed() -> None:
    from pmem.core.heap import restart_environment

    env = restart_environment(os.environ)
    argv = getattr(sys, "orig_argv", None)
    if env is None or not argv or not sys.executable:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *argv[1:]], env)
    except OSError:
        return  # run with large blocks scrubbed only, rather than not at all
