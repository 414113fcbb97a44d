"""Would merging the grounding adapter into the embedded model remove what the adapter costs in speed?

Applied at run time, the grounding adapter adds two small products to each of the seven projections of every layer,
and decoding runs at about 0.8 of the bare model's speed. This merges it into a copy of the base GGUF (the adapter's
``scale · alpha / rank · B A`` added to each dequantised projection, re-quantised to each type given) and measures,
in one run, interleaved: decode tokens/s of the bare model, the model with the adapter applied as pmem applies it,
and each merged copy (128 tokens after the same prompt, end of text ignored, prompt excluded; the median of the
middle runs), then ``pmem models check`` on each (does the merged copy still answer from memory and say what it
does not know?). The figures are in bench/README.md; merging is not built into pmem (it does not pay: see there).

    python -m bench.grounding_merge [--types Q4_1,Q5_0,Q5_1,Q8_0] [--runs 5] [--out PATH]

``--modules`` measures instead what the adapter costs by the projections it adapts: the shipped adapter's tensors
for q/v only, for the four attention projections, and for all seven, each written as an adapter of its own, decoded
interleaved with the bare model (→ ``results/grounding_modules.json``). Speed only: a subset of a trained adapter
is not an adapter trained on that subset.
"""

from __future__ import annotations

import argparse
import ctypes
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import RESULTS, bench_environ, machine, write_json
from pmem.core.distill.export import lora_scale, read_adapter
from pmem.core.engine.grounding import shipped
from pmem.core.models import embedded_chat_model

PROMPT = "<|im_start|>user\nWrite a long story about a lighthouse keeper and his dog.<|im_end|>\n<|im_start|>assistant\n"


def merge(base: Path, adapter: Path, out: Path, qtype: str, scale: float = 1.0) -> None:
    """Write ``base`` with ``adapter`` added into its projections, those re-quantised to ``qtype``."""
    import gguf
    import numpy as np
    from gguf.quants import dequantize, quantize

    reader = gguf.GGUFReader(str(base))
    alpha, deltas = read_adapter(adapter)
    kind = gguf.GGMLQuantizationType[qtype]
    arch = str(bytes(reader.fields[gguf.Keys.General.ARCHITECTURE].parts[-1]), "utf-8")
    writer = gguf.GGUFWriter(str(out), arch=arch)
    for f in reader.fields.values():
        if f.name != gguf.Keys.General.ARCHITECTURE and not f.name.startswith("GGUF."):
            vtype = f.types[0]
            writer.add_key_value(f.name, f.contents(), vtype, sub_type=f.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None)
    tensors: list[tuple[str, Any, Any]] = []
    for t in reader.tensors:
        a = deltas.get(t.name + ".lora_a")
        if a is None:
            tensors.append((t.name, t.data, t.tensor_type))
            continue
        weight = dequantize(t.data, t.tensor_type).astype(np.float32) + deltas[t.name + ".lora_b"] @ a * lora_scale(alpha, a, scale)
        tensors.append((t.name, quantize(weight, kind), kind))
    for name, data, ttype in tensors:
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, ttype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in tensors:
        writer.write_tensor_data(data)
    writer.close()


def decode_speeds(models: dict[str, tuple[Path, Path | None]], runs: int) -> dict[str, float]:
    """Median decode tokens/s of each (model, adapter or None), interleaved run by run."""
    from pmem.core.engine.llama_compat import import_llama_cpp

    llama_cpp = import_llama_cpp()
    loaded = {}
    for name, (path, adapter) in models.items():
        llama = llama_cpp.Llama(model_path=str(path), n_ctx=1024, n_threads=2, verbose=False, seed=0)
        if adapter is not None:
            handle = llama_cpp.llama_adapter_lora_init(llama.model, str(adapter).encode())
            handles = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
            llama_cpp.llama_set_adapters_lora(llama._ctx.ctx, handles, 1, (ctypes.c_float * 1)(1.0))
        loaded[name] = llama
    speeds: dict[str, list[float]] = {name: [] for name in loaded}
    for _ in range(runs):
        for name, llama in loaded.items():
            llama.reset()
            llama.eval(llama.tokenize(PROMPT.encode(), special=True))
            started = time.perf_counter()
            for _ in range(128):
                llama.eval([llama.sample(temp=0.0)])
            speeds[name].append(128 / (time.perf_counter() - started))
    for llama in loaded.values():
        llama.close()
    return {name: round(sorted(v)[len(v) // 2], 1) for name, v in speeds.items()}


def check(model: Path, home: Path, grounding: bool) -> dict[str, Any]:
    """``pmem models check`` on ``model``: answers from memory (of 8) and don't-knows (of 4)."""
    env = bench_environ(home, PMEM_MODEL_GROUNDING_ADAPTER="true" if grounding else "false")
    out = subprocess.run([sys.executable, "-m", "pmem", "models", "check", str(model)], capture_output=True, text=True,
                         env=env, check=True).stdout
    m = re.search(r"answers from memory (\d+)/(\d+), says it does not know (\d+)/(\d+)", out)
    assert m is not None, out
    return {"answers": int(m.group(1)), "of": int(m.group(2)), "dont_know": int(m.group(3)), "absent": int(m.group(4))}


SUBSETS = {"q, v": ("attn_q", "attn_v"), "attention (q, k, v, o)": ("attn_q", "attn_k", "attn_v", "attn_output"), "all seven": None}


def module_costs(base: Path, adapter: Path, runs: int) -> dict[str, Any]:
    """Decode tokens/s of the bare model and of the adapter cut to each of ``SUBSETS``, interleaved."""
    from pmem.core.distill.export import write_adapter

    alpha, arrays = read_adapter(adapter)
    with tempfile.TemporaryDirectory(prefix="pmem-modules-") as tmp:
        models: dict[str, tuple[Path, Path | None]] = {"bare": (base, None)}
        for name, kinds in SUBSETS.items():
            cut = {k: v.astype("float16") for k, v in arrays.items() if kinds is None or k.split(".")[2] in kinds}
            path = Path(tmp) / f"{len(models)}.gguf"
            write_adapter(path, cut, architecture="llama", alpha=alpha, metadata={"adapter_id": name})
            models[name] = (base, path)
        speeds = decode_speeds(models, runs)
    return {name: {"decode_tokens_per_s": v, "ratio_to_bare": round(v / speeds["bare"], 3)} for name, v in speeds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--types", default="Q4_1,Q5_0,Q5_1,Q8_0")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modules", action="store_true", help="the decode cost of the adapter by the projections it adapts")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    base, adapter = embedded_chat_model(), shipped()
    assert base is not None and adapter is not None, "the embedded model and the shipped grounding adapter are needed"
    if args.modules:
        rows = module_costs(base, adapter.path, args.runs)
        for name, row in rows.items():
            print(f"{name:24s} {row['decode_tokens_per_s']:6.1f} t/s ({row['ratio_to_bare']:.3f}×)")
        write_json(args.out or RESULTS / "grounding_modules.json", {"machine": machine(), "rows": rows, "runs": args.runs})
        return
    args.out = args.out or RESULTS / "grounding_merge.json"
    with tempfile.TemporaryDirectory(prefix="pmem-merge-") as tmp:
        work = Path(tmp)
        models: dict[str, tuple[Path, Path | None]] = {"bare": (base, None), "adapter applied": (base, adapter.path)}
        merge_s = {}
        for qtype in args.types.split(","):
            started = time.perf_counter()
            merge(base, adapter.path, work / f"merged-{qtype}.gguf", qtype, adapter.scale)
            merge_s[qtype] = round(time.perf_counter() - started, 1)
            models[f"merged {qtype}"] = (work / f"merged-{qtype}.gguf", None)
        speeds = decode_speeds(models, args.runs)
        checks = {name: check(path, work / f"home-{i}", grounding=adapter_path is not None)
                  for i, (name, (path, adapter_path)) in enumerate(models.items())}
        sizes = {name: round(path.stat().st_size / 1e6, 1) for name, (path, _) in models.items()}
    rows = {name: {"decode_tokens_per_s": speeds[name], "ratio_to_bare": round(speeds[name] / speeds["bare"], 3),
                   "size_mb": sizes[name], **checks[name]} for name in models}
    for name, row in rows.items():
        print(f"{name:16s} {row['decode_tokens_per_s']:6.1f} t/s ({row['ratio_to_bare']:.3f}×)  "
              f"memory {row['answers']}/{row['of']}  don't know {row['dont_know']}/{row['absent']}  {row['size_mb']} MB")
    write_json(args.out, {"machine": machine(), "rows": rows, "merge_seconds": merge_s, "runs": args.runs})


if __name__ == "__main__":
    main()
