"""Model engines: one small interface, several backends (in-process llama.cpp, OpenAI-compatible HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmem.core.engine.base import (
    ChatEngine,
    ChatMessage,
    GenerationParams,
    GenerationStats,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pmem.core.config import Settings

__all__ = ["ChatEngine", "ChatMessage", "GenerationParams", "GenerationStats", "create_engine"]

REMOTE_CONTEXT = 4096
"""The context assumed for a model server when ``model.n_ctx`` is 0 (the server does not say its own)."""


def create_engine(settings: Settings, model_path: str | None = None, adapter: tuple[Path, str] | None = None) -> ChatEngine:
    """The engine the settings ask for; nothing heavy is imported until ``load()``. ``model_path``: a path or
    a short name found by discovery (None: ``model.path``). ``adapter``: a ``(path, id)`` LoRA adapter to
    apply on top of a local model."""
    from pmem.core.config import model_settings, resolved_threads

    if settings.model.backend == "openai":
        from pmem.core.engine.openai_http import OpenAIEngine

        return OpenAIEngine(
            base_url=settings.model.base_url,
            model=settings.model.remote_name,
            api_key_env=settings.model.api_key_env,
            n_ctx=settings.model.n_ctx or REMOTE_CONTEXT,
        )
    from pmem.core.discovery import model_names, resolve_model
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.models import context_size, read_gguf_info

    from pmem.core.engine.grounding import grounding_for

    chosen = model_path if model_path is not None else settings.model.path
    path = resolve_model(chosen, settings.model.search_paths)
    grounding = grounding_for(path) if settings.model.grounding_adapter else None
    model = model_settings(settings, model_names(chosen, path, settings.model.search_paths) if settings.models else ())
    engine = LlamaCppEngine(
        path,
        n_ctx=context_size(read_gguf_info(path), model.n_ctx),
        n_threads=resolved_threads(settings, model),
        n_batch=model.n_batch,
        flash_attn=model.flash_attn,
        cache_types=(model.cache_type_k, model.cache_type_v),
        chat_format=model.chat_format,
        lora_path=adapter[0] if adapter else None,
        base_adapters=((grounding.path, grounding.scale),) if grounding else (),
    )
    engine.adapter_id = adapter[1] if adapter else ""
    return engine
