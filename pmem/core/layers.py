"""The memory layers together, as the chat service sees them: profile block, recall, and learning."""

from __future__ import annotations

from pmem.core.config import Paths, Settings
from pmem.core.engine.base import ChatEngine
from pmem.core.memory.service import MemoryService
from pmem.core.profile.extract import explicit_request
from pmem.core.profile.service import ProfileService
from pmem.core.prompt import MemorySnippet
from pmem.core.store.journal import Turn


class MemoryLayers:
    """Implements the chat service's ``Recall``: journal-derived episodes plus the profile."""

    def __init__(self, settings: Settings, episodic: MemoryService, profile: ProfileService) -> None:
        self.settings = settings
        self.episodic = episodic
        self.profile = profile

    def profile_block(self) -> str:
        return self.profile.block() if self.settings.memory.enabled else ""

    def recall(
        self, query: str, *, exclude_session: str | None = None, exclude_ids: frozenset[str] = frozenset(), k: int | None = None
    ) -> list[MemorySnippet]:
        return self.episodic.recall(query, exclude_session=exclude_session, exclude_ids=exclude_ids, k=k)

    def on_user_turn(self, turn: Turn) -> str | None:
        """Explicit "remember that …" / "forget that …" requests are honoured at once, before the reply."""
        request = explicit_request(turn.content)
        if request is None:
            return None
        verb, what = request
        if verb == "remember":
            changes = self.profile.remember(what, [turn.id])
            return "remembered: " + "; ".join(c.fact.statement for c in changes) if changes else None
        forgotten = self.profile.forget(what)
        if forgotten:
            self.episodic.purge()
        return "forgot: " + "; ".join(f.statement for f in forgotten) if forgotten else "nothing in the profile matched that"

    def remember_exchange(self, user: Turn, assistant: Turn | None) -> None:
        self.episodic.remember_exchange(user, assistant)
        if self.settings.profile.extract and explicit_request(user.content) is None:
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
        return self.episodic.check_adapter(engine)

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
