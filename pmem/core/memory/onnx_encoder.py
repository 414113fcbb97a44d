"""A sentence-transformers model run through ONNX Runtime and the ``tokenizers`` library, without PyTorch.

Why: importing PyTorch and sentence-transformers to embed one query costs ~5 s and ~400 MB in every process
that recalls (``pmem memory search``, ``pmem ask``, the chat). The same network in ONNX Runtime loads in a
fraction of a second and a fraction of the memory, and gives the same vectors (cosine ≥ 0.999 to
sentence-transformers', tested). pmem's default embedder ships exported (``shipped``); any other is exported once,
offline, into the cache dir (that one step uses PyTorch: the ``[st]`` extra); sentence-transformers stays the
reference and the fallback for models this module does not cover (anything but a BERT-style encoder with mean pooling).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pmem.core.errors import ModelError

EXPORT_VERSION = 1
"""Bump when the exported graph changes; older exports are then made again."""
OPSET = 17


def supported(source: Path) -> bool:
    """Whether ``source`` is a sentence-transformers model this encoder reproduces exactly: a BERT-style
    transformer, mean pooling, unit-length output, and a fast tokenizer file."""
    try:
        modules = json.loads((source / "modules.json").read_text())
        kinds = [m.get("type", "") for m in modules]
        pooling_dir = next(m["path"] for m in modules if m.get("type", "").endswith("Pooling"))
        pooling = json.loads((source / pooling_dir / "config.json").read_text())
        config = json.loads((source / "config.json").read_text())
    except (OSError, ValueError, StopIteration, KeyError, TypeError):
        return False
    return (
        (source / "tokenizer.json").is_file()
        and config.get("model_type") in ("bert", "mpnet", "roberta", "xlm-roberta")
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_lasttoken"))
        and any(k.endswith("Normalize") for k in kinds)
    )


def export_dir(source: Path, root: Path) -> Path:
    """Where under ``root`` the export of ``source`` lives: keyed by the source's files (a changed model is
    exported again, beside the old one)."""
    digest = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for name in sorted(p.name for p in source.iterdir() if p.is_file()):
        stat = (source / name).stat()
        digest.update(f"{name}:{stat.st_size}".encode())
    digest.update((source / "config.json").read_bytes())
    return root / f"{source.parent.name}.{source.name}-{digest.hexdigest()[:16]}"


def export(source: Path, target: Path) -> Path:
    """Export ``source``'s transformer to ``target/model.onnx`` with its tokenizer and settings. Needs PyTorch,
    transformers and onnx (all installed with pmem); written to a temporary dir and renamed into place, so a
    crash or a second process never leaves a half export where a whole one is expected."""
    if (target / "model.onnx").is_file():
        return target
    with warnings.catch_warnings():  # the exporter's tracer warnings are about its internals, not the user's data
        warnings.simplefilter("ignore")
        return _export(source, target)


def _export(source: Path, target: Path) -> Path:
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise ModelError(f"exporting this embedder to ONNX needs PyTorch and transformers ({exc}): pip install 'pmem[st]'") from None
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    settings = json.loads((source / "sentence_bert_config.json").read_text()) if (source / "sentence_bert_config.json").is_file() else {}
    model = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    with _made_whole(target, "cannot export the embedder to ONNX", prefix=".export-") as staging:
        sample = torch.ones((2, 8), dtype=torch.long)
        axes = {"batch": 0, "tokens": 1}
        dynamic = {name: {i: n for n, i in axes.items()} for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")}
        with torch.no_grad():
            torch.onnx.export(
                Encoder(model), (sample, sample, torch.zeros_like(sample)), str(staging / "model.onnx"),
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
            )
        shutil.copyfile(source / "tokenizer.json", staging / "tokenizer.json")
        (staging / "settings.json").write_text(json.dumps({
            "max_seq_length": int(settings.get("max_seq_length") or 256),
            "do_lower_case": bool(settings.get("do_lower_case", False)),
            "source": str(source), "export_version": EXPORT_VERSION,
        }))
    return target


@contextmanager
def _made_whole(target: Path, failure: str, *, prefix: str) -> Iterator[Path]:
    """A model directory written in a temporary sibling and renamed into place, so a crash or a second process
    never leaves a half one where a whole one is expected; any failure is one ``ModelError`` line."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=str(target.parent)))
    try:
        yield staging
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "model.onnx").is_file():  # not another process's finished one: a real failure
                raise
    except Exception as exc:
        raise ModelError(f"{failure} in {target.parent}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def quantized(exported: Path) -> Path:
    """The int8 twin of an export, beside it (made once): each weight matrix quantised per output channel by ONNX
    Runtime's dynamic quantisation. Per channel, because one scale per tensor (ONNX Runtime's default) moved the
    vectors to cosine 0.95 of float32's and cost a point of recall; per channel keeps 0.99 and the recall."""
    target = exported.with_name(f"{exported.name}-int8")
    if (target / "model.onnx").is_file():
        return target
    with _made_whole(target, "cannot quantise the embedder", prefix=".quantize-") as staging:
        from pmem.core.offline import import_onnxruntime

        import_onnxruntime()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        for item in exported.iterdir():
            if item.is_file() and item.name != "model.onnx":
                shutil.copyfile(item, staging / item.name)
        quiet = logging.root.manager.disable
        logging.disable(logging.WARNING)  # its advice to pre-process the graph, on the root logger: not the user's business
        try:
            quantize_dynamic(str(exported / "model.onnx"), str(staging / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(quiet)
    return target


class OnnxEncoder:
    """Tokenise with ``tokenizers``, run the graph with ONNX Runtime, mean-pool over real tokens, normalise."""

    def __init__(self, directory: Path, threads: int | None = None, optimization: str = "all") -> None:
        """``optimization``: ONNX Runtime's graph optimisation level ("basic", "extended" or "all"; measured in
        bench/embedder_backends.py)."""
        from tokenizers import Tokenizer

        from pmem.core.offline import import_onnxruntime

        onnxruntime = import_onnxruntime()

        settings = json.loads((directory / "settings.json").read_text())
        self.max_length = int(settings["max_seq_length"])
        self.lower = bool(settings.get("do_lower_case"))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = getattr(onnxruntime.GraphOptimizationLevel, f"ORT_ENABLE_{optimization.upper()}")
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Pre-packed MatMul weights are a second copy of the layers' weights: 29 MB of a chat's resident memory
        # for ~4 % of embedding speed (bench/embedder_backends.py).
        options.add_session_config_entry("session.disable_prepacking", "1")
        self.session = onnxruntime.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors in the order of ``texts``; batches of similar length (less padding)."""
        encodings = self.tokenizer.encode_batch([t.lower() if self.lower else t for t in texts])
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            types = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                e = encodings[i]
                n = len(e.ids)
                ids[row, :n] = e.ids
                mask[row, :n] = e.attention_mask
                types[row, :n] = e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[chunk] = pooled / np.clip(norms, 1e-12, None)
        return out
