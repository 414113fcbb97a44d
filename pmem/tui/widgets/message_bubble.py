"""One message in the conversation: who said it, and the text rendered as Markdown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Markdown


class MessageBubble(Vertical):
    DEFAULT_CLASSES = "bubble"

    def __init__(self, role: str, text: str = "", *, cancelled: bool = False) -> None:
        super().__init__(classes=f"bubble -{role}")
        self.role = role
        self.text = text
        self.cancelled = cancelled

    def compose(self) -> ComposeResult:
        who = {"user": "You", "assistant": "pmem", "system": "pmem"}.get(self.role, self.role)
        yield Label(who + (" · cancelled" if self.cancelled else ""), classes="who")
        yield Markdown(self.text, classes="body")

    @property
    def body(self) -> Markdown:
        return self.query_one(Markdown)

    def mark_feedback(self, mark: str) -> None:
        """Show the user's judgement of this reply beside its speaker."""
        self.query_one(".who", Label).update(f"pmem · {mark}")

    def mark_cancelled(self) -> None:
        self.cancelled = True
        self.query_one(".who", Label).update("pmem · cancelled")
        self.add_class("-cancelled")
