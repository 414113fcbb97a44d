"""Importing chromadb without paying for what a local, offline store never uses.

- chromadb marks its methods with the ``overrides`` package's ``@override``, which checks each overriding
  method's signature against its base class while the class is built: ~160 checks, 0.4 s of every process
  that opens the vector store (a cold ``pmem memory search`` took 1.3 s at 10k memories, 0.9 s without them).
  They can only fail on a chromadb bug, which its own test suite catches; pmem's tests run chromadb for real.
  So the decorator only marks the method, as it does once the checks pass.
- chromadb's tracing module imports OpenTelemetry's gRPC span exporter at import time, and with it gRPC: 21 MB
  of every chat's memory and 50 ms of its start, for an exporter that runs only when a collector endpoint is
  configured, which pmem never does (it sends nothing anywhere). While chromadb is imported, that one module is
  a stand-in whose exporter refuses to be built; the real module is importable again afterwards.
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


_OTLP_GRPC = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"


class _NoExporter:
    """Stands in for OpenTelemetry's gRPC span exporter in chromadb: pmem configures no collector."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("pmem sends no telemetry: chromadb's OpenTelemetry exporter is not available")


@lru_cache(maxsize=1)
def import_chromadb() -> ModuleType:
    if "chromadb" not in sys.modules:
        stand_in = None
        if _OTLP_GRPC not in sys.modules:
            stand_in = ModuleType(_OTLP_GRPC)
            stand_in.OTLPSpanExporter = _NoExporter  # type: ignore[attr-defined]
            sys.modules[_OTLP_GRPC] = stand_in
        try:
            decorator_module = importlib.import_module("overrides.overrides")
        except ImportError:  # a chromadb that no longer uses ``overrides``
            decorator_module = None
        original = decorator_module._overrides if decorator_module is not None else None
        if decorator_module is not None:
            decorator_module._overrides = _mark_only
        try:
            import chromadb  # noqa: F401
        finally:
            if decorator_module is not None:
                decorator_module._overrides = original
            if stand_in is not None and sys.modules.get(_OTLP_GRPC) is stand_in:
                del sys.modules[_OTLP_GRPC]
    import chromadb

    return chromadb
