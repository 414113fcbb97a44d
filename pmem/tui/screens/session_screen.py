"""A past conversation, read-only (opened from a memory in the side panel)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label

from pmem.tui.views import TurnView
from pmem.tui.widgets.message_bubble import MessageBubble


class SessionScreen(ModalScreen[None]):
    CSS_PATH = "modal.tcss"
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self, title: str, turns: list[TurnView]) -> None:
        super().__init__()
        self.title_text = title
        self.turns = turns

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(self.title_text, classes="question", markup=False)
            for t in self.turns:
                yield MessageBubble(t.role, t.content, cancelled=t.cancelled)
