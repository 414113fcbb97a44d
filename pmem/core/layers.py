"""The memory layers together, as the chat service sees them: profile block, recall, and learning."""

from __future__ import annotations

from dataclasses import replace

from pmem.core.config import Paths, Settings
from pmem.core.engine.base import ChatEngine
from pmem.core.forget import Forgetter
from pmem.core.memory.service import MemoryService
from pmem.core.profile.extract import explicit_request
from pmem.core.profile.service import ProfileService
from pmem.core.prompt import MemorySnippet
from pmem.core.store.journal import Turn


class MemoryLayers:
    """Implements the chat service's ``Recall``: journal-derived episodes plus the profile."""

    def __init__(self, settings: Settings, episodic: MemoryService, profile: ProfileService, forget: Forgetter) -> None:
        self.settings = settings
        self.episodic = episodic
        self.profile = profile
        self.forget = forget

    def profile_block(self) -> str:
        return self.profile.block() if self.settings.memory.enabled else ""

    def recall(
        self, query: str, *, exclude_session: str | None = None, exclude_ids: frozenset[str] = frozenset(), k: int | None = None
    ) -> list[MemorySnippet]:
        memories = self.episodic.recall(query, exclude_session=exclude_session, exclude_ids=exclude_ids, k=k)
        if not memories:
            return memories
        changed = self.profile.changed_since([i for m in memories for i in m.turn_ids])
        return [replace(m, later=changed[i]) if (i := next((t for t in m.turn_ids if t in changed), None)) is not None else m
                for m in memories]

    def on_user_turn(self, turn: Turn) -> str | None:
        """Explicit "remember that …" / "forget that …" requests are honoured at once, before the reply."""
        request = explicit_request(turn.content)
        if request is None:
            return None
        verb, what = request
        if verb == "remember":
            changes = self.profile.remember(what, [turn.id])
            return "remembered: " + "; ".join(c.fact.statement for c in changes) if changes else None
        forgotten = self.profile.matching(what)
        if not forgotten:
            return "nothing in the profile matched that"
        return "forgot: " + "; ".join(self.forget.facts(forgotten).fact_statements)

    def remember_exchange(self, user: Turn, assistant: Turn | None, *, learn: bool = True) -> None:
        self.episodic.remember_exchange(user, assistant)
        if learn and self.settings.profile.extract and explicit_request(user.content) is None:
            self.profile.learn_in_background(user)

    def pause_background(self) -> None:
        self.episodic.pause_background()
        self.profile.pause()
        _mark_interactive(self.episodic.paths, True)

    def resume_background(self) -> None:
        _mark_interactive(self.episodic.paths, False)
        self.episodic.resume_background()
        self.profile.resume()

    def check_adapter(self, engine: ChatEngine) -> str | None:
        """Before each turn: an adapter forgotten since it was loaded (here or in another process) stops now,
        and one trained meanwhile (a background run finished) starts now."""
        if not engine.adapter_id and not engine.adapter_base:
            return None
        from pmem.core.distill.store import AdapterStore

        store = AdapterStore(self.episodic.conn, self.episodic.paths.adapters_dir)
        note = None
        if engine.adapter_id and not store.is_active(engine.adapter_id):
            note = f"adapter {engine.adapter_id} is no longer used: something it was trained on was forgotten"
            engine.drop_adapter()
        live = store.active(engine.adapter_base) if engine.adapter_base else None
        if live is not None and live.id != engine.adapter_id and engine.set_adapter(store.path(live), live.id):
            note = f"now using adapter {live.id}, distilled from {live.facts} facts and {live.episodes} memories"
        return note

    def flush(self, timeout: float | None = None) -> None:
        self.profile.flush(timeout)
        self.episodic.flush(timeout)

    def close(self) -> None:
        self.profile.close()
        self.episodic.close()


def _mark_interactive(paths: Paths, busy: bool) -> None:
    """Tell a background distillation (another process) that the user is waiting on the model."""
    from pmem.core.distill.service import interactive_marker

    marker = interactive_marker(paths)
    try:
        if busy:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache dir only costs the pause
