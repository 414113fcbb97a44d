"""The Textual app: the runtime, the theme, the keys and the screens it pushes; the chat itself is ``ChatScreen``."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError
from pmem.core.runtime import Runtime
from pmem.tui.keys import app_bindings
from pmem.tui.screens.chat_screen import ChatScreen
from pmem.tui.screens.help_screen import HelpScreen


class PmemApp(App[None]):
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
        self.chat = ChatScreen(runtime, self.assistant, show_welcome=show_welcome)
        self.timeline: list[str] = []
        """Order of start-up events (tests assert that the first paint comes before the model)."""
        self.timeline_at: dict[str, float] = {}
        """Wall-clock time of each timeline event's first time (for bench/tui_startup.py)."""
        theme = runtime.settings.ui.theme
        if theme in self.available_themes:
            self.theme = theme

    def get_default_screen(self) -> Screen[Any]:
        return self.chat

    def on_mount(self) -> None:
        if self.runtime.settings.ui.keys:
            self.set_keymap(self.runtime.settings.ui.keys)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def mark(self, event: str) -> None:
        if event not in self.timeline_at:
            self.timeline.append(event)
            self.timeline_at[event] = time.time()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = self.chat
        yield SystemCommand("New conversation", "Start a new conversation (Ctrl+N)", chat.action_new_conversation)
        yield SystemCommand("Conversations", "Resume, rename or delete a conversation (Ctrl+O)", chat.action_conversations)
        yield SystemCommand("Toggle memory panel", "Show or hide what pmem remembers (Ctrl+B)", chat.action_toggle_memory)
        yield SystemCommand("Edit profile", "Edit what pmem knows about you in $EDITOR (Ctrl+E)", chat.action_edit_profile)
        yield SystemCommand("Export conversation", "Save this conversation as Markdown", chat.action_export)
        yield SystemCommand("Cancel reply", "Stop the reply being written (Esc)", chat.action_cancel)
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


def run_app(runtime: Runtime) -> None:
    """Run the app until the user quits; the caller closes the runtime (background work finishes then)."""
    PmemApp(runtime).run()
