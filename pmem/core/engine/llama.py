"""The in-process llama.cpp engine (llama-cpp-python).

One ``Llama`` instance lives as long as the engine, so llama.cpp's longest-common-prefix reuse of
the KV cache applies across turns: a stable system+profile prefix is evaluated once, not per turn.
The prompt is rendered here (not by llama-cpp-python's chat handlers) so the template is always the
one pmem chose and the token count of the prompt is exact.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pmem.core.engine.base import ChatEngine, ChatMessage, GenerationParams, GenerationStats
from pmem.core.engine.llama_compat import last_llama_error, route_llama_logs
from pmem.core.errors import ModelError
from pmem.core.models import read_gguf_info
from pmem.core.templates import ChatTemplate, choose_template

class LlamaCppEngine(ChatEngine):
    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int = 2,
        n_batch: int = 512,
        flash_attn: bool = True,
        cache_types: tuple[str, str] = ("f16", "f16"),
        chat_format: str = "",
        lora_path: Path | None = None,
        base_adapters: tuple[tuple[Path, float], ...] = (),
        seed: int = 0,
        vocab_only: bool = False,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_batch = n_batch
        self.flash_attn = flash_attn
        self.cache_types = cache_types
        """(keys, values): "f16" or "q8_0" (``model.cache_type_k`` / ``cache_type_v``)."""
        self.chat_format = chat_format
        self.lora_path = lora_path
        self.base_adapters = base_adapters
        """(path, scale) of the adapters under the user's own: pmem's grounding adapter (engine/grounding.py)."""
        self.seed = seed
        self.vocab_only = vocab_only
        self.adapter_error = ""
        self._adapters: dict[str, Any] = {}
        """Loaded LoRA handles by path (owned by the model, freed with it)."""
        self.model_name = self.model_path.name.removesuffix(".gguf")
        self.last_stats = GenerationStats()
        self._llama: Any = None
        self._load_lock = threading.Lock()
        """One load at a time: a one-shot ``pmem ask`` starts loading on a thread, and its reply's ``load()`` waits."""
        self._template: ChatTemplate | None = None
        self._jinja: Any = None
        self._special: dict[str, str] = {}
        self.architecture = ""

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (loaded on first use)."""
        self.load()
        return self._llama

    @property
    def template(self) -> ChatTemplate:
        self.load()
        assert self._template is not None
        return self._template

    def load(self) -> None:
        if self._llama is not None:
            return
        with self._load_lock:
            if self._llama is None:
                self._load()

    def _load(self) -> None:
        info = read_gguf_info(self.model_path)  # cheap header checks before llama.cpp touches the file
        self.architecture = info.architecture
        self.model_name = info.name or self.model_name
        template = choose_template(
            gguf_template=info.chat_template,
            architecture=info.architecture,
            requested=self.chat_format,
            model_name=self.model_path.name,
        )
        from pmem.core.engine.llama_compat import import_llama_cpp
        llama_cpp = import_llama_cpp()

        if self.cache_types[1] != "f16" and not self.flash_attn and not self.vocab_only:
            raise ModelError("model.cache_type_v = \"q8_0\" needs model.flash_attn = true")
        route_llama_logs(fresh=True)
        kwargs: dict[str, Any] = dict(
            model_path=str(self.model_path),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            n_batch=self.n_batch,
            flash_attn=self.flash_attn,
            type_k=getattr(llama_cpp, f"GGML_TYPE_{self.cache_types[0].upper()}"),
            type_v=getattr(llama_cpp, f"GGML_TYPE_{self.cache_types[1].upper()}"),
            seed=self.seed,
            vocab_only=self.vocab_only,
            verbose=False,
        )
        try:
            llama = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp cannot load {self.model_path}: {last_llama_error() or exc}") from None
        if not self.vocab_only:
            self._apply_adapters(llama)
        self._special = {
            "bos_token": _token_text(llama, llama.token_bos()),
            "eos_token": _token_text(llama, llama.token_eos()),
        }
        self._template = template
        self._jinja = _compile(template.source)
        self._llama = llama

    def _handle(self, llama: Any, path: Path) -> Any:
        from pmem.core.engine.llama_compat import import_llama_cpp

        key = str(Path(path).resolve())
        if key not in self._adapters:
            handle = import_llama_cpp().llama_adapter_lora_init(llama.model, str(path).encode("utf-8"))
            if handle is None:
                return None
            self._adapters[key] = handle
        return self._adapters[key]

    def _set_adapters(self, llama: Any, wanted: list[tuple[Any, float]]) -> bool:
        """Make ``wanted`` (handle, scale) the context's adapters, all at once (llama.cpp adds their deltas)."""
        from pmem.core.engine.llama_compat import import_llama_cpp

        llama_cpp = import_llama_cpp()
        if not wanted:
            return not llama_cpp.llama_set_adapters_lora(llama._ctx.ctx, None, 0, None)
        handles = (llama_cpp.llama_adapter_lora_p_ctypes * len(wanted))(*[h for h, _ in wanted])
        scales = (ctypes.c_float * len(wanted))(*[s for _, s in wanted])
        return not llama_cpp.llama_set_adapters_lora(llama._ctx.ctx, handles, len(wanted), scales)

    def _base_handles(self, llama: Any) -> list[tuple[Any, float]]:
        out = []
        for path, scale in self.base_adapters:
            handle = self._handle(llama, path)
            if handle is None:  # a damaged package file: chat with the bare model rather than not at all
                self.adapter_error = f"the grounding adapter {Path(path).name} could not be loaded ({last_llama_error() or 'unreadable'})"
                continue
            out.append((handle, scale))
        return out

    def _apply_adapters(self, llama: Any) -> None:
        """The base adapters, then the user's (a failure of the user's leaves the rest applied, and is said)."""
        wanted = self._base_handles(llama)
        if self.lora_path is not None:
            handle = self._handle(llama, self.lora_path)
            if handle is None:
                self.adapter_error = (
                    f"adapter {self.adapter_id or self.lora_path} could not be loaded ({last_llama_error() or 'unreadable'}); chatting without it"
                )
                self.lora_path, self.adapter_id = None, ""
            else:
                wanted.append((handle, 1.0))
        if wanted and not self._set_adapters(llama, wanted):
            # The model is fine but the adapters are not: chat with the bare model rather than not at all.
            self._set_adapters(llama, [])
            self.adapter_error = f"llama.cpp could not apply the adapters to {self.model_path.name}; chatting without them"
            self.lora_path, self.adapter_id, self.base_adapters = None, "", ()

    def set_adapter(self, path: Path, adapter_id: str) -> bool:
        """Apply an adapter trained while this engine was running, without reloading the model. The KV
        cache, computed without it, is cleared (the next prompt is read again, once)."""
        if self._llama is None:
            self.lora_path, self.adapter_id = Path(path), adapter_id
            return True
        handle = self._handle(self._llama, Path(path))
        if handle is None or not self._set_adapters(self._llama, [*self._base_handles(self._llama), (handle, 1.0)]):
            return False
        self._llama.reset()
        self._llama._ctx.kv_cache_clear()
        self.lora_path, self.adapter_id = Path(path), adapter_id
        return True

    def drop_adapter(self) -> bool:
        """Stop using the user's LoRA adapter on the live context (it was forgotten or replaced); the base adapters
        stay. The KV cache, computed with it, is cleared. Returns whether an adapter was in use."""
        if self.lora_path is None:
            return False
        self.lora_path = None
        self.adapter_id = ""
        if self._llama is not None:
            self._set_adapters(self._llama, self._base_handles(self._llama))
            self._llama.reset()
            self._llama._ctx.kv_cache_clear()
        return True

    def close(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    # ------------------------------------------------------------------ tokens

    def render(self, messages: list[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        """The prompt text for ``messages``, ending where the assistant's reply begins (or, without the
        generation prompt, where the last message ends: how a finished conversation is trained on)."""
        self.load()
        return str(self._jinja.render(messages=messages, add_generation_prompt=add_generation_prompt, **self._special))

    def tokenize_text(self, text: str) -> list[int]:
        """Tokens of rendered template text (special tokens parsed, no BOS added: the template writes it)."""
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def tokenize_prompt(self, messages: list[ChatMessage]) -> list[int]:
        return self.tokenize_text(self.render(messages))

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_prompt_tokens(self, messages: list[ChatMessage]) -> int:
        return len(self.tokenize_prompt(messages))

    # ------------------------------------------------------------------ the stable prefix and its saved KV state

    def prefix_tokens(self, system: str) -> list[int]:
        """Tokens every prompt with this system message starts with (template included)."""
        return self._open_tokens([{"role": "system", "content": system}, {"role": "user", "content": ""}])

    def _open_tokens(self, messages: list[ChatMessage]) -> list[int]:
        """Tokens of the prompt up to the end of the last message's text, which is left open.

        Found as the common prefix of two renderings that differ only after that text, so the tokenizer's
        merges at the boundary can never make these tokens disagree with the real prompt that follows.
        """
        last = messages[-1]
        a = self.tokenize_prompt([*messages[:-1], {"role": last["role"], "content": last["content"] + "a"}])  # type: ignore[typeddict-item]
        b = self.tokenize_prompt([*messages[:-1], {"role": last["role"], "content": last["content"] + "b"}])  # type: ignore[typeddict-item]
        return a[: common_prefix(a, b)]

    def _identity(self) -> str:
        import hashlib

        st = self.model_path.stat()
        parts = [str(self.model_path.resolve()), str(st.st_size), str(int(st.st_mtime)), str(self.n_ctx),
                 str(self.flash_attn), *self.cache_types]
        for adapter in [*(p for p, _ in self.base_adapters), *([self.lora_path] if self.lora_path is not None else [])]:
            lt = Path(adapter).stat()
            parts += [str(Path(adapter).resolve()), str(lt.st_size), str(int(lt.st_mtime))]
        parts += [str(scale) for _, scale in self.base_adapters]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]

    def prime_prefix(self, system: str, cache_dir: Path | None) -> str:
        """Put the stable prefix in the KV cache: already there, restored from disk, or computed and saved.

        The file name hashes the model, adapter, context size and the prefix tokens, so a different
        model, adapter or profile never loads a stale state. Returns "cached", "restored" or "computed".
        """
        import hashlib

        from pmem.core.engine.llama_compat import import_llama_cpp
        llama_cpp = import_llama_cpp()
        import numpy as np

        llama = self.llama
        tokens = self.prefix_tokens(system)
        if not tokens:
            return "cached"
        n = len(tokens)
        if llama.n_tokens >= n and list(llama.input_ids[:n]) == tokens:
            return "cached"
        path = None
        if cache_dir is not None:
            for stray in Path(cache_dir).glob("*.tmp") if Path(cache_dir).exists() else []:
                stray.unlink(missing_ok=True)  # a save interrupted by a crash: never loaded, now removed
            digest = hashlib.sha256(np.asarray(tokens, dtype=np.int32).tobytes()).hexdigest()[:24]
            path = Path(cache_dir) / f"{self._identity()}-{digest}.kv"
            if path.exists() and not saved_state_intact(path):  # damaged on disk: loading it would give the model garbage
                path.unlink(missing_ok=True)
                _state_sum(path).unlink(missing_ok=True)
            if path.exists():
                out = (llama_cpp.llama_token * n)()
                count = ctypes.c_size_t(0)
                llama.reset()
                if llama_cpp.llama_state_load_file(llama._ctx.ctx, str(path).encode(), out, n, ctypes.byref(count)) and count.value == n and list(out) == tokens:
                    llama.input_ids[:n] = tokens
                    llama.n_tokens = n
                    llama._requires_eval = True
                    return "restored"
                llama.reset()
                path.unlink(missing_ok=True)  # unreadable or from another llama.cpp build: recompute
        llama.reset()
        llama.eval(tokens)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            array = (llama_cpp.llama_token * n)(*tokens)
            if llama_cpp.llama_state_save_file(llama._ctx.ctx, str(tmp).encode(), array, n):
                _state_sum(path).write_text(_digest(tmp))
                tmp.replace(path)
                for old in path.parent.glob(f"{self._identity()}-*.kv"):
                    if old != path:
                        old.unlink(missing_ok=True)  # one saved prefix per model: the current profile's
                        _state_sum(old).unlink(missing_ok=True)
            else:
                tmp.unlink(missing_ok=True)
        return "computed"

    def prefill(self, messages: list[ChatMessage], cancel: threading.Event | None = None, chunk: int = 32) -> int:
        """Evaluate the start of the next prompt in small chunks (a new prompt cancels between chunks)."""
        llama = self.llama
        tokens = self._open_tokens(messages)
        if len(tokens) >= self.n_ctx - 64:
            return 0
        have = llama.n_tokens
        common = common_prefix(llama.input_ids[:have], tokens)
        if common == len(tokens):
            return 0
        if common < have:
            llama._ctx.kv_cache_seq_rm(-1, common, -1)
            llama.n_tokens = common
        done = 0
        for start in range(common, len(tokens), chunk):
            if cancel is not None and cancel.is_set():
                break
            piece = tokens[start : start + chunk]
            llama.eval(piece)
            done += len(piece)
        llama._requires_eval = True
        return done

    # ------------------------------------------------------------------ generation

    def stream(
        self, messages: list[ChatMessage], params: GenerationParams, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        llama = self.llama
        tokens = self.tokenize_prompt(messages)
        if len(tokens) >= self.n_ctx:
            raise ModelError(
                f"the prompt takes {len(tokens)} tokens but the context holds {self.n_ctx}; shorten it or raise model.n_ctx"
            )
        max_tokens = max(1, min(params.max_tokens, self.n_ctx - len(tokens)))
        grammar = None
        if params.json_schema is not None:
            grammar = _grammar_for(params.json_schema)
        from pmem.core.engine.llama_compat import import_llama_cpp
        llama_cpp = import_llama_cpp()

        ctx = llama._ctx.ctx
        llama_cpp.llama_perf_context_reset(ctx)
        # What llama-cpp-python will reuse: the longest common prefix with the cache (one token less when the
        # whole prompt is cached, to refresh the logits). Computed here because llama.cpp's own counter also
        # counts tokens pre-evaluated by ``prefill`` since the last reset.
        common = common_prefix(llama.input_ids[: llama.n_tokens], tokens)
        reuse = common - 1 if common == len(tokens) else common
        stats = GenerationStats(prompt_tokens=len(tokens), prompt_eval_tokens=len(tokens) - max(reuse, 0))
        self.last_stats = stats
        started = time.perf_counter()
        first: float | None = None
        pieces = llama.create_completion(
            prompt=tokens,
            max_tokens=max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            seed=params.seed if params.seed >= 0 else None,
            stop=[*self.template.stop, *params.stop] or None,
            grammar=grammar,
            stream=True,
        )
        finish = ""
        try:
            for chunk in pieces:
                if cancel is not None and cancel.is_set():
                    finish = "cancelled"
                    break
                choice = chunk["choices"][0]
                text = choice.get("text") or ""
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
                if text:
                    if first is None:
                        first = time.perf_counter()
                        stats.ttft_s = first - started
                    yield text
                if cancel is not None and cancel.is_set():
                    finish = "cancelled"
                    break
        finally:
            pieces.close()
            ended = time.perf_counter()
            perf = llama_cpp.llama_perf_context(ctx)
            stats.extra["llama_n_p_eval"] = float(perf.n_p_eval)
            stats.completion_tokens = int(perf.n_eval) + (1 if first is not None else 0)
            if first is None:
                stats.ttft_s = ended - started
            stats.gen_s = ended - (first or ended)
            stats.finish_reason = finish or "stop"  # type: ignore[assignment]


def common_prefix(a: Any, b: Any) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _token_text(llama: Any, token: int) -> str:
    if token < 0:
        return ""
    return str(llama._model.token_get_text(token))


def _compile(source: str) -> Any:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise ModelError(f"the model's chat template refused the conversation: {message}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)


_GRAMMARS: dict[str, Any] = {}


def _grammar_for(schema: dict) -> Any:
    """A llama.cpp grammar for a JSON schema, compiled once per schema."""
    import json

    from pmem.core.engine.llama_compat import import_llama_cpp
    llama_cpp = import_llama_cpp()

    key = json.dumps(schema, sort_keys=True)
    if key not in _GRAMMARS:
        _GRAMMARS[key] = llama_cpp.LlamaGrammar.from_json_schema(key, verbose=False)
    return _GRAMMARS[key]


def _state_sum(path: Path) -> Path:
    return path.with_name(path.name + ".b2")


def _digest(path: Path) -> str:
    import hashlib

    from pmem.core.models import hash_file

    return hash_file(path, hashlib.blake2b(digest_size=16))


def saved_state_intact(path: Path) -> bool:
    """Whether a saved KV state is the file that was written: llama.cpp checks its header and tokens, not the
    values, and a damaged range in them would be loaded as the model's memory of the prefix (a few ms for MBs)."""
    try:
        return _state_sum(path).read_text().strip() == _digest(path)
    except OSError:
        return False
