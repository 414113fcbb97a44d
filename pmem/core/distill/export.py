"""Writing a trained peft LoRA as a GGUF adapter that llama.cpp loads on top of the base GGUF.

Three details decide whether llama.cpp applies the adapter the way it was trained:
- ``adapter.lora.alpha``: llama.cpp scales by alpha / rank; without it the scale is silently wrong;
- tensor names: the base GGUF's names (``blk.N.attn_q.weight``) with ``.lora_a`` / ``.lora_b`` appended;
- llama-architecture GGUFs store the q and k projections rope-permuted relative to Hugging Face
  (transformers un-permutes them on load), so their ``lora_b`` rows are permuted back the same way.
The file is written beside its final name and renamed into place only when complete.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pmem.core import failpoints
from pmem.core.errors import ModelError
from pmem.core.models import TRAINABLE_ARCHITECTURES

#: peft module name -> llama.cpp tensor name (llama, mistral and qwen2 families).
TENSOR_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
TARGET_MODULES = sorted({name.rsplit(".", 1)[-1] for name in TENSOR_NAMES})
#: GGUF architectures whose q/k weights llama.cpp's converter rope-permutes.
PERMUTED_ARCHITECTURES = {"llama"}
SUPPORTED_ARCHITECTURES = TRAINABLE_ARCHITECTURES

_PEFT_NAME = re.compile(r"layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])\.weight$")


def permute_rows(b: Any, n_head: int) -> Any:
    """Hugging Face row order -> llama.cpp's rope-interleaved order, for a (out, r) ``lora_B``."""
    out, r = b.shape
    return b.reshape(n_head, 2, out // n_head // 2, r).swapaxes(1, 2).reshape(out, r)


def unpermute_rows(b: Any, n_head: int) -> Any:
    """llama.cpp's rope-interleaved row order -> Hugging Face's (the inverse of ``permute_rows``)."""
    out, r = b.shape
    return b.reshape(n_head, out // n_head // 2, 2, r).swapaxes(1, 2).reshape(out, r)


def read_adapter(path: Path) -> tuple[float, dict[str, Any]]:
    """A GGUF LoRA's alpha (0.0 when it has none) and its tensors as float32 arrays in numpy's (rows, columns) order."""
    import gguf
    import numpy as np

    reader = gguf.GGUFReader(str(path))
    field = reader.fields.get(gguf.Keys.Adapter.LORA_ALPHA)
    alpha = float(field.parts[field.data[0]][0]) if field is not None else 0.0
    return alpha, {t.name: np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)]) for t in reader.tensors}


def lora_scale(alpha: float, lora_a: Any, scale: float = 1.0) -> float:
    """What llama.cpp multiplies ``B A`` by: ``scale`` · alpha / rank, or ``scale`` alone for an adapter without alpha."""
    return scale * (alpha / lora_a.shape[0] if alpha else 1.0)


def merge_adapter(model: Any, path: Path, *, scale: float = 1.0) -> int:
    """Add a GGUF LoRA's deltas (``scale`` · alpha / rank · B A) into ``model``'s dense weights, as llama.cpp applies
    it at inference: the per-user adapter is then trained on the model the chat really runs (the grounding adapter
    beneath it). Returns how many matrices changed."""
    import numpy as np
    import torch

    alpha, arrays = read_adapter(path)
    config = model.config
    n_head = int(config.num_attention_heads)
    n_head_kv = int(getattr(config, "num_key_value_heads", None) or n_head)
    permuted = getattr(config, "model_type", "") == "llama"
    names = {v: k for k, v in TENSOR_NAMES.items()}
    layers = model.get_base_model().model.layers if hasattr(model, "get_base_model") else model.model.layers
    changed = 0
    for name, a in arrays.items():
        match = re.match(r"blk\.(\d+)\.(\w+)\.weight\.lora_a$", name)
        if match is None or (b := arrays.get(name[: -len("lora_a")] + "lora_b")) is None:
            continue
        layer, kind = int(match.group(1)), match.group(2)
        module = names[kind]
        if permuted and kind in ("attn_q", "attn_k"):
            b = unpermute_rows(b, n_head if kind == "attn_q" else n_head_kv)
        delta = torch.from_numpy(np.ascontiguousarray(b @ a)) * lora_scale(alpha, a, scale)
        target = layers[layer]
        for part in module.split("."):
            target = getattr(target, part)
        with torch.no_grad():
            target.weight += delta.to(target.weight.dtype)
        changed += 1
    return changed


def gguf_tensors(state: dict[str, Any], *, architecture: str, n_head: int, n_head_kv: int) -> dict[str, Any]:
    """peft's LoRA state dict as float32 numpy arrays under llama.cpp's tensor names."""
    import numpy as np

    tensors: dict[str, Any] = {}
    for key, value in state.items():
        match = _PEFT_NAME.search(key)
        if match is None:
            continue
        layer, module, which = match.groups()
        array = value.detach().to("cpu").float().numpy()
        if which == "B" and architecture in PERMUTED_ARCHITECTURES and module in ("self_attn.q_proj", "self_attn.k_proj"):
            array = permute_rows(array, n_head if module == "self_attn.q_proj" else n_head_kv)
        tensors[f"blk.{layer}.{TENSOR_NAMES[module]}.weight.lora_{which.lower()}"] = np.ascontiguousarray(array, dtype=np.float32)
    if not tensors:
        raise ModelError("the trained adapter has no LoRA tensors that llama.cpp would recognise")
    return tensors


def write_adapter(
    path: Path,
    tensors: dict[str, Any],
    *,
    architecture: str,
    alpha: float,
    metadata: dict[str, str],
) -> int:
    """Write a GGUF LoRA adapter atomically; returns its size in bytes."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), arch=architecture)
    try:
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
        for key, value in metadata.items():
            writer.add_string(f"pmem.{key}", value)
        for name in sorted(tensors, key=_tensor_order):
            writer.add_tensor(name, tensors[name])
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    failpoints.reach("adapter.write")
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path.stat().st_size


def _tensor_order(name: str) -> tuple[int, str]:
    match = re.match(r"blk\.(\d+)\.(.*)", name)
    return (int(match.group(1)), match.group(2)) if match else (1 << 30, name)
