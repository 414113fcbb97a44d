"""What every benchmark shares: a fresh home and runtime, the machine's description, percentiles, result files and
timed commands. Benchmarks configure pmem through an environment dict handed to ``fresh_home``, never by editing
``os.environ``, so that one benchmark's settings cannot leak into the next measurement of the same run."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SHARED = BENCH.parent.parent / "shared"

# The embedder's ONNX export depends on the model alone: every benchmark home shares one, made once per user as
# pmem itself does (its one-time cost is measured by embedder_backends.py, not by each fresh home).
os.environ.setdefault("PMEM_EMBEDDER_EXPORT_DIR", str(Path.home() / ".cache" / "pmem-bench" / "embedders"))


def bench_environ(home: str | Path, **variables: str) -> dict[str, str]:
    """The environment a benchmark's pmem runs in: this process's ``PMEM_*`` variables (a reader comparing values sets
    them on the command line), automatic distillation off, the data in ``home``, then ``variables``."""
    env = {k: v for k, v in os.environ.items() if k.startswith("PMEM_")}
    return {**env, "PMEM_DISTILL_AUTO": "false", **variables, "PMEM_HOME": str(home)}


@contextmanager
def fresh_home(prefix: str = "pmem-bench-", *, engine: Any = None, keep: bool = False, **variables: str) -> Iterator[Any]:
    """A new, empty data dir and a ``Runtime`` over it (``variables``: ``PMEM_*`` settings for this run only);
    closed, and the data dir deleted unless ``keep``, afterwards."""
    from pmem.core.runtime import Runtime

    home = tempfile.mkdtemp(prefix=prefix)
    rt = Runtime.load(engine=engine, environ=bench_environ(home, **variables))
    try:
        yield rt
    finally:
        rt.close()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def bench_settings() -> Any:
    """pmem's default settings with the ``PMEM_*`` variables a benchmark sets (the shared embedder export)."""
    from pmem.core.config import Paths, load_settings

    nowhere = Path(os.devnull)
    return load_settings(Paths(config_file=nowhere / "absent.toml", data_dir=nowhere, cache_dir=nowhere, log_dir=nowhere))


def bench_embedder() -> Any:
    """The embedder pmem runs, as its settings make it (by default the shipped one: ONNX Runtime, tuned, int8)."""
    from pmem.core.memory.embedder import embedder_from_settings

    return embedder_from_settings(bench_settings(), None)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib import metadata

    versions = {}
    for name in ("llama-cpp-python", "chromadb", "sentence-transformers", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


_SHARED_EMBEDDER: Any = None


def imported_home(root: Path, sessions: dict[str, Any] | None) -> Any:
    """A data dir at ``root`` with ``sessions`` (pmem's generic import format) imported through pmem's own import,
    or, with ``sessions`` None, the home imported there before; returns the open runtime. One embedder serves every
    home, and Chroma's per-path client cache is emptied between homes (a hundred haystacks would otherwise keep a
    hundred ONNX sessions and Chroma systems: 9 GB by the 50th)."""
    import gc

    from chromadb.api.client import SharedSystemClient

    from pmem.core.assistant import Assistant
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.memory.embedder import embedder_from_settings
    from pmem.core.memory.service import MemoryService
    from pmem.core.runtime import Runtime

    global _SHARED_EMBEDDER
    SharedSystemClient.clear_system_cache()
    gc.collect()
    env = bench_environ(root, PMEM_BACKUP_ENABLED="false")
    paths = resolve_paths(env)
    paths.ensure_data_dir()
    runtime = Runtime(load_settings(paths, env), paths)
    if _SHARED_EMBEDDER is None:
        _SHARED_EMBEDDER = embedder_from_settings(runtime.settings, paths)
    runtime._memory = MemoryService(runtime.settings, paths, runtime.journal.conn, embedder=_SHARED_EMBEDDER)
    if sessions is not None:
        source = root / "import.json"
        source.write_text(json.dumps(sessions), encoding="utf-8")
        Assistant(runtime).transfer.import_file(source)
        source.unlink()
    return runtime


def wall_seconds(commands: list[list[str]], home: str) -> list[float]:
    """Wall time of each command, run one after another in a new process on the data dir ``home``."""
    env = {**os.environ, **bench_environ(home)}
    times = []
    for command in commands:
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
