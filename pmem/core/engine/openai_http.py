"""An OpenAI-compatible HTTP backend (llama.cpp's ``llama-server``, Ollama, vLLM …) for a bigger machine elsewhere.

Uses only the standard library: a streamed ``/chat/completions`` request read as server-sent events.
This is the one place pmem opens a socket, and only to the ``model.base_url`` the user configured.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from pmem.core.engine.base import ChatEngine, ChatMessage, GenerationParams, GenerationStats
from pmem.core.errors import ConfigError, ModelError


class OpenAIEngine(ChatEngine):
    def __init__(self, *, base_url: str, model: str, api_key_env: str = "", n_ctx: int = 4096, timeout: float = 600) -> None:
        if not base_url:
            raise ConfigError("model.backend is 'openai' but model.base_url is empty; set it to e.g. http://127.0.0.1:8080/v1")
        self.base_url = base_url.rstrip("/")
        self.model_name = model or "default"
        self.n_ctx = n_ctx
        self.timeout = timeout
        self.api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.last_stats = GenerationStats()
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        self._loaded = True

    def _request(self, body: dict) -> urllib.request.Request:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(
            f"{self.base_url}/chat/completions", data=json.dumps(body).encode(), headers=headers, method="POST"
        )

    def stream(
        self, messages: list[ChatMessage], params: GenerationParams, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        body: dict = {
            "model": self.model_name,
            "messages": messages,
            "stream": True,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed >= 0:
            body["seed"] = params.seed
        if params.json_schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "out", "schema": params.json_schema}}
        stats = GenerationStats(prompt_tokens=self.count_prompt_tokens(messages))
        self.last_stats = stats
        started = time.perf_counter()
        first = None
        count = 0
        finish = "stop"
        try:
            response = urllib.request.urlopen(self._request(body), timeout=self.timeout)  # noqa: S310 - user-configured URL
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(f"cannot reach the model server at {self.base_url}: {reason}") from None
        with response:
            for raw in response:
                if cancel is not None and cancel.is_set():
                    finish = "cancelled"
                    break
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    choice = json.loads(data)["choices"][0]
                except (ValueError, KeyError, IndexError):
                    continue
                piece = (choice.get("delta") or {}).get("content") or ""
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
                if piece:
                    count += 1
                    if first is None:
                        first = time.perf_counter()
                        stats.ttft_s = first - started
                    yield piece
        ended = time.perf_counter()
        stats.prompt_eval_tokens = stats.prompt_tokens
        stats.completion_tokens = count
        stats.gen_s = ended - (first or ended)
        stats.finish_reason = finish  # type: ignore[assignment]

    def count_tokens(self, text: str) -> int:
        # The server's tokenizer is not available locally; ~4 characters per token is the usual estimate.
        return max(1, (len(text) + 3) // 4)

    def count_prompt_tokens(self, messages: list[ChatMessage]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages) + 2
