"""Model engines: one small interface, several backends (in-process llama.cpp, OpenAI-compatible HTTP)."""

from pmem.core.engine.base import ChatEngine, ChatMessage, GenerationParams, GenerationStats

__all__ = ["ChatEngine", "ChatMessage", "GenerationParams", "GenerationStats", "create_engine"]


def create_engine(settings, model_path: str | None = None, adapter=None) -> ChatEngine:  # type: ignore[no-untyped-def]
    """The engine the settings ask for; nothing heavy is imported until ``load()``. ``adapter``: a
    ``(path, id)`` LoRA adapter to apply on top of a local model."""
    from pmem.core.config import resolved_threads

    if settings.model.backend == "openai":
        from pmem.core.engine.openai_http import OpenAIEngine

        return OpenAIEngine(
            base_url=settings.model.base_url,
            model=settings.model.remote_name,
            api_key_env=settings.model.api_key_env,
            n_ctx=settings.model.n_ctx,
        )
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.models import resolve_chat_model

    engine = LlamaCppEngine(
        resolve_chat_model(model_path if model_path is not None else settings.model.path),
        n_ctx=settings.model.n_ctx,
        n_threads=resolved_threads(settings),
        n_batch=settings.model.n_batch,
        chat_format=settings.model.chat_format,
        lora_path=adapter[0] if adapter else None,
    )
    engine.adapter_id = adapter[1] if adapter else ""
    return engine
