"""The chat service: one conversation, journal first, then the model. Both faces (CLI, TUI) drive this.

The user's turn is committed to the journal *before* the model is called; the reply is committed as
soon as it ends or is cancelled (marked ``cancelled``). A crash loses at most a half-written reply.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pmem.core.config import Paths, Settings
from pmem.core.engine.base import ChatEngine, ChatMessage, GenerationParams, GenerationStats
from pmem.core.errors import InputError
from pmem.core.prompt import DEFAULT_FRAMING, Framing, MemorySnippet, Prompt, build_prompt, ordered
from pmem.core.store.journal import Journal, Session, Turn


class Recall(Protocol):
    """What the chat service needs from the memory layers (implemented by ``pmem.core.memory``)."""

    def profile_block(self) -> str: ...

    def recall(
        self, query: str, *, exclude_session: str | None = None, exclude_ids: frozenset[str] = frozenset(), k: int | None = None
    ) -> list[MemorySnippet]: ...

    def on_user_turn(self, turn: Turn) -> str | None:
        """The user's turn is committed; explicit memory requests are handled here. Returns a note to show."""

    def remember_exchange(self, user: Turn, assistant: Turn | None, *, learn: bool = True) -> None:
        """Keep the exchange as a memory; ``learn``: also teach the profile from the user's turn."""

    def pause_background(self) -> None:
        """An interactive turn starts: background indexing and extraction step aside."""

    def resume_background(self) -> None: ...

    def check_adapter(self, engine: ChatEngine) -> str | None:
        """Before a turn: stop applying an adapter that has been forgotten; returns a note to show if so."""


@dataclass
class ReplyInfo:
    """What a face may show about the last reply."""

    prompt: Prompt | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    user_turn: Turn | None = None
    assistant_turn: Turn | None = None
    cancelled: bool = False
    note: str | None = None
    """Something the face should show besides the reply (e.g. "remembered: lives in Utrecht")."""


def generation_params(settings: Settings, **overrides: float | int | tuple[str, ...] | None) -> GenerationParams:
    chat = settings.chat
    values: dict = dict(
        max_tokens=chat.max_tokens,
        temperature=chat.temperature,
        top_p=chat.top_p,
        repeat_penalty=chat.repeat_penalty,
        seed=chat.seed,
    )
    values.update({k: v for k, v in overrides.items() if v is not None})
    return GenerationParams(**values)


class ChatService:
    def __init__(
        self,
        *,
        settings: Settings,
        paths: Paths,
        engine: ChatEngine,
        journal: Journal | None,
        recall: Recall | None = None,
        session: Session | None = None,
    ) -> None:
        """``journal=None`` is a private, one-off conversation: nothing is written anywhere."""
        self.settings = settings
        self.paths = paths
        self.engine = engine
        self.journal = journal
        self.recall = recall
        self.session = session
        self.history: list[ChatMessage] = []
        """The conversation as the model saw it (user messages include the memories sent with them), so the
        next prompt starts with exactly the tokens already in llama.cpp's KV cache."""
        self.last = ReplyInfo()
        self.framing: Framing = DEFAULT_FRAMING
        """How memories and the profile are worded (benchmarks compare framings; the chat uses the default)."""
        self._lock = threading.Lock()
        self._shown: set[str] = set()
        """Memories already in this conversation: never sent twice."""
        self._anticipated: list[MemorySnippet] = []
        self._reply_anticipated: list[MemorySnippet] = []
        self._anticipated_at = -1
        self._stop_anticipating = threading.Event()
        self._last_user_text = ""
        self._forget_seen = journal.forget_generation() if journal is not None else 0
        if session is not None and journal is not None:
            self._load_history(session)

    # ---------------------------------------------------------------- sessions

    def _reset_context(self) -> None:
        self.history = []
        self._shown = set()
        self._drop_anticipation()

    def _drop_anticipation(self) -> None:
        self._anticipated = []
        self._reply_anticipated = []
        self._anticipated_at = -1

    def new_session(self, title: str = "") -> Session | None:
        self._reset_context()
        self.session = self.journal.new_session(title) if self.journal is not None else None
        return self.session

    def start_over(self) -> None:
        """A new conversation from the next message on: the session is made when that message is journaled."""
        self._reset_context()
        self.session = None

    def resume(self, session: Session) -> None:
        self.session = session
        self._load_history(session)

    def _load_history(self, session: Session) -> None:
        assert self.journal is not None
        from pmem.core.store.feedback import FeedbackStore

        self._reset_context()
        turns = self.journal.turns(session.id)
        replaced = FeedbackStore(self.journal.conn).replaced([t.id for t in turns if t.role == "assistant"])
        self.history = [
            {"role": t.role, "content": t.content}  # type: ignore[typeddict-item]
            for t in turns
            if t.role in ("user", "assistant") and t.id not in replaced
        ]

    def _follow_forgetting(self) -> None:
        """Something was forgotten since the last turn (here, in another face, or another process): the history
        this chat sends may hold it (its own turns, or memories quoted into them), so it is read again from the
        journal; a conversation that was forgotten whole is left, and the next message starts a new one."""
        assert self.journal is not None
        generation = self.journal.forget_generation()
        if generation == self._forget_seen:
            return
        self._forget_seen = generation
        if self.session is not None and self.journal.session(self.session.id) is None:
            self._reset_context()
            self.session = None
        elif self.session is not None:
            self._load_history(self.session)
        else:
            self._reset_context()

    def warm(self) -> str:
        """Load the model and put the system+profile prefix in its KV cache (restoring a saved one when it
        matches), so the first reply of a new process does not pay for the profile."""
        self.engine.load()
        from pmem.core.prompt import system_message

        profile = self.recall.profile_block() if self.recall is not None else ""
        with self._lock:
            return self.engine.prime_prefix(system_message(self.settings.chat.system_prompt, profile, self.framing), self.paths.kv_dir)

    # ---------------------------------------------------------------- turns

    def _system(self) -> str:
        from pmem.core.prompt import system_message

        profile = self.recall.profile_block() if self.recall is not None else ""
        return system_message(self.settings.chat.system_prompt, profile, self.framing)

    def build(self, text: str) -> Prompt:
        """The prompt the model would see for ``text`` now.

        Memories: those anticipated while the user was typing (already in the KV cache) first, then up to
        ``memory.fresh_per_turn`` specific to this message (all of ``retrieve_k`` when nothing was anticipated),
        never one already in the conversation.
        """
        memories: list[MemorySnippet] = []
        profile = ""
        keep = 0
        if self.recall is not None:
            profile = self.recall.profile_block()
            k = self.settings.memory.retrieve_k
            anticipated = self._anticipated if self._anticipated_at == len(self.history) else []
            held = {m.id for m in anticipated}
            found = self.recall.recall(
                text, exclude_session=self.session.id if self.session else None, exclude_ids=frozenset(self._shown), k=k,
            )
            # What this message recalls and is already in the KV cache costs nothing; only new ones are read now.
            new = [m for m in found if m.id not in held]
            reserve = min(len(new), self.settings.memory.fresh_per_turn if anticipated else k)
            # Best last, anticipated memories are cached in reverse: dropping one would change the start of the
            # cached block and lose all of it, and keeping them costs no evaluation.
            keep = len(anticipated) if self.framing.best_last else max(0, min(len(anticipated), k - reserve))
            memories = anticipated[:keep] + new[:reserve]
        budget = self.engine.n_ctx - min(self.settings.chat.max_tokens, self.engine.n_ctx // 2)
        return build_prompt(
            system_text=self.settings.chat.system_prompt,
            profile_block=profile,
            history=self.history,
            user_text=text,
            memories=memories,
            budget=budget,
            count=self.engine.count_prompt_tokens,
            memory_budget=self.settings.memory.memory_budget,
            count_text=self.engine.count_tokens,
            memory_chars=self.settings.memory.memory_chars,
            framing=self.framing,
            held=keep,
            fresh_chars=self.settings.memory.fresh_chars,
        )

    def anticipate(self, cancel: threading.Event | None = None, *, draft: str = "") -> int:
        """While the user reads or types: recall memories and evaluate them, as the start of the next prompt,
        into the KV cache. Returns tokens evaluated. ``send`` pre-empts it.

        Without ``draft`` (the user is reading the reply) the query is the last exchange, leaving room for
        ``memory.fresh_per_turn`` memories of the next message. With ``draft`` (what the user has typed so far)
        the query is the draft itself and all of ``memory.retrieve_k`` are recalled: when the message is sent,
        the memories it recalls are mostly already evaluated."""
        draft = draft.strip()
        if self.recall is None or not self.settings.memory.anticipate or (len(self.history) < 2 and not draft):
            return 0
        self._stop_anticipating.clear()
        stop = cancel or self._stop_anticipating
        with self._lock:
            if stop.is_set():
                return 0
            from pmem.core.prompt import format_memories

            if draft:
                query, k = draft, self.settings.memory.retrieve_k
            else:
                query = f"{self._last_user_text}\n{self.history[-1]['content']}"
                k = max(0, self.settings.memory.retrieve_k - self.settings.memory.fresh_per_turn)
            memories = self.recall.recall(
                query, exclude_session=self.session.id if self.session else None, exclude_ids=frozenset(self._shown), k=k
            )
            if draft:
                # What the draft recalls first (the message will recall the same), then what the last exchange
                # pointed to, as room allows.
                earlier = self._reply_anticipated if self._anticipated_at == len(self.history) else []
                held = {m.id for m in memories}
                memories = (memories + [m for m in earlier if m.id not in held])[: self.settings.memory.retrieve_k]
            else:
                self._reply_anticipated = memories
            self._anticipated = memories
            self._anticipated_at = len(self.history)
            if not memories:
                return 0
            messages: list[ChatMessage] = [{"role": "system", "content": self._system()}, *self.history]
            block = format_memories(ordered(memories, self.framing, len(memories)), self.settings.memory.memory_chars, self.framing)
            messages.append({"role": "user", "content": block})
            return self.engine.prefill(messages, stop)

    def stop_background(self) -> None:
        """A prompt is coming: anticipation stops at its next chunk."""
        self._stop_anticipating.set()

    def change_engine(self, switch: Callable[[], ChatEngine]) -> ChatEngine:
        """Swap the model under this conversation. Anticipation may be evaluating into the old model's context
        on another thread, and llama.cpp must not free a context in use, so anticipation is stopped and its
        lock held while ``switch`` lets the old model go and loads the new one."""
        self.stop_background()
        with self._lock:
            self.engine = switch()
            self._drop_anticipation()
        self.warm()
        return self.engine

    def send(
        self,
        text: str,
        *,
        cancel: threading.Event | None = None,
        on_prompt: Callable[[Prompt], None] | None = None,
        **param_overrides: float | int | tuple[str, ...] | None,
    ) -> Iterator[str]:
        """Stream the reply to ``text``. Journal writes happen before the first and after the last piece."""
        text = text.strip()
        if not text:
            raise InputError("empty message: type something to send")
        return self._reply(text, cancel=cancel, on_prompt=on_prompt, **param_overrides)

    def regenerate(self, *, cancel: threading.Event | None = None, **param_overrides: float | int | tuple[str, ...] | None) -> Iterator[str]:
        """Answer the last message again (sampled afresh: temperature at least 0.7, a new seed). The reply it
        replaces stays in the journal, marked as regenerated, and leaves the conversation."""
        last = self.last
        if (
            self.journal is None or self.session is None or last.user_turn is None or last.assistant_turn is None
            or last.user_turn.session_id != self.session.id or len(self.history) < 2
        ):
            raise InputError("there is no reply to regenerate in this conversation yet")
        self.give_feedback("retry")
        self.history = self.history[:-2]
        overrides = {"temperature": max(0.7, self.settings.chat.temperature), "seed": -1, **param_overrides}
        return self._reply(last.user_turn.content, cancel=cancel, again=last.user_turn, **overrides)

    def give_feedback(self, kind: str, text: str = "") -> Turn:
        """Thumbs up or down, an edit (``text``: the reply the user wanted) or a regeneration, on the last reply."""
        from pmem.core.store.feedback import FeedbackStore

        reply = self.last.assistant_turn
        if self.journal is None or reply is None or self.session is None or reply.session_id != self.session.id:
            raise InputError("there is no reply to give feedback on in this conversation yet")
        if kind == "edit" and not text.strip():
            raise InputError("an edit needs the reply you wanted")
        FeedbackStore(self.journal.conn).record(reply.id, kind, text.strip())  # type: ignore[arg-type]
        return reply

    def _reply(
        self,
        text: str,
        *,
        cancel: threading.Event | None = None,
        on_prompt: Callable[[Prompt], None] | None = None,
        again: Turn | None = None,
        **param_overrides: float | int | tuple[str, ...] | None,
    ) -> Iterator[str]:
        """``again``: the user turn being answered once more (not journaled twice, not re-learned from)."""
        previous = self.last.user_turn
        self._stop_anticipating.set()
        with self._lock:
            if self.recall is not None:
                self.recall.pause_background()
            self.engine.load()
            info = ReplyInfo()
            self.last = info
            if self.recall is not None:
                info.note = self.recall.check_adapter(self.engine)
            if self.journal is not None and again is not None:
                info.user_turn = again
            elif self.journal is not None:
                self._follow_forgetting()
                if self.session is None:
                    self.new_session()
                assert self.session is not None
                info.user_turn = self.journal.add_turn(self.session.id, "user", text, model=self.engine.model_name)
                if previous is not None and previous.session_id == self.session.id:
                    from pmem.core.store.feedback import FeedbackStore

                    FeedbackStore(self.journal.conn).went_on(previous.id)  # a kept regeneration is now preferred
                if self.recall is not None:
                    info.note = _join(info.note, self.recall.on_user_turn(info.user_turn))
            prompt = self.build(text)
            info.prompt = prompt
            if on_prompt is not None:
                on_prompt(prompt)
            pieces: list[str] = []
            params = generation_params(self.settings, **param_overrides)
            completed = False
            try:
                for piece in self.engine.stream(prompt.messages, params, cancel):
                    pieces.append(piece)
                    yield piece
                completed = True
            finally:
                info.stats = self.engine.last_stats
                info.cancelled = not completed or info.stats.finish_reason == "cancelled"
                reply = "".join(pieces).strip()
                self.history.append({"role": "user", "content": prompt.messages[-1]["content"]})
                self.history.append({"role": "assistant", "content": reply})
                self._shown.update(m.id for m in prompt.memories)
                self._last_user_text = text
                if self.journal is not None and self.session is not None:
                    info.assistant_turn = self.journal.add_turn(
                        self.session.id,
                        "assistant",
                        reply,
                        model=self.engine.model_name,
                        status="cancelled" if info.cancelled else "complete",
                    )
                    if self.recall is not None and info.user_turn is not None:
                        self.recall.remember_exchange(info.user_turn, info.assistant_turn, learn=again is None)
                if self.recall is not None:
                    self.recall.resume_background()


def _join(*notes: str | None) -> str | None:
    kept = [n for n in notes if n]
    return "; ".join(kept) if kept else None
