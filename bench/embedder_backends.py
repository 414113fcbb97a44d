"""The embedder's ways to run, measured side by side: sentence-transformers (PyTorch) against ONNX Runtime
(graph optimisation levels, thread counts, int8 weights). Each runs in a fresh process, so that start-up and memory are
what a new ``pmem`` process pays.

    python -m bench.embedder_backends [--texts 2000] [--out bench/results/embedder_backends.json]

Per configuration: start-up (import, load, first query), one short query (median of 50), throughput over LoCoMo
turns (batches of 32, as indexing embeds), peak RSS (VmHWM), and the cosine of every vector to
sentence-transformers' (the reference). The one-time ONNX export is timed on its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent

from bench.locomo_retrieval import DEFAULT_DATA
from bench.harness import machine, write_json

CONFIGS = {
    "sentence-transformers, 2 threads": {"backend": "st", "threads": 2},
    "onnx, all optimisations, 2 threads (pmem before int8; embedder.precision = float32)": {"backend": "onnx", "threads": 2, "optimization": "all"},
    "onnx, basic optimisations, 2 threads": {"backend": "onnx", "threads": 2, "optimization": "basic"},
    "onnx, all optimisations, 1 thread": {"backend": "onnx", "threads": 1, "optimization": "all"},
    "onnx int8, one scale per tensor (ONNX Runtime's default; not kept), 2 threads": {"backend": "onnx", "threads": 2, "optimization": "all", "int8": "tensor"},
    "onnx int8, one scale per channel, 2 threads (pmem)": {"backend": "onnx", "threads": 2, "optimization": "all", "int8": "channel"},
}

CHILD = r"""
import json, sys, time
started = time.perf_counter()
config, texts_file, export, vectors_out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
import numpy as np
from pathlib import Path
from pmem.core.models import resolve_embedder
source = resolve_embedder("")
if config["backend"] == "st":
    import torch
    torch.set_num_threads(config["threads"])
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    embed = lambda texts: model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
else:
    from pmem.core.memory.onnx_encoder import OnnxEncoder, export_dir
    directory = export_dir(source, Path(export))
    if config.get("int8") == "tensor":
        directory = Path(export + "-int8-tensor")
    elif config.get("int8") == "channel":
        from pmem.core.memory.onnx_encoder import quantized
        directory = quantized(directory)  # as pmem makes it
    model = OnnxEncoder(directory, threads=config["threads"], optimization=config["optimization"])
    embed = lambda texts: model.encode(texts, batch_size=32)
embed(["What did Caroline research?"])
startup = time.perf_counter() - started
times = []
for i in range(50):
    t = time.perf_counter()
    embed([f"When did Melanie paint a sunrise {i}?"])
    times.append(time.perf_counter() - t)
texts = json.loads(Path(texts_file).read_text())
t = time.perf_counter()
vectors = np.asarray(embed(texts), dtype=np.float32)
batch = time.perf_counter() - t
np.save(vectors_out, vectors)
rss = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        rss = int(line.split()[1]) / 1024
print(json.dumps({"startup_s": startup, "query_ms": sorted(times)[len(times) // 2] * 1000,
                  "texts_per_s": len(texts) / batch, "peak_rss_mb": rss}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000, help="LoCoMo turns to embed for throughput and agreement.")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "embedder_backends.json")
    args = parser.parse_args()
    import numpy as np

    from pmem.core.memory.onnx_encoder import export, export_dir
    from pmem.core.models import resolve_embedder

    samples = json.loads(DEFAULT_DATA.read_text())
    texts = [t["text"] for s in samples for k, v in s["conversation"].items()
             if k.startswith("session_") and isinstance(v, list) for t in v][: args.texts]
    work = Path(tempfile.mkdtemp(prefix="pmem-embedders-"))
    (work / "texts.json").write_text(json.dumps(texts))
    source = resolve_embedder("")
    t = time.perf_counter()
    export(source, export_dir(source, work / "export"))
    export_s = time.perf_counter() - t
    # The per-tensor int8 row: the same export, its weights quantised once with ONNX Runtime's defaults, beside it
    # (pmem's own per-channel twin is made by the child, as pmem makes it).
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from pmem.core.memory.onnx_encoder import quantized

    quantized(export_dir(source, work / "export"))  # made once, as pmem makes it at first use; not in the start-up
    shutil.copytree(export_dir(source, work / "export"), work / "export-int8-tensor")
    quantize_dynamic(str(work / "export-int8-tensor" / "model.onnx"), str(work / "export-int8-tensor" / "model.onnx"), weight_type=QuantType.QInt8)
    rows: dict[str, Any] = {}
    reference = None
    for name, config in CONFIGS.items():
        out = work / f"{len(rows)}.npy"
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(config), str(work / "texts.json"), str(work / "export"), str(out)],
                              capture_output=True, text=True, check=True, cwd=str(BENCH.parent))
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        vectors = np.load(out)
        if reference is None:
            reference = vectors  # the first configuration is sentence-transformers
        cosines = (vectors * reference).sum(axis=1)
        row["cosine_min"], row["cosine_mean"] = float(cosines.min()), float(cosines.mean())
        rows[name] = {k: round(v, 6 if k.startswith("cosine") else 3) for k, v in row.items()}
        print(name, rows[name], flush=True)
    write_json(args.out, {"texts": len(texts), "export_once_s": round(export_s, 1), "configs": rows, "machine": machine()})


if __name__ == "__main__":
    main()
