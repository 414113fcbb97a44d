"""What the user can do with their remembered exchanges: list, search, reindex and forget them, and what the
memory layer has to tell them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pmem.core.errors import InputError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.forget import ForgetReport
    from pmem.core.memory.episodes import Episode
    from pmem.core.memory.retrieval import Hit
    from pmem.core.memory.service import Progress


def repairs() -> list[str]:
    """Derived indexes this process found damaged and rebuilt (each said once)."""
    from pmem.core.store import fts

    return fts.take_notices()


class MemoryActions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def warm(self) -> None:
        """Load the embedder and catch up on indexing (after the model is usable, never before)."""
        memory = self.runtime.memory
        memory.embedder.load()
        memory.reconcile()
        memory.indexer.wake()

    def notice(self, *, rebuild: bool = True) -> str:
        """What the memory layer has to tell the user, once: a damaged index found during the reply (the vector
        store is started afresh and rebuilt from the journal now; the full-text index was rebuilt already)."""
        notes = repairs()
        layers = self.runtime.layers_open
        if layers is not None:
            memory = layers.episodic
            if memory.vectors.rebuilt and rebuild:  # else the background indexer does it
                memory.index_pending()
            if memory.notice:
                notes.append(memory.notice)
            memory.notice = ""
        return "; ".join(notes)

    def last_recalled(self) -> list[Hit]:
        """The memories the last reply was given (for a panel)."""
        layers = self.runtime.layers_open
        return list(layers.episodic.last_hits) if layers is not None else []

    def newest(self, limit: int = 20, session: str | None = None) -> list[Episode]:
        """Remembered exchanges, newest first."""
        memory = self.runtime.memory
        memory.reconcile_episodes()
        return memory.episodes.newest(limit, session)

    def get(self, memory_id: str) -> Episode | None:
        return self.runtime.memory.get(memory_id)

    def search(self, text: str, k: int = 8, *, notice: Callable[[str], None] | None = None) -> list[Hit]:
        """Search as the chat recalls (dense + lexical + recency), after catching up on indexing."""
        if not text.strip():
            raise InputError("empty search query")
        say = notice or (lambda line: None)
        memory = self.runtime.memory
        memory.embedder.load_in_background()
        memory.reconcile()
        for line in [*repairs(), memory.notice]:
            if line:
                say(line)
        memory.index_pending()
        hits = memory.search(text, k)
        for line in repairs():  # found by the search itself (the full-text index's segments)
            say(line)
        if memory.vectors.rebuilt:  # found damaged by the search itself: rebuilt from the journal, then asked again
            memory.notice = ""
            memory.index_pending()
            if memory.notice:
                say(memory.notice)
            hits = memory.search(text, k)
        return hits

    @staticmethod
    def hit_dicts(hits: list[Hit]) -> list[dict[str, Any]]:
        from pmem.core.memory.retrieval import hit_dicts

        return hit_dicts(hits)

    def stats(self) -> dict[str, Any]:
        return self.runtime.memory.stats()

    def reindex(self, progress: Progress | None = None) -> int:
        return self.runtime.memory.reindex(progress=progress)

    def count_matching(self, text: str) -> int:
        return len(self.runtime.journal.turn_ids_containing(text))

    def live_ids(self) -> set[str]:
        return self.runtime.memory.episodes.all_ids()

    def forget(self, memory_id: str) -> ForgetReport:
        if self.get(memory_id) is None:
            raise InputError(f"no memory with id {memory_id}")
        return self.runtime.forget.episode(memory_id)

    def forget_matching(self, text: str) -> ForgetReport:
        if not text.strip():
            raise InputError("--match needs some text")
        return self.runtime.forget.matching(text)
