"""The chat model: which GGUF models this computer has, which one pmem chats with, and changing it for good or for
one session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pmem.core.errors import PmemError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.chat import ChatService
    from pmem.core.discovery import FoundModel


@dataclass(frozen=True)
class ModelChange:
    """What ``ModelActions.use`` changed, for the face to say."""

    name: str
    path: Path
    previous: Path | None
    """The chat model until now (None: the configured one could not be found or read)."""
    architecture: str
    parameters: int | None
    quantization: str
    old_adapter: str | None
    """The adapter applied until now, trained on the previous model: not applied to the new one."""
    new_adapter: str | None
    """An adapter trained earlier for the new model, applied from now on."""

    def lines(self) -> list[str]:
        size = f"{self.parameters / 1e9:.2f}B parameters" if self.parameters else "size unknown"
        quant = f", {self.quantization}" if self.quantization else ""
        out = [f"chat model: {self.name} ({self.path}; {self.architecture}, {size}{quant})"]
        if self.path == self.previous:
            out.append("it was already the chat model; nothing else changes")
            return out
        out.append(f"was: {self.previous}" if self.previous is not None else "was: a model that could not be found or read")
        if self.old_adapter:
            out.append(f"adapter {self.old_adapter} was trained on the previous model and is not applied to this one")
        if self.new_adapter:
            out.append(f"adapter {self.new_adapter}, trained earlier for this model, is applied")
        elif self.old_adapter:
            out.append("run 'pmem distill' to train an adapter for this model")
        return out


class ModelActions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def found(self) -> list[FoundModel]:
        """The GGUF models on this computer (the embedded one, the configured one, Ollama's, LM Studio's, …)."""
        from pmem.core.discovery import discover

        model = self.runtime.settings.model
        return discover(model.search_paths, configured=model.path)

    def current(self) -> Path:
        from pmem.core.discovery import resolve_model

        return resolve_model(self.runtime.chosen_model, self.runtime.settings.model.search_paths)

    def use(self, name: str) -> ModelChange:
        """Make ``name`` (a short name or a path) the configured chat model: ``model.path`` in the config file."""
        from pmem.core.config import save_setting
        from pmem.core.discovery import EMBEDDED_NAME, resolve_model
        from pmem.core.models import embedded_chat_model, read_gguf_info

        rt = self.runtime
        search = rt.settings.model.search_paths
        new = resolve_model(name, search)
        info = read_gguf_info(new, count_parameters=True)
        try:
            old: Path | None = resolve_model(rt.settings.model.path, search)
        except PmemError:
            old = None  # the configured model is gone or broken: choosing another is how the user mends it
        stale = self._live_adapter() if old is not None and new != old else None
        save_setting(rt.paths, "model.path", "" if name == EMBEDDED_NAME or new == embedded_chat_model() else str(new))
        rt.settings.model.path = str(new)
        rt.model_override = None
        rt.reset_model()
        return ModelChange(name, new, old, info.architecture, info.parameters, info.quantization, stale, self._live_adapter())

    def switch(self, chat: ChatService | None, name: str) -> str:
        """Chat with another model from the next reply on, keeping the conversation (the new model reads it
        whole on its first reply). Only this session: ``use`` changes the configured one."""
        if chat is not None:
            engine = chat.change_engine(lambda: self.runtime.switch_model(name))
        else:
            engine = self.runtime.switch_model(name)
        notes = [n for n in (self.runtime.adapter_note, getattr(engine, "adapter_error", "")) if n]
        adapter = " + its adapter" if engine.adapter_id else ""
        return f"Now chatting with {engine.model_name}{adapter} (context {engine.n_ctx} tokens); the conversation goes on." + "".join(
            f" {n}." for n in notes
        )

    def _live_adapter(self) -> str | None:
        rt = self.runtime
        if not rt.paths.database.exists():
            return None
        live = rt.distill.active()
        return live.id if live else None
