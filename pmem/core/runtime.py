"""Wiring: turn settings and paths into open stores and engines, in one place for every face."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pmem.core.config import Paths, Settings, load_settings, resolve_paths
from pmem.core.engine import ChatEngine, create_engine
from pmem.core.store.db import connect
from pmem.core.store.journal import Journal

if TYPE_CHECKING:
    from pmem.core.memory.service import MemoryService


@dataclass
class Runtime:
    """Settings, paths and lazily opened stores for one pmem process."""

    settings: Settings
    paths: Paths
    model_override: str | None = None
    _journal: Journal | None = field(default=None, repr=False)
    _engine: ChatEngine | None = field(default=None, repr=False)
    _memory: MemoryService | None = field(default=None, repr=False)

    @classmethod
    def load(cls) -> Runtime:
        paths = resolve_paths()
        return cls(load_settings(paths), paths)

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self.paths.ensure_data_dir()
            self._journal = Journal(connect(self.paths.database))
        return self._journal

    @property
    def engine(self) -> ChatEngine:
        """The chat engine (constructed, not loaded: call ``load()`` or let the chat service do it)."""
        if self._engine is None:
            self._engine = create_engine(self.settings, self.model_override)
        return self._engine

    @property
    def memory(self) -> MemoryService:
        """Episodic memory over the journal (the embedder and Chroma load on first use)."""
        if self._memory is None:
            from pmem.core.memory.service import MemoryService

            self._memory = MemoryService(self.settings, self.paths, self.journal.conn)
        return self._memory

    def close(self) -> None:
        if self._memory is not None:
            self._memory.flush()
            self._memory.close()
        if self._engine is not None:
            self._engine.close()
        if self._journal is not None:
            self._journal.conn.close()
