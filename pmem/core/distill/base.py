"""Base weights to train on: the GGUF dequantized to a float32 transformers model, cached once per model.

transformers reads a GGUF (``from_pretrained(dir, gguf_file=...)``), but the model it returns carries a GGUF
quantizer that stops it from being saved; with the quantizer cleared the dense copy is saved under
``cache/distill/base-<fingerprint>`` and reloads in a fraction of a second next time. It is derived from
the model file alone and holds nothing of the user's.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

from pmem.core.errors import ModelError


def quiet_transformers() -> None:
    """No progress bars or warnings from transformers on pmem's terminal."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_dense_base(model_path: Path, cache_root: Path, fingerprint: str) -> tuple[Any, bool]:
    """The model as float32 transformers weights; returns (model, whether the cached copy was used)."""
    import torch
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    directory = cache_root / f"base-{fingerprint}"
    if (directory / "config.json").is_file() and any(directory.glob("*.safetensors")):
        try:
            return AutoModelForCausalLM.from_pretrained(str(directory), dtype=torch.float32), True
        except (OSError, ValueError, RuntimeError):
            shutil.rmtree(directory, ignore_errors=True)  # a damaged cache: rebuild it from the GGUF
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AutoModelForCausalLM.from_pretrained(str(model_path.parent), gguf_file=model_path.name, dtype=torch.float32)
    except (ValueError, KeyError, NotImplementedError, RuntimeError, OSError) as exc:
        raise ModelError(f"cannot train on {model_path.name}: transformers cannot read this GGUF ({_first_line(exc)})") from None
    # The dequantized weights are plain float32 now; without this the model refuses to be saved or trained.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    cache_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in cache_root.glob("base-*"):
        if old != directory:
            shutil.rmtree(old, ignore_errors=True)  # one dense copy at a time (hundreds of MB each)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tmp.rename(directory)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # no room for the cache: train anyway, convert again next time
        release_freed_memory()
        return model, False
    # Train on the saved copy, not the converted one: the conversion's temporaries (~300 MB for a 135M model)
    # would otherwise stay in the process under the training's own memory.
    del model
    release_freed_memory()
    return AutoModelForCausalLM.from_pretrained(str(directory), dtype=torch.float32), False


def release_freed_memory() -> None:
    """Hand memory that Python has freed back to the system (glibc keeps freed blocks for reuse otherwise), so the
    GGUF conversion's temporaries do not stay in the process while it trains."""
    import ctypes
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass  # not glibc (musl): nothing to trim


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
