"""An OpenAI-compatible HTTP backend (llama.cpp's ``llama-server``, Ollama, vLLM …) for a bigger machine elsewhere.

Uses only the standard library: a streamed ``/chat/completions`` request read as server-sent events.
This is the one place pmem opens a socket, and only to the ``model.base_url`` the user configured.
"""

from __future__ import annotations

import http.client
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
        """Ask the server which models it serves: an unreachable server fails here, naming the URL, before a
        message is typed; with no ``model.remote_name`` the server's first model names the replies."""
        if self._loaded:
            return
        request = urllib.request.Request(f"{self.base_url}/models", headers=self._headers("application/json"))
        try:
            with urllib.request.urlopen(request, timeout=min(self.timeout, 10)) as response:  # noqa: S310 - user-configured URL
                listed = json.loads(response.read(1 << 20) or b"{}").get("data") or []
        except urllib.error.HTTPError:
            listed = []  # a server without /models still chats
        except (urllib.error.URLError, OSError) as exc:
            raise ModelError(f"cannot reach the model server at {self.base_url}: {getattr(exc, 'reason', exc)}") from None
        except (ValueError, AttributeError):
            listed = []
        if self.model_name == "default" and listed and isinstance(listed[0], dict) and listed[0].get("id"):
            self.model_name = str(listed[0]["id"])
        self._loaded = True

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": accept}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _request(self, body: dict) -> urllib.request.Request:
        return urllib.request.Request(
            f"{self.base_url}/chat/completions", data=json.dumps(body).encode(), headers=self._headers("text/event-stream"), method="POST"
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
        if params.stop:
            body["stop"] = list(params.stop)
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
        except urllib.error.HTTPError as exc:
            raise ModelError(f"the model server at {self.base_url} refused the request: HTTP {exc.code} {_detail(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(f"cannot reach the model server at {self.base_url}: {reason}") from None
        ended_well = False
        with response:
            try:
                for raw in response:
                    if cancel is not None and cancel.is_set():
                        finish, ended_well = "cancelled", True
                        break
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        ended_well = True
                        break
                    try:
                        choice = json.loads(data)["choices"][0]
                    except (ValueError, KeyError, IndexError, TypeError):
                        continue
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if choice.get("finish_reason"):
                        finish, ended_well = choice["finish_reason"], True
                    if piece:
                        count += 1
                        if first is None:
                            first = time.perf_counter()
                            stats.ttft_s = first - started
                        yield piece
            except (OSError, http.client.HTTPException) as exc:
                raise ModelError(f"the model server at {self.base_url} stopped in the middle of the reply ({type(exc).__name__}); what arrived is kept") from None
        if not ended_well:
            raise ModelError(f"the model server at {self.base_url} closed the connection in the middle of the reply; what arrived is kept")
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


def _detail(error: urllib.error.HTTPError) -> str:
    """The server's own error message, on one line and short (servers put it in ``error.message`` or the body)."""
    try:
        body = error.read(4096).decode("utf-8", "replace")
        message = json.loads(body).get("error", body)
        message = message.get("message", message) if isinstance(message, dict) else message
    except (OSError, ValueError, AttributeError):
        message = error.reason
    return " ".join(str(message).split())[:300]
