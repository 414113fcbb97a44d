"""Sentence embeddings from local files (never from a hub): the embedder pmem ships ready to run (``shipped``),
or a model directory run through ONNX Runtime when the model allows it (``onnx_encoder``), else sentence-transformers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pmem.core.errors import ModelError

if TYPE_CHECKING:
    from pmem.core.memory.tuning import Tuning


class Embedder:
    """A lazily loaded sentence embedder; thread-safe, CPU by default.

    ``backend="onnx"`` with an ``export_dir`` runs the model through ONNX Runtime (exported there on first use);
    otherwise, or for a model the ONNX path does not cover, sentence-transformers runs it."""

    def __init__(
        self, name: str, path: Path, *, device: str = "cpu", threads: int | None = None,
        backend: str = "onnx", export_dir: Path | None = None, precision: str = "float32", tuning: Tuning | None = None,
        ready: bool = False,
    ) -> None:
        """``ready``: ``path`` is an ONNX export already (the shipped embedder, with ``tuning`` merged and in
        ``precision``): it is run as it is, nothing is merged or exported."""
        self.name = name
        self.path = Path(path)
        self.device = device
        self.threads = threads
        self.backend = backend
        self.export_dir = export_dir
        self.ready = ready
        from pmem.core.memory import onnx_encoder

        self._onnx = ready or (backend == "onnx" and export_dir is not None and onnx_encoder.supported(self.path))
        """Whether ONNX Runtime runs this model (else sentence-transformers does); read from its files once."""
        self.precision = precision if precision == "int8" and self._onnx else "float32"
        """"int8" only where ONNX Runtime runs the model; sentence-transformers is always float32."""
        if tuning is not None and export_dir is None and not ready:
            raise ValueError("a tuned embedder needs an export_dir to keep its merged copy in")
        self.tuning = tuning
        """pmem's retrieval tuning, merged into a copy of the model (in ``export_dir``) on first load; None: as shipped."""
        self.runs_on = ""
        """"onnx" or "sentence-transformers" once loaded."""
        self._model: Any = None
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None

    @property
    def identity(self) -> str:
        """What an index records it was built with: the name, the tuning if any, and the precision when it is not
        float32 ("all-MiniLM-L6-v2+tuned-1a2b3c4d+int8")."""
        return "+".join([self.name] + ([self.tuning.tag] if self.tuning else []) + ([self.precision] if self.precision != "float32" else []))

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        with self._lock:
            source = self.path
            if self._model is None and self.ready:
                self._model = self._encoder(self.path)
                self.runs_on = "onnx"
            if self._model is None and self.tuning is not None:
                assert self.export_dir is not None  # checked in __init__
                source = self.tuning.merged(self.path, self.export_dir)
            if self._model is None and self._onnx:
                from pmem.core.memory import onnx_encoder

                assert self.export_dir is not None  # part of self._onnx
                exported = onnx_encoder.export(source, onnx_encoder.export_dir(source, self.export_dir))
                if self.precision == "int8":
                    exported = onnx_encoder.quantized(exported)
                self._model = self._encoder(exported)
                self.runs_on = "onnx"
            if self._model is None:
                try:
                    import torch
                except ImportError:
                    from pmem.core.memory.shipped import ST_HINT

                    raise ModelError(f"running the embedder through sentence-transformers needs PyTorch: {ST_HINT}") from None

                if self.threads:
                    torch.set_num_threads(self.threads)
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(str(source), device=self.device, local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ModelError(f"cannot load the embedder from {source}: {exc}") from None
                self.runs_on = "sentence-transformers"
            return self._model

    def _encoder(self, directory: Path) -> Any:
        from pmem.core.memory import onnx_encoder

        try:
            return onnx_encoder.OnnxEncoder(directory, threads=self.threads)
        except Exception as exc:  # noqa: BLE001 - a damaged file: one line, not a traceback
            fix = "reinstall pmem" if self.ready else "delete it to export again"
            raise ModelError(f"cannot load the ONNX embedder from {directory}: {' '.join(str(exc).split())[:200]}; {fix}") from None

    def load_in_background(self) -> None:
        """Start loading on another thread: ONNX Runtime builds its session outside the GIL, so a caller that
        opens the vector store meanwhile (a cold ``pmem memory search``) waits for the slower of the two, not
        both. A failure is left for the next ``load()`` to raise. ``close()`` waits for it: a thread still inside
        ONNX Runtime or PyTorch when the interpreter exits aborts the process ("terminate called ...")."""
        if self._model is not None or (self._loader is not None and self._loader.is_alive()):
            return

        def run() -> None:
            try:
                self.load()
            except Exception:  # noqa: BLE001 - raised again, with its one-line message, by the caller's load()
                pass

        self._loader = threading.Thread(target=run, name="pmem-embedder-load")
        self._loader.start()

    def close(self) -> None:
        """Wait for a load started in the background (it cannot be interrupted halfway through a C++ library)."""
        loader, self._loader = self._loader, None
        if loader is not None:
            loader.join()

    @property
    def dimension(self) -> int:
        model = self.load()
        if self.runs_on == "onnx":
            return int(model.dimension)
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self.load()
        with self._lock:
            if self.runs_on == "onnx":
                return model.encode(texts, batch_size=batch_size)
            vectors = model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


def embedder_from_settings(
    settings: Any, paths: Any, path: Path | None = None, *, precision: str | None = None, tuned: bool | None = None,
) -> Embedder:
    """The embedder the settings describe (one place, for the memory layer, the doctor and the benchmarks);
    ``precision`` and ``tuned`` override the configured ones (an index built otherwise is searched as it was built,
    until a reindex). Without ``path``: the shipped embedder when the settings describe it (the packaged model, ONNX,
    int8, tuned: the defaults), else the packaged or configured model directory. The tuning fits the packaged
    all-MiniLM-L6-v2 only: a configured ``embedder.path`` never gets it."""
    from pmem.core.config import resolved_threads
    from pmem.core.models import resolve_embedder

    precision = precision or settings.embedder.precision
    tuning = None
    if (settings.embedder.tuned if tuned is None else tuned) and not settings.embedder.path:
        from pmem.core.memory.tuning import packaged

        tuning = packaged()
    if path is None and not settings.embedder.path and settings.embedder.backend == "onnx" and precision == "int8" and tuning:
        from pmem.core.memory.shipped import shipped

        ready = shipped()
        if ready is not None:
            return Embedder(settings.embedder.name, ready.directory, threads=resolved_threads(settings), precision="int8",
                            tuning=tuning, ready=True)
    export = Path(settings.embedder.export_dir).expanduser() if settings.embedder.export_dir else paths.cache_dir / "embedders"
    return Embedder(settings.embedder.name, path or resolve_embedder(settings.embedder.path), threads=resolved_threads(settings),
                    backend=settings.embedder.backend, export_dir=export, precision=precision, tuning=tuning)
