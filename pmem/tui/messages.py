"""Messages the app's workers post to the UI thread (posting is thread-safe and never blocks a worker)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Token(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ReplyFinished(Message):
    def __init__(self, text: str, info: Any, error: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.info = info
        self.error = error


class ModelReady(Message):
    pass


class ModelFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ModelSwitched(Message):
    """A ``/model NAME`` switch finished: ``note`` says what is answering now, or ``error`` why nothing changed."""

    def __init__(self, note: str = "", error: str = "") -> None:
        super().__init__()
        self.note = note
        self.error = error


class ProfileChanged(Message):
    def __init__(self, learned: list[Any] | None = None) -> None:
        super().__init__()
        self.learned = learned or []
        """``LearnedView``s of facts learned from the chat (empty when the change came from elsewhere)."""


class CoreDone(Message):
    """A background core operation finished; ``notice`` is shown to the user."""

    def __init__(self, notice: str = "", severity: str = "information", refresh: bool = True) -> None:
        super().__init__()
        self.notice = notice
        self.severity = severity
        self.refresh = refresh
