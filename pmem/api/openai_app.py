"""``pmem serve``: an OpenAI-compatible API (Starlette on uvicorn) on the local model, with pmem's memory.

Private by default: every request needs the data dir's bearer token; bodies are bounded; requests are checked
against the fields of OpenAI's chat completions API (an unknown field is a 400, as OpenAI answers it); one
generation runs at a time (one llama.cpp context serves them all), the others wait their turn.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pmem.core.assistant import Assistant
from pmem.core.errors import InputError, PmemError

MODEL = "pmem"
PRIVATE_MODEL = "pmem-private"
"""The model name that turns memory off for a call (as ``"pmem": {"memory": false}`` does)."""


# --------------------------------------------------------------------------- the request, as OpenAI defines it


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str = ""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[_Part] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class _PmemOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    memory: bool = True


class ChatRequest(BaseModel):
    """The fields of OpenAI's ``POST /v1/chat/completions`` pmem honours (or accepts and ignores: penalties,
    ``user``, ``stream_options``); anything else is refused by name."""

    model_config = ConfigDict(extra="forbid")
    model: str
    messages: list[_Message] = Field(min_length=1, max_length=1000)
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(1, ge=1, le=1)
    user: str | None = None
    stream_options: dict[str, Any] | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    pmem: _PmemOptions | None = None


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status)


def _validation_message(error: ValidationError) -> tuple[str, str | None]:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        return f"Unrecognized request argument supplied: {where}", where
    return f"Invalid value for '{where}': {first['msg']}", where


# --------------------------------------------------------------------------- middleware: size and token


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413, by Content-Length or while reading a chunked body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _drain(receive)
            await _error(413, f"request body over the limit of {self.limit} bytes (serve.max_body_kb)", code="body_too_large")(scope, receive, send)
            return
        seen = 0

        async def bounded() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, bounded, send)
        except _TooLarge:
            await _drain(receive)
            await _error(413, f"request body over the limit of {self.limit} bytes (serve.max_body_kb)", code="body_too_large")(scope, receive, send)


class _TooLarge(Exception):
    pass


DRAIN_LIMIT = 64 << 20
"""A refused body is read (and dropped) up to this much, so the client is reading when the 413 comes rather than
still writing into a closed connection; beyond it the connection is simply closed."""


async def _drain(receive: Receive) -> None:
    drained = 0
    while drained <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body"):
            return


class BearerToken:
    """Every request carries ``Authorization: Bearer <token>``, compared in constant time."""

    def __init__(self, app: ASGIApp, matches: Callable[[str], bool]) -> None:
        self.app = app
        self.matches = matches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token or not self.matches(token.strip()):
                response = _error(401, "missing or wrong API key: send 'Authorization: Bearer <token>' (pmem serve --show-token)", code="invalid_api_key")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- the app


def create_app(assistant: Assistant, *, token: str, max_body: int) -> Starlette:
    """The API over ``assistant``. ``token``: the bearer token every request must carry."""
    from pmem.core.access import token_matches

    generation = threading.Lock()

    async def models(_request: Request) -> Response:
        now = int(time.time())
        data = [{"id": name, "object": "model", "created": now, "owned_by": "pmem"} for name in (MODEL, PRIVATE_MODEL)]
        return JSONResponse({"object": "list", "data": data})

    async def completions(request: Request) -> Response:
        try:
            raw = await request.body()
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "the request body must be a JSON object")
        try:
            req = ChatRequest.model_validate(body)
        except ValidationError as exc:
            message, param = _validation_message(exc)
            return _error(400, message, param=param)
        if req.model not in (MODEL, PRIVATE_MODEL):
            return _error(404, f"The model '{req.model}' does not exist; this server has '{MODEL}' and '{PRIVATE_MODEL}'", code="model_not_found", param="model")
        messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages if m.role != "tool"]
        if not messages or messages[-1]["role"] != "user" or not messages[-1]["content"].strip():
            return _error(400, "the last message must be a non-empty user message", param="messages")
        memory = req.model == MODEL and (req.pmem is None or req.pmem.memory)
        stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
        params: dict[str, Any] = {
            "max_tokens": req.max_completion_tokens or req.max_tokens, "temperature": req.temperature,
            "top_p": req.top_p, "seed": req.seed, "stop": stop or None,
        }
        ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if req.stream:
            return StreamingResponse(_sse(assistant, generation, messages, memory, params, ident, req.model), media_type="text/event-stream")
        cancel = threading.Event()
        try:
            result = await asyncio.to_thread(_whole, assistant, generation, messages, memory, params, cancel)
        except InputError as exc:
            return _error(400, str(exc))
        except PmemError as exc:
            return _error(500, str(exc), kind="server_error")
        except asyncio.CancelledError:
            cancel.set()
            raise
        text, service = result
        return JSONResponse(_completion(ident, req.model, text, service))

    return Starlette(
        routes=[Route("/v1/models", models, methods=["GET"]), Route("/v1/chat/completions", completions, methods=["POST"])],
        middleware=[Middleware(BearerToken, matches=lambda given: token_matches(token, given)), Middleware(BodyLimit, limit=max_body)],
    )


def _whole(assistant: Assistant, lock: threading.Lock, messages: list[dict[str, str]], memory: bool, params: dict[str, Any], cancel: threading.Event) -> tuple[str, Any]:
    with lock:
        pieces, service = assistant.answer(messages, memory=memory, cancel=cancel, **params)
        try:
            return "".join(pieces).strip(), service
        finally:
            pieces.close()


def _finish(service: Any) -> str:
    return "length" if service.last.stats.finish_reason == "length" else "stop"


def _extension(service: Any) -> dict[str, Any]:
    """What pmem adds to the response: where the exchange was journaled (to find or forget it later)."""
    info = service.last
    return {
        "session": service.session.id if service.journal is not None and service.session is not None else None,
        "turns": [t.uid for t in (info.user_turn, info.assistant_turn) if t is not None],
        "memories": [m.id for m in (info.prompt.memories if info.prompt is not None else [])],
    }


def _completion(ident: str, model: str, text: str, service: Any) -> dict[str, Any]:
    stats = service.last.stats
    return {
        "id": ident, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": _finish(service)}],
        "usage": {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens, "total_tokens": stats.prompt_tokens + stats.completion_tokens},
        "pmem": _extension(service),
    }


async def _sse(
    assistant: Assistant, lock: threading.Lock, messages: list[dict[str, str]], memory: bool, params: dict[str, Any], ident: str, model: str
) -> AsyncIterator[str]:
    """Server-sent events of the reply, generated on a thread; a client that goes away cancels the generation."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = threading.Event()

    def put(kind: str, value: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def produce() -> None:
        try:
            with lock:
                pieces, service = assistant.answer(messages, memory=memory, cancel=cancel, **params)
                try:
                    for piece in pieces:
                        put("piece", piece)
                finally:
                    pieces.close()
                put("done", service)
        except PmemError as exc:
            put("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the client, never a dead stream
            put("error", f"internal error: {type(exc).__name__}: {exc}")

    threading.Thread(target=produce, name="pmem-serve-generate", daemon=True).start()
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        while True:
            kind, value = await queue.get()
            if kind == "piece":
                yield chunk({"content": value})
            elif kind == "done":
                yield chunk({}, _finish(value), pmem=_extension(value))
                break
            else:
                yield f"data: {json.dumps({'error': {'message': value, 'type': 'server_error'}})}\n\n"
                break
        yield "data: [DONE]\n\n"
    finally:
        cancel.set()  # the client went away (or the stream ended): stop generating at the next token
