"""Importing chromadb without paying for a development-time check on every start.

chromadb marks its methods with the ``overrides`` package's ``@override``, which checks each overriding
method's signature against its base class while the class is built: ~160 checks, 0.4 s of every process
that opens the vector store (a cold ``pmem memory search`` took 1.3 s at 10k memories, 0.9 s without them).
They can only fail on a chromadb bug, which its own test suite catches; pmem's tests run chromadb for real.
So the decorator only marks the method, as it does once the checks pass.
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from types import ModuleType
from typing import Any


def _mark_only(method: Any, check_signature: bool = True, check_at_runtime: bool = False) -> Any:
    method.__override__ = True
    return method


@lru_cache(maxsize=1)
def import_chromadb() -> ModuleType:
    if "chromadb" not in sys.modules:
        try:
            decorator_module = importlib.import_module("overrides.overrides")
        except ImportError:  # a chromadb that no longer uses ``overrides``
            pass
        else:
            original = decorator_module._overrides
            decorator_module._overrides = _mark_only
            try:
                import chromadb
            finally:
                decorator_module._overrides = original
    import chromadb

    return chromadb
