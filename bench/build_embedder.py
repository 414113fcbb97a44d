"""Build the embedder pmem ships (``pmem/core/memory/minilm/``): all-MiniLM-L6-v2 with pmem's retrieval tuning
merged, exported to ONNX and quantised to int8, by ``pmem.core.memory.shipped.build``. Needs the ``[distill]`` (or
``[st]``) extra. Run it after changing the tuning or the export; ``tests/test_shipped_embedder.py`` checks that a
rebuild gives the shipped vectors (cosine >= 0.999)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pmem.core.memory.shipped import SHIPPED_DIR, build


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pmem-embedder-build-") as work:
        build(SHIPPED_DIR, Path(work))
    size = (SHIPPED_DIR / "model.onnx").stat().st_size
    print(f"built {SHIPPED_DIR} ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
