"""The engine interface every backend implements.

Engines are synchronous and single-threaded by design: llama.cpp contexts are not thread-safe,
so callers (the chat service, the TUI's worker) serialise access and cancel through an Event.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    repeat_penalty: float = 1.1
    seed: int = -1
    json_schema: dict | None = None
    """Constrain the reply to JSON matching this schema (llama.cpp grammar)."""
    stop: tuple[str, ...] = ()
    """End the reply before any of these strings (besides the chat template's own end markers)."""


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    """Tokens in the rendered prompt."""
    prompt_eval_tokens: int = 0
    """Prompt tokens llama.cpp actually evaluated; the rest came from the reused KV prefix."""
    completion_tokens: int = 0
    ttft_s: float = 0.0
    """Seconds from the call to the first token."""
    gen_s: float = 0.0
    """Seconds from the first token to the last."""
    finish_reason: Literal["stop", "length", "cancelled", ""] = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        if self.completion_tokens <= 1 or self.gen_s <= 0:
            return 0.0
        return (self.completion_tokens - 1) / self.gen_s


class ChatEngine(ABC):
    """Load a model, stream a chat reply, count tokens, cancel."""

    model_name: str = ""
    n_ctx: int = 0
    last_stats: GenerationStats
    adapter_id: str = ""
    """The pmem LoRA adapter applied on top of the model, if any."""
    adapter_base: str = ""
    """Fingerprint of the model file adapters must have been trained on; empty: adapters are not used."""

    @property
    @abstractmethod
    def loaded(self) -> bool: ...

    @abstractmethod
    def load(self) -> None:
        """Load weights or connect; raises a one-line ``ModelError`` on failure."""

    @abstractmethod
    def stream(
        self, messages: list[ChatMessage], params: GenerationParams, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield reply text pieces; stops early when ``cancel`` is set; sets ``last_stats`` when done."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes with this model's tokenizer."""

    @abstractmethod
    def count_prompt_tokens(self, messages: list[ChatMessage]) -> int:
        """Tokens the rendered chat prompt for ``messages`` takes (template included)."""

    def prime_prefix(self, system: str, cache_dir: Path | None) -> str:
        """Make the stable prompt prefix cheap for the next reply (engines without a local KV cache: no-op)."""
        return "cached"

    def prefill(self, messages: list[ChatMessage], cancel: threading.Event | None = None) -> int:
        """Evaluate the prompt that ``messages`` begin (ending inside the last, unfinished user message) into the
        KV cache ahead of time; returns tokens evaluated (engines without a local KV cache: 0)."""
        return 0

    def set_adapter(self, path: Path, adapter_id: str) -> bool:
        """Apply a newly trained LoRA adapter from now on; returns whether it was applied."""
        return False

    def drop_adapter(self) -> bool:
        """Stop applying the LoRA adapter (it was forgotten); returns whether one was in use."""
        return False

    def complete(self, messages: list[ChatMessage], params: GenerationParams) -> str:
        """The whole reply at once."""
        return "".join(self.stream(messages, params))

    def close(self) -> None:
        """Release the model."""
