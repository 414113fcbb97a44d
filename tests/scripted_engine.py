"""A deterministic engine used only by the snapshot tests, so a screenshot never depends on sampling or timing.

Every behavioural test uses the real llama.cpp engine; this exists because a snapshot must be byte-stable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pmem.core.engine.base import ChatEngine, ChatMessage, GenerationParams, GenerationStats


class ScriptedEngine(ChatEngine):
    def __init__(self, reply: str = "Hello! Here is some code:\n\n```python\nprint('hi')\n```\n") -> None:
        self.reply = reply
        self.model_name = "scripted-model"
        self.n_ctx = 4096
        self.last_stats = GenerationStats()
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        self._loaded = True

    def stream(self, messages: list[ChatMessage], params: GenerationParams, cancel: threading.Event | None = None) -> Iterator[str]:
        pieces = self.reply.split(" ")
        for i, piece in enumerate(pieces):
            if cancel is not None and cancel.is_set():
                break
            yield piece + (" " if i < len(pieces) - 1 else "")
        self.last_stats = GenerationStats(
            prompt_tokens=120, prompt_eval_tokens=20, completion_tokens=len(pieces), ttft_s=0.1, gen_s=1.0, finish_reason="stop"
        )

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def count_prompt_tokens(self, messages: list[ChatMessage]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)
