"""The settings: one dataclass per section of the config file, with their defaults and what each means."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

APP_NAME = "pmem"
ENV_PREFIX = "PMEM_"
#: Environment variables with a meaning of their own, not settings overrides.
RESERVED_ENV = {"PMEM_HOME", "PMEM_CONFIG", "PMEM_DEBUG"}



@dataclass
class ModelSettings:
    """The chat model."""

    path: str = ""
    """A GGUF chat model: a path, or the short name of one found on this computer (``pmem models`` lists them,
    e.g. ``qwen2.5:3b`` from Ollama). Empty: the SmolLM2-135M-Instruct GGUF that ships with pmem."""

    search_paths: list[str] = field(default_factory=list)
    """More folders to look for GGUF models in, besides Ollama's, LM Studio's, GPT4All's and the Hugging Face
    cache (in ``PMEM_MODEL_SEARCH_PATHS``: separated like ``PATH``)."""

    chat_format: str = ""
    """Chat template for a GGUF that carries none: chatml, llama-2, llama-3, mistral, gemma, phi-3.
    Empty: the GGUF's own template, or a known one for its architecture."""

    backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    """``llama_cpp`` runs the GGUF in-process; ``openai`` talks to an OpenAI-compatible server you run."""

    base_url: str = ""
    """For ``backend = "openai"``: the server's base URL, e.g. ``http://127.0.0.1:8080/v1``."""

    remote_name: str = ""
    """For ``backend = "openai"``: the model name to request from the server."""

    api_key_env: str = ""
    """For ``backend = "openai"``: name of an environment variable holding the API key, if the server needs one."""

    n_ctx: int = 0
    """Context window in tokens. 0: the model's own trained context, capped so that its KV cache takes no more
    memory than the weights, 1 GiB or 1/16 of the RAM (whichever is least), and at 32768 tokens."""

    n_threads: int = 0
    """CPU threads for llama.cpp. 0: one per physical core (at most 8; hyperthreads slow it down)."""

    n_batch: int = 512
    """Prompt-processing batch size."""

    grounding_adapter: bool = True
    """Apply pmem's grounding adapter to the embedded SmolLM2-135M-Instruct (and only to that file): a LoRA that
    teaches it to answer from the profile and memories in its prompt, and to say it does not know when they do not
    hold the answer (``bench/grounding_adapter.py``). ``false``: the bare model."""

    flash_attn: bool = True
    """llama.cpp's flash attention. On 2 CPU cores with SmolLM2-135M, generation was 1.08x bare llama.cpp with it
    (``bench/perf.py``; 110 against 93 tokens/s at a ~600-token context), at the same memory; a quantized V cache
    needs it."""

    cache_type_k: Literal["f16", "q8_0"] = "f16"
    """Type of the KV cache's keys. "q8_0" takes half the memory of "f16" (21 MB less for the embedded model's
    4,096-token context) at the same speed, but a question asked twice at temperature 0 got two different
    answers (one prompt computed afresh, one restored from the saved prefix), so the default keeps "f16"."""

    cache_type_v: Literal["f16", "q8_0"] = "f16"
    """Type of the KV cache's values. "q8_0" halves them too (needs ``flash_attn``), but prompts were read slower
    on 2 cores: a message sent at once waited 9.8x bare llama.cpp for its first token instead of ~4x, so the
    default keeps "f16"."""


@dataclass
class ChatSettings:
    """How replies are generated."""

    system_prompt: str = (
        "You are pmem, a helpful assistant running privately on the user's own computer. "
        "Answer concisely and truthfully."
    )
    """The system message at the start of every conversation."""

    max_tokens: int = 512
    """Upper bound on the length of one reply, in tokens."""

    temperature: float = 0.7
    """Sampling temperature; 0 is greedy and reproducible."""

    top_p: float = 0.95
    """Nucleus sampling threshold."""

    repeat_penalty: float = 1.1
    """Penalty for repeating tokens (1.0 disables it)."""

    seed: int = -1
    """Sampling seed; -1 picks a fresh one each reply."""


@dataclass
class EmbedderSettings:
    """The sentence embedder used for episodic memory."""

    name: str = "all-MiniLM-L6-v2"
    """Name recorded in the index; changing it means ``pmem memory reindex``."""

    path: str = ""
    """Directory of a sentence-transformers model. Empty: the all-MiniLM-L6-v2 that ships with pmem."""

    backend: Literal["onnx", "sentence-transformers"] = "onnx"
    """How the embedder runs. "onnx": ONNX Runtime without PyTorch (starts in a fraction of a second and in a
    fraction of the memory; the same vectors), exported once from the model into ``export_dir``; models it does
    not cover fall back to sentence-transformers. "sentence-transformers": always PyTorch."""

    precision: Literal["int8", "float32"] = "int8"
    """The embedder's weights in ONNX Runtime. "int8" (weights quantised per channel, once, beside the export): 1.7×
    the texts a second and a smaller process, vectors at cosine 0.99 to float32's, and LoCoMo recall within ±0.005
    of float32's (bench/README.md). An index keeps the precision it was built with until ``pmem memory reindex``.
    Models the ONNX path does not cover, and the sentence-transformers backend, always run in float32."""

    tuned: bool = True
    """Search with pmem's retrieval tuning of the packaged all-MiniLM-L6-v2: a small low-rank change to its weights,
    taught on question -> answer-turn pairs of LoCoMo conversations 0-4 (no user data), merged into a copy of the
    model once, in ``export_dir``. On LoCoMo conversations it never saw it recalls far more of the evidence than the
    model as shipped (bench/README.md). An index built without it is searched without it until ``pmem memory
    reindex``; a configured ``path`` never gets it (it fits the packaged model only)."""

    export_dir: str = ""
    """Where the ONNX export is kept. Empty: ``embedders/`` in the cache dir. It is derived from the model's
    files alone (no personal data), so several data dirs may share one."""


@dataclass
class MemorySettings:
    """Episodic memory and retrieval."""

    enabled: bool = True
    """Put remembered facts and past exchanges into the prompt."""

    retrieve_k: int = 6
    """How many past exchanges to put into the prompt at most. Six, each cut to the turn that matched, carry as
    much of the evidence as the eight whole exchanges before them in 30 % fewer tokens, and the embedded 135M
    model answers no worse with them (bench/README.md); a larger model may use more."""

    memory_budget: int = 1024
    """Token budget for retrieved memories in the prompt."""

    min_similarity: float = 0.25
    """Leave out memories less similar than this (cosine) to the message, unless their words match it closely."""

    fresh_per_turn: int = 3
    """How many memories found for a new message join the anticipated ones. They are what the message itself
    recalls, but each costs prompt evaluation before the first token; 0 uses anticipated memories only."""

    memory_chars: int = 320
    """Longest text of one memory in the prompt, in characters (longer exchanges are cut, marked with …)."""

    fresh_chars: int = 0
    """When above 0, a memory read after the message was sent (not already in the KV cache, so its tokens delay the
    first one) is only its matched turn, cut to this many characters around what the message asks about. Off by
    default: measured on LoCoMo 0-4 (``bench/answer_eval.py --prompt-only``, 200 questions), 320 saves 22 % of the
    prompt's tokens but the answer reaches the prompt for 0.295 of questions instead of 0.310 (240: 0.290, 160:
    0.245); pmem does not buy speed with recall by default."""

    query_adapter: bool = True
    """Move a question's vector towards the kind of turn that answers it, through a small linear map learned for the
    embedder pmem ships (no user data in it; a configured embedder gets none). Measured on LoCoMo conversations
    5-9, never trained on: 0.715 -> 0.730 of questions with all their evidence recalled (bench/README.md). The tuned
    embedder (``embedder.tuned``, the default) needs none: it applies to an index built before the tuning."""

    anticipate: bool = True
    """While you read or type, pre-load memories related to the conversation into the model's KV cache, so the
    next reply starts sooner; memories specific to your next message are still added when you send it."""

    chroma_mode: Literal["embedded", "http"] = "embedded"
    """``embedded`` keeps vectors on this disk; ``http`` uses a Chroma server (``chromadb.HttpClient``)."""

    chroma_host: str = "127.0.0.1"
    """For ``chroma_mode = "http"``: the Chroma server's host."""

    chroma_port: int = 8000
    """For ``chroma_mode = "http"``: the Chroma server's port."""


@dataclass
class ProfileSettings:
    """The profile of facts about the user."""

    extract: bool = True
    """Distil facts about the user from each exchange, in the background."""

    extraction_model: str = ""
    """GGUF used to extract facts. Empty: the chat model."""

    use_model: Literal["auto", "always", "never"] = "auto"
    """Ask the model for facts besides pmem's own patterns. ``auto``: yes, unless the extraction model is the
    embedded SmolLM2-135M, which lowers precision more than it adds (see bench/README.md)."""


@dataclass
class DistillSettings:
    """Parametric memory: a LoRA adapter distilled from the profile and memories (needs ``pmem[distill]``)."""

    use_adapter: bool = True
    """Load the newest adapter trained for the current model on top of it (``pmem distill --off`` turns this off)."""

    auto: bool = True
    """Retrain in the background, at a low priority, once enough is new (see ``min_new``)."""

    min_new: int = 20
    """How many facts and memories must be new, changed or forgotten since the last adapter before an automatic retrain."""

    rank: int = 8
    """LoRA rank."""

    alpha: float = 16.0
    """LoRA alpha (the adapter is scaled by alpha / rank)."""

    epochs: int = 6
    """Passes over the training examples."""

    learning_rate: float = 1e-3
    """AdamW learning rate."""

    max_examples: int = 400
    """Most training examples per run (facts first, then the most recent memories)."""

    threads: int = 0
    """CPU threads for training. 0: the same as ``model.n_threads``."""
    low_memory: bool = True
    """Recompute each layer's activations in the backward pass instead of keeping them (gradient checkpointing).
    Measured with SmolLM2-135M on 2 cores (``bench/distill_eval.py``): peak memory of the distilling process 1.42 GB
    instead of 1.55 GB, training about 1.5× as long. Turn off to train faster where memory is plentiful."""

    min_pairs: int = 8
    """A preference stage (DPO on your feedback: /good, /bad, /edit, /retry) follows the fact stage once at least
    this many preference pairs exist (``pmem feedback list``)."""

    beta: float = 0.1
    """DPO's β: how far the preference stage may move the adapter from the base model's answers."""

    preference_epochs: int = 3
    """Passes over the preference pairs."""

    preference_nll: float = 1.0
    """Weight of the chosen answers' own likelihood beside the DPO loss (RPO); 0 is plain DPO."""

    preference_learning_rate: float = 2e-4
    """AdamW learning rate of the preference stage."""

    preference_replay: float = 1.0
    """Weight of the fact stage's own loss, on a batch of its examples, at each preference step: keeps the facts
    the adapter learned while it learns your style. 0 trains on the pairs alone."""

    busy_load: float = 0.0
    """A background run waits while the 1-minute load average is above this. 0: the number of CPU cores;
    negative: never wait for the machine."""


@dataclass
class ServeSettings:
    """``pmem serve``: the OpenAI-compatible API on this computer's model, with pmem's memory."""

    host: str = "127.0.0.1"
    """Address to listen on. Anything but loopback needs ``pmem serve --allow-remote``."""

    port: int = 8765
    """Port to listen on."""

    max_body_kb: int = 1024
    """Largest request body accepted, in KiB (larger: HTTP 413)."""


@dataclass
class UISettings:
    """The terminal UI."""

    theme: str = "textual-dark"
    """A Textual theme name; the app saves your choice here."""

    keys: dict[str, str] = field(default_factory=dict)
    """Key remaps by binding id, e.g. ``{ "toggle_memory" = "f2" }``."""


@dataclass
class BackupSettings:
    """Rolling backups of the journal (``backups/`` in the data dir; ``pmem backup``, ``pmem restore``)."""

    enabled: bool = True
    """Back the journal up at most daily when pmem is used, and before migrations, imports and profile rebuilds."""

    keep_daily: int = 7
    """Keep the newest backup of each of this many most recent days."""

    keep_weekly: int = 4
    """And of each of this many most recent weeks."""


@dataclass
class Settings:
    """Everything configurable, one section per table of the TOML file."""

    model: ModelSettings = field(default_factory=ModelSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    profile: ProfileSettings = field(default_factory=ProfileSettings)
    distill: DistillSettings = field(default_factory=DistillSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    ui: UISettings = field(default_factory=UISettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Settings for one model, by its short name, file stem or path: ``[models."qwen2.5:3b"] n_ctx = 8192``.
    Only the keys in :data:`PER_MODEL_KEYS`; they win over ``[model]`` while that model is the chat model."""


#: The ``[model]`` keys a ``[models."NAME"]`` table may set.
PER_MODEL_KEYS = ("n_ctx", "n_threads", "n_batch", "chat_format", "flash_attn", "cache_type_k", "cache_type_v")
#: Sections of :class:`Settings` that are not tables of ``key = value`` settings.
_SPECIAL_SECTIONS = {"models"}


def setting_sections() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(Settings) if f.name not in _SPECIAL_SECTIONS]


def model_settings(settings: Settings, names: tuple[str, ...] | list[str]) -> ModelSettings:
    """``[model]`` with the ``[models."NAME"]`` tables applied whose key is one of ``names`` (case does not
    matter; a later name wins)."""
    merged = dataclasses.replace(settings.model)
    wanted = [n.lower() for n in names if n]
    for key, table in settings.models.items():
        if key.lower() in wanted:
            for item, value in table.items():
                setattr(merged, item, value)
    return merged


def resolved_threads(settings: Settings, model: ModelSettings | None = None) -> int:
    """Threads for llama.cpp: the configured count, or one per physical core (capped at 8; hyperthreads share
    a core's arithmetic units and only add contention)."""
    chosen = (model or settings.model).n_threads
    if chosen > 0:
        return chosen
    return max(1, min(physical_cores(), 8))


def physical_cores() -> int:
    """Physical CPU cores (not hyperthreads): psutil when installed, else /proc/cpuinfo, else the logical count."""
    try:
        import psutil

        count = psutil.cpu_count(logical=False)
        if count:
            return int(count)
    except ImportError:
        pass
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return os.cpu_count() or 1
    cores: set[tuple[str, str]] = set()
    physical = core = ""
    for line in text.splitlines() + [""]:
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "physical id":
            physical = value
        elif key == "core id":
            core = value
        elif not key and core:
            cores.add((physical, core))
            physical = core = ""
    return len(cores) or os.cpu_count() or 1
