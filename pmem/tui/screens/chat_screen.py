"""The chat screen: the conversation, the memory panel and the status line, and the reply flow that feeds them.

Everything slow runs off the UI thread: the model loads in a thread worker after the first paint; each reply
streams from a thread worker that posts ``Token`` messages (never blocking on the UI); core operations (forget,
rename, export…) run in thread workers too, one at a time (``core_lock``). Widgets receive plain data and post
messages; only this screen talks to the core, through the assistant and the chat it opens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult, ScreenStackError
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError
from pmem.core.faces import LiveChat
from pmem.core.runtime import Runtime
from pmem.tui.messages import CoreDone, ModelFailed, ModelReady, ModelSwitched, ProfileChanged, ReplyFinished, Token
from pmem.tui.past_conversations import PastConversations
from pmem.tui.profile_actions import ProfileActions
from pmem.tui.reply_feedback import ReplyFeedback
from pmem.tui.slash_commands import SlashCommands
from pmem.tui.texts import FALLBACK_MODEL, NO_MODEL, STILL_LOADING, STILL_REPLYING, WELCOME
from pmem.tui.views import FactView, LearnedView, MemoryView, Status, TurnView, learned_views
from pmem.tui.widgets.chat_view import ChatView
from pmem.tui.widgets.memory_panel import MemoryPanel
from pmem.tui.widgets.message_bubble import MessageBubble
from pmem.tui.widgets.prompt_input import PromptInput
from pmem.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.timer import Timer

DRAFT_PAUSE_S = 0.4
"""How long typing must pause before the draft's memories are pre-loaded."""

class ChatScreen(Screen[None]):
    def __init__(self, runtime: Runtime, assistant: Assistant, *, show_welcome: bool = True) -> None:
        super().__init__()
        self.runtime = runtime
        self.assistant = assistant
        self.show_welcome = show_welcome
        self.service: LiveChat | None = None
        self.model_state = "loading"
        self.core_lock = threading.Lock()
        """Held by every core call from a worker: a forget never runs during a reply's journal writes."""
        self.feedback = ReplyFeedback(self)
        self.slash = SlashCommands(self)
        self.conversations = PastConversations(self)
        self.profile = ProfileActions(self)
        self._pending: list[str] = []
        self._cancel = threading.Event()
        self._bubble: MessageBubble | None = None
        self._stream: Any = None
        self._reply_text: list[str] = []
        self._status = Status(state="loading")
        self._reading = False
        """Whether the panel's reader is open (after the model has loaded)."""
        self._draft_timer: Timer | None = None
        self._learned: list[LearnedView] = []

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="conversation"):
                yield ChatView(id="chat")
                yield PromptInput()
            yield MemoryPanel(id="memory")
        yield StatusBar(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        if self.show_welcome:
            welcome = WELCOME + ("\n" + FALLBACK_MODEL if self.runtime.on_embedded_model else "")
            await self.query_one(ChatView).add_message("system", welcome)
        self.query_one(MemoryPanel).show_facts([])
        self.query_one(MemoryPanel).show_memories([])
        self.query_one(PromptInput).focus()
        self._set_status(state="loading")
        self.call_after_refresh(self._after_first_paint)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """Refresh the background-work part of the status line (reads counters only; no I/O)."""
        if self.model_state == "ready":
            self._set_status()

    def _after_first_paint(self) -> None:
        self._mark("first_paint")
        self._load()

    def _mark(self, event: str) -> None:
        self.app.mark(event)  # type: ignore[attr-defined]

    def ready(self, what: str = STILL_LOADING) -> bool:
        """Whether the model and the chat are ready; says ``what`` when not."""
        if self.model_state != "ready" or self.service is None:
            self.notify(what)
            return False
        return True

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self) -> None:
        self._mark("model_loading")
        rt = self.runtime
        try:
            rt.engine.load()
            service = self.assistant.open_chat(
                on_learned=lambda changes: self.post_message(ProfileChanged(learned_views(changes))), interactive=True
            )
            self.service = service
            service.warm()
            self.assistant.open_reader()
            self._reading = True
        except PmemError as exc:
            self.post_message(ModelFailed(str(exc)))
            return
        self.post_message(ModelReady())
        if not rt.private:
            rt.in_background("pmem-warm-memory", self._warm_memory)

    def _warm_memory(self) -> None:
        app = self.app
        try:
            self.assistant.memories.warm()
            if (note := self.assistant.memories.notice(rebuild=False)) and app.is_running:
                app.call_from_thread(self.notify, note, severity="warning", timeout=10)
        except PmemError as exc:
            if app.is_running:
                app.call_from_thread(self.notify, f"memory search is limited to words: {exc}", severity="warning")

    async def on_model_ready(self, _message: ModelReady) -> None:
        self._mark("model_ready")
        self.model_state = "ready"
        for note in (self.runtime.adapter_note, getattr(self.runtime.engine, "adapter_error", "")):
            if note:
                self.notify(note, severity="warning", timeout=8)
        if self.runtime.private:
            self.notify("Private session: no memory is used and nothing is saved.")
        self._set_status(state="ready", model=self.runtime.engine.model_name, context_size=self.runtime.engine.n_ctx)
        self.refresh_panel()
        self._send_pending()

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        for text in pending:
            self._start_reply(text, already_shown=True)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _switch_model(self, name: str) -> None:
        with self.core_lock:
            try:
                note = self.assistant.models.switch(self.service, name)  # type: ignore[arg-type]
            except PmemError as exc:
                self.post_message(ModelSwitched(error=str(exc)))
                return
        self.post_message(ModelSwitched(note))

    async def on_model_switched(self, message: ModelSwitched) -> None:
        self.model_state = "ready"
        engine = self.runtime.engine
        self._set_status(state="ready", model=engine.model_name, context_size=engine.n_ctx)
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
        else:
            await self.query_one(ChatView).add_message("system", message.note)
        self._send_pending()

    async def on_model_failed(self, message: ModelFailed) -> None:
        self.model_state = "failed"
        self._mark("model_failed")
        self._set_status(state="failed")
        await self.query_one(ChatView).add_message(
            "system", NO_MODEL.format(error=message.error, config=self.runtime.paths.config_file)
        )

    # ------------------------------------------------------------------ sending

    @on(Input.Submitted, "#prompt")
    async def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        if not text:
            return
        if text.startswith("/"):
            await self._slash(text)
            return
        if self.model_state == "failed":
            self.notify("No model is loaded; see the message above.", severity="error")
            return
        if self.model_state == "loading" or self.service is None:
            await self.query_one(ChatView).add_message("user", text)
            self._pending.append(text)
            self.notify("The model is still loading; your message will be sent as soon as it is ready.")
            return
        if self._bubble is not None:
            self.notify("pmem is still replying (Esc cancels).", severity="warning")
            return
        self._start_reply(text)

    def _start_reply(self, text: str, *, already_shown: bool = False) -> None:
        self.call_next(self._begin_reply, text, already_shown)

    async def _begin_reply(self, text: str, already_shown: bool, *, again: bool = False) -> None:
        """``again``: regenerate the last reply (its bubble is already gone) instead of answering ``text``."""
        chat = self.query_one(ChatView)
        if not already_shown:
            await chat.add_message("user", text)
        # The reply is "in progress" from before its bubble is mounted (mounting yields to the event loop).
        self._bubble = MessageBubble("assistant", "")
        await chat.add(self._bubble)
        self._stream = Markdown.get_stream(self._bubble.body)
        self._reply_text = []
        self._cancel.clear()
        self._set_status(state="generating")
        self._generate(text, again)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _generate(self, text: str, again: bool = False) -> None:
        service = self.service
        assert service is not None
        error: str | None = None
        service.stop_background()
        with self.core_lock:
            try:
                reply = self.assistant.feedback.regenerate(service, cancel=self._cancel) if again else service.send(text, cancel=self._cancel)  # type: ignore[arg-type]
            except PmemError as exc:
                self.post_message(ReplyFinished("", service.last, str(exc)))
                return
            try:
                for piece in reply:
                    self.post_message(Token(piece))
            except PmemError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never fatal
                error = f"{type(exc).__name__}: {exc}"
            finally:
                reply.close()  # type: ignore[attr-defined]
        self.post_message(ReplyFinished("", service.last, error))

    async def on_token(self, message: Token) -> None:
        if not self._reply_text:
            self._mark("first_token")
        self._reply_text.append(message.text)
        if self._stream is not None:
            await self._stream.write(message.text)

    async def on_reply_finished(self, message: ReplyFinished) -> None:
        bubble, stream = self._bubble, self._stream
        self._stream = None
        if stream is not None:
            await stream.stop()
        info = message.info
        text = "".join(self._reply_text).strip()
        if bubble is not None:
            # One final render of the whole reply: streamed code fences can otherwise stay blank.
            await bubble.body.update(text or ("*(no reply)*" if not info.cancelled else ""))
            if info.cancelled:
                bubble.mark_cancelled()
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
        if info.note:
            self.notify(info.note)
        stats = info.stats
        self._set_status(state="ready", context_used=stats.prompt_tokens + stats.completion_tokens, tokens_per_s=stats.tokens_per_s)
        self.show_recalled()
        self.refresh_panel()
        self._bubble = None  # last: a reply is "in progress" until everything above is shown
        if not message.error:
            self._anticipate()

    def show_recalled(self, *, live_only: bool = False) -> None:
        """The memories the last reply recalled, in the panel (without those forgotten since, when ``live_only``)."""
        info = self.service.last if self.service is not None else None
        hits = self.assistant.memories.last_recalled() if live_only or (info and info.prompt and info.prompt.memories) else []
        if live_only:
            live = self.assistant.memories.live_ids()
            hits = [h for h in hits if h.id in live]
        self.query_one(MemoryPanel).show_memories([MemoryView(h.id, h.episode.session_id, h.date, h.episode.transcript()) for h in hits])

    @on(Input.Changed, "#prompt")
    def _typing(self, event: Input.Changed) -> None:
        """A pause in typing pre-loads what the draft recalls, so the reply starts as if there were no memory."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        draft = event.value.strip()
        if self.service is None or self._bubble is not None or self.runtime.private or len(draft) < 8 or draft.startswith("/"):
            return
        self._draft_timer = self.set_timer(DRAFT_PAUSE_S, lambda: self._anticipate_draft(draft))

    def _anticipate_draft(self, draft: str) -> None:
        self._draft_timer = None
        if self.service is not None and self._bubble is None:
            self.service.stop_background()  # the previous anticipation gives way at its next chunk
            self._anticipate(draft)

    @work(thread=True, exclusive=True, group="anticipate", exit_on_error=False)
    def _anticipate(self, draft: str = "") -> None:
        """While the user reads and types, pre-load related memories into the model's KV cache."""
        with self.core_lock:
            if self._bubble is None and self.service is not None:
                self.service.anticipate(draft=draft)

    def action_cancel(self) -> None:
        if self._bubble is not None:
            self._cancel.set()

    # ------------------------------------------------------------------ panel and status

    @work(thread=True, exclusive=True, group="panel", exit_on_error=False)
    def refresh_panel(self) -> None:
        if not self._reading:
            return
        current, count = self.assistant.panel()
        facts = [FactView(f.id, f.key, f.statement, f.valid_from) for f in current]
        self.app.call_from_thread(self._apply_panel, facts, count)

    def _apply_panel(self, facts: list[FactView], count: int) -> None:
        self.query_one(MemoryPanel).show_facts(facts)
        self._set_status(memories=count)

    def on_profile_changed(self, message: ProfileChanged) -> None:
        self.refresh_panel()
        if message.learned:
            self._learned = message.learned
            text = "; ".join(v.statement + (f" (was {v.was})" if v.was else "") for v in message.learned)
            self.notify(f"Learned: {text} · Ctrl+Z undo", timeout=8)

    def action_undo_learned(self) -> None:
        learned, self._learned = self._learned, []
        self.profile.undo(learned)

    def _set_status(self, **changes: Any) -> None:
        values = {**self._status.__dict__, **changes}
        if self.runtime.layers_open is not None:
            values["background"] = ", ".join(self.assistant.background_work())
        engine = self.runtime.engine_open
        values["adapter"] = bool(engine is not None and engine.adapter_id)
        values["private"] = self.runtime.private
        self._status = Status(**values)
        try:
            self.query_one(StatusBar).status = self._status
        except (NoMatches, ScreenStackError):  # the app is exiting: its once-a-second tick landed after its screen went
            pass

    def on_core_done(self, message: CoreDone) -> None:
        if message.notice:
            self.notify(message.notice, severity=message.severity)  # type: ignore[arg-type]
        if message.refresh:
            self.refresh_panel()

    @work(thread=True, group="core", exit_on_error=False)
    def run_core(self, job: Callable[[], str], after: Callable[[], Any] | None = None) -> None:
        """Run a core operation off the UI thread, one at a time, never during a reply's journal writes."""
        with self.core_lock:
            try:
                notice = job()
            except PmemError as exc:
                self.post_message(CoreDone(str(exc), "error"))
                return
        if after is not None:
            self.app.call_from_thread(after)
        self.post_message(CoreDone(notice))

    # ------------------------------------------------------------------ slash commands (pmem/tui/slash_commands.py)

    async def _slash(self, text: str) -> None:
        await self.slash.run(text)

    @property
    def replying(self) -> bool:
        return self._bubble is not None

    @property
    def reading(self) -> bool:
        return self._reading

    def switch_model(self, name: str) -> None:
        self.model_state = "loading"
        self._set_status(state="loading")
        self._switch_model(name)

    async def say(self, text: str) -> None:
        """A system message in the conversation."""
        await self.query_one(ChatView).add_message("system", text)

    # ------------------------------------------------------------------ feedback on the last reply (ReplyFeedback)

    def last_reply_bubble(self) -> MessageBubble | None:
        bubbles = [b for b in self.query(MessageBubble) if b.role == "assistant"]
        return bubbles[-1] if bubbles else None

    def regenerate_last(self) -> None:
        async def again() -> None:
            old = self.last_reply_bubble()
            if old is not None:
                await old.remove()
            await self._begin_reply("", True, again=True)

        self.call_next(again)

    def action_thumb_up(self) -> None:
        self.feedback.give("up")

    def action_thumb_down(self) -> None:
        self.feedback.give("down")

    def action_regenerate(self) -> None:
        self.feedback.regenerate()

    @work(thread=True, group="core", exit_on_error=False)
    def action_edit_reply(self) -> None:
        self.feedback.edit()

    # ------------------------------------------------------------------ actions

    async def action_new_conversation(self) -> None:
        if self._bubble is not None:
            self.notify(STILL_REPLYING, severity="warning")
            return
        if self.service is not None:
            self.service.start_over()
        await self.clear_conversation()
        self.notify("New conversation.")

    async def clear_conversation(self) -> None:
        await self.query_one(ChatView).remove_children()
        self.query_one(MemoryPanel).show_memories([])

    def action_toggle_memory(self) -> None:
        self.query_one(MemoryPanel).toggle_class("-hidden")

    def action_conversations(self) -> None:
        self.conversations.browse()

    async def show_resumed(self, turns: list[TurnView]) -> None:
        await self.query_one(ChatView).show_turns(turns)
        self.notify("Conversation resumed.")

    def action_export(self, path: str | None = None) -> None:
        session = self.service.session if self.service is not None else None
        if session is None:
            self.notify("Nothing to export yet.", severity="warning")
            return

        def job() -> str:
            target = Path(path).expanduser() if path else Path.cwd() / f"pmem-{session.started_at[:10]}-{session.id}.md"
            return f"exported to {self.assistant.transfer.export_session(session.id, target)}"

        self.run_core(job)

    def action_edit_profile(self) -> None:
        if self.ready("Still loading."):
            self.profile.edit()

    # ------------------------------------------------------------------ memory panel messages

    def on_memory_panel_forget_requested(self, message: MemoryPanel.ForgetRequested) -> None:
        self.profile.forget(message.kind, message.item_id, message.text)


    def on_memory_panel_open_session(self, message: MemoryPanel.OpenSession) -> None:
        self.conversations.open(message.session_id)

    async def on_unmount(self) -> None:
        self._cancel.set()
