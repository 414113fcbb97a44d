"""The floor of actions under every face: what a user can do with pmem, said once.

The CLI, the TUI, the API and MCP faces call these methods (grouped by what they act on: ``assistant.profile``,
``.memories``, ``.sessions``, ``.feedback``, ``.backups``, ``.models``, ``.transfer``), the runtime, the config and
the errors, and nothing else of the core (an import-linter contract says so). Each action is the whole action: a
forget purges (so do an undo and a rebuild that changed the profile), a chat is opened with the right layers for
a private or a remembered session. A face decides how to ask and how to show; never what to do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from pmem.core.assistant import drafts
from pmem.core.assistant.backups import BackupActions
from pmem.core.assistant.feedback import FeedbackActions
from pmem.core.assistant.memories import MemoryActions
from pmem.core.assistant.models import ModelActions, ModelChange
from pmem.core.assistant.profile import ProfileActions
from pmem.core.assistant.reader import Reader
from pmem.core.assistant.sessions import SessionActions
from pmem.core.assistant.transfer import ImportResult, TransferActions
from pmem.core.errors import InputError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.chat import ChatService
    from pmem.core.config import Settings
    from pmem.core.profile.model import Change, Fact


class Assistant:
    """The user's actions over one runtime, by what they act on (``profile``, ``memories``, ``sessions``,
    ``feedback``, ``backups``, ``models``, ``transfer``), and the chat itself. Cheap to make; opens nothing until an
    action needs it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.reader = Reader(runtime)
        self.profile = ProfileActions(runtime, self.reader)
        self.memories = MemoryActions(runtime)
        self.sessions = SessionActions(runtime, self.reader)
        self.feedback = FeedbackActions(runtime)
        self.backups = BackupActions(runtime)
        self.models = ModelActions(runtime)
        self.transfer = TransferActions(runtime)

    editor_command = staticmethod(drafts.editor_command)

    # ------------------------------------------------------------------ chatting

    def open_chat(
        self, *, on_learned: Callable[[list[Change]], None] | None = None, interactive: bool = False
    ) -> ChatService:
        """A chat service over the runtime's engine: with every memory layer, or, in a private session, with none
        and nothing written. ``on_learned`` hears of facts learned in the background (the TUI's notice);
        ``interactive``: a message sent before the embedder has loaded is answered with lexical recall alone
        rather than waiting for it."""
        rt = self.runtime
        if rt.private:
            return self._chat(rt.settings, remembered=False)
        if not interactive:
            # A message is coming at once: the model loads (llama.cpp, outside the GIL) while the memory layers are
            # imported and opened here; the reply's own load() waits for it, and raises what it raised.
            engine = rt.engine
            rt.in_background("pmem-load-model", _quietly(engine.load))
        layers = rt.layers
        layers.episodic.never_wait_for_embedder = interactive
        if on_learned is not None:
            layers.profile.on_change = on_learned
        if not interactive:
            # A message is coming at once (``pmem ask``, the plain chat): load the embedder and open the vector
            # store while the model loads, rather than after it (the full-screen app warms them after its first
            # paint instead).
            memory = rt.memory
            memory.embedder.load_in_background()
            rt.in_background("pmem-open-memory", _quietly(lambda: memory.vectors.collection))
        return self._chat(rt.settings, remembered=True)

    def _chat(self, settings: Settings, *, remembered: bool) -> ChatService:
        """A chat over the runtime's engine: journaled with every memory layer, or with none and nothing written."""
        from pmem.core.chat import ChatService

        rt = self.runtime
        if remembered:
            return ChatService(settings=settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=rt.layers)
        return ChatService(settings=settings, paths=rt.paths, engine=rt.engine, journal=None, recall=None)

    def background_work(self) -> list[str]:
        """What the memory layers are doing in the background, in words (reads counters only; no I/O)."""
        layers = self.runtime.layers_open
        if layers is None:
            return []
        work = ["indexing memories"] if layers.episodic.indexing else []
        if layers.profile.pending:
            work.append(f"learning from {layers.profile.pending} message(s)")
        return work

    def open_reader(self) -> None:
        """Reads from here on go through a connection of their own (see ``Reader``)."""
        self.reader.open()

    def panel(self) -> tuple[list[Fact], int]:
        """The current facts and how many memories there are."""
        from pmem.core.memory.episodes import EpisodeTable
        from pmem.core.profile.store import ProfileStore

        conn = self.reader.journal().conn
        return ProfileStore(conn).current(), EpisodeTable(conn).count()

    # ------------------------------------------------------------------ other tools (the API and MCP faces)

    def answer(
        self,
        messages: list[dict[str, str]],
        *,
        memory: bool = True,
        source: str = "api",
        cancel: threading.Event | None = None,
        **params: float | int | tuple[str, ...] | None,
    ) -> tuple[Iterator[str], ChatService]:
        """Answer the last user message of an OpenAI-style conversation as the chat would: with the profile and
        recalled memories, the exchange journaled as a conversation of its own (``source``), remembered and
        forgettable like any other. Earlier messages of the request are context only (the client keeps its own
        conversation and sends it whole each time); system messages replace pmem's system prompt for the call.
        ``memory=False``: nothing is read from memory or written. The caller runs one answer at a time (one
        model context serves them all); ``service.last`` holds the reply's statistics when the pieces end."""
        from pmem.core.config import with_overrides

        if not messages or messages[-1].get("role") != "user" or not str(messages[-1].get("content", "")).strip():
            raise InputError("the last message must be a non-empty user message")
        system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system" and m.get("content"))
        rt = self.runtime
        settings = with_overrides(rt.settings, chat__system_prompt=system) if system else rt.settings
        history = [{"role": m["role"], "content": m["content"]} for m in messages[:-1] if m.get("role") in ("user", "assistant")]
        service = self._chat(settings, remembered=memory and not rt.private)
        if service.journal is not None:
            service.session = rt.journal.new_session(messages[-1]["content"][:60], source=source)
        service.history = history  # type: ignore[assignment]
        return service.send(messages[-1]["content"], cancel=cancel, **params), service

    def api_token(self) -> str:
        from pmem.core.access import api_token

        return api_token(self.runtime.paths)

    def token_matches(self, given: str) -> bool:
        from pmem.core.access import token_matches

        return token_matches(self.api_token(), given)

    def note(self, text: str, *, session_title: str = "notes from other tools", source: str = "mcp") -> str:
        """Something another tool asks pmem to remember: journaled (in one conversation per ``source`` and day),
        kept as a memory, and taught to the profile with the turn as its source, so it is searchable at once and
        forgettable like anything said in a chat."""
        text = text.strip()
        if not text:
            raise InputError("nothing to remember: the text is empty")
        rt = self.runtime
        journal = rt.journal
        title = f"{session_title} {_today()}"
        session = next((s for s in journal.sessions() if s.source == source and s.title == title), None)
        if session is None:
            session = journal.new_session(title, source=source)
        turn = journal.add_turn(session.id, "user", text)
        changes = rt.profile.remember(text, [turn.id])
        rt.memory.remember_exchange(turn, None)
        rt.memory.index_pending()
        learned = "; learned: " + "; ".join(c.fact.statement for c in changes) if changes else ""
        return f"remembered as turn {turn.uid}{learned}"

    def forget_what(self, query_or_id: str, *, confirm: bool = False) -> str:
        """Forget a memory or turn by id at once; by text only with ``confirm`` (first it says what would go),
        so a tool can never erase in bulk without a second, explicit call."""
        target = query_or_id.strip()
        if not target:
            raise InputError("say what to forget: a memory id, a turn id or some text")
        if self.memories.get(target) is not None:
            return self.memories.forget(target).summary()
        if self.sessions.turn(target) is not None:
            return self.sessions.forget_turn(target).summary()
        count = self.memories.count_matching(target)
        facts = self.runtime.profile.matching(target)
        if not count and not facts:
            return f"nothing matches {target!r}; nothing was forgotten"
        if not confirm:
            return (
                f"{count} turn(s) and {len(facts)} profile fact(s) match {target!r}. Nothing was forgotten yet: "
                "call forget again with confirm=true to forget them from every store."
            )
        report = self.memories.forget_matching(target) if count else None
        fact_report = self.runtime.forget.facts(self.runtime.profile.matching(target)) if facts else None
        return "; ".join(r.summary() for r in (report, fact_report) if r is not None)


def _quietly(job: Callable[[], object]) -> Callable[[], None]:
    """``job`` for a background thread: a failure is left for the foreground's own use of the same thing to raise."""

    def run() -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - raised again, as one line, where the foreground meets it
            pass

    return run


def _today() -> str:
    from datetime import date

    return date.today().isoformat()


__all__ = ["Assistant", "ImportResult", "ModelChange"]
