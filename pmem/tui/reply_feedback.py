"""Feedback on the last reply: thumbs up and down, an edit in ``$EDITOR``, a regeneration.

An object the chat screen holds (not a mixin on it): it asks the screen, through ``ReplyHost``, for what it needs,
and every change goes through the assistant, off the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, Protocol

from textual.app import App

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError
from pmem.core.faces import LiveChat
from pmem.core.runtime import Runtime
from pmem.tui.editor import edit_in_editor
from pmem.tui.texts import STILL_REPLYING
from pmem.tui.widgets.message_bubble import MessageBubble

THUMBS = {"up": "👍", "down": "👎", "edit": "✎ edited"}
Kind = Literal["up", "down", "edit"]


class ReplyHost(Protocol):
    """What the feedback needs of the screen it serves."""

    app: App[Any]
    assistant: Assistant
    runtime: Runtime
    core_lock: threading.Lock
    service: LiveChat | None

    @property
    def replying(self) -> bool: ...
    def ready(self, what: str = ...) -> bool: ...
    def last_reply_bubble(self) -> MessageBubble | None: ...
    def run_core(self, job: Callable[[], str]) -> None: ...
    def regenerate_last(self) -> None: ...
    def notify(self, message: str, *, severity: Any = "information", timeout: float | None = None) -> None: ...


class ReplyFeedback:
    def __init__(self, host: ReplyHost) -> None:
        self.host = host

    def ready_for_feedback(self) -> LiveChat | None:
        """The chat, when feedback can be given now (the model is ready, no reply is being written, memory is on)."""
        host = self.host
        if not host.ready():
            return None
        if host.replying:
            host.notify(STILL_REPLYING, severity="warning")
            return None
        if host.runtime.private:
            host.notify("Private session: feedback is not kept.", severity="warning")
            return None
        return host.service

    def give(self, kind: Kind, text: str = "") -> None:
        """A thumb (or a typed edit) on the last reply; its bubble shows the mark once noted."""
        chat = self.ready_for_feedback()
        if chat is None:
            return
        bubble = self.host.last_reply_bubble()
        app = self.host.app

        def job() -> str:
            note = self.host.assistant.feedback.give(chat, kind, text)  # type: ignore[arg-type]
            if bubble is not None:
                app.call_from_thread(bubble.mark_feedback, THUMBS[kind])
            return note

        self.host.run_core(job)

    def regenerate(self) -> None:
        chat = self.ready_for_feedback()
        if chat is None:
            return
        if chat.last.assistant_turn is None:
            self.host.notify("There is no reply to regenerate yet.", severity="warning")
            return
        self.host.regenerate_last()

    def edit(self) -> None:
        """The last reply in ``$EDITOR``: what is saved becomes the reply the user wanted. Runs in a worker thread."""
        chat = self.ready_for_feedback()
        if chat is None:
            return
        host, bubble = self.host, self.host.last_reply_bubble()
        try:
            with host.assistant.feedback.reply_draft(chat) as path:  # type: ignore[arg-type]
                code = edit_in_editor(host.app, host.assistant.editor_command(path))
                if code != 0:
                    host.notify(f"The editor exited with status {code}; nothing was noted.", severity="warning")
                    return
                with host.core_lock:
                    note = host.assistant.feedback.apply_reply_draft(chat, path)  # type: ignore[arg-type]
            if bubble is not None and note != "the reply is unchanged":
                host.app.call_from_thread(bubble.mark_feedback, THUMBS["edit"])
            host.notify(note)
        except PmemError as exc:
            host.notify(str(exc), severity="error")
        except OSError as exc:
            host.notify(f"Cannot run the editor: {exc}", severity="error")

    def command(self, name: str, arg: str) -> None:
        """``/good``, ``/bad``, ``/edit [TEXT]``, ``/retry``: the same actions, typed."""
        if name == "/retry":
            self.regenerate()
        elif name == "/edit" and not arg:
            self.host.app.run_worker(self.edit, thread=True, group="core", exit_on_error=False)
        else:
            self.give({"/good": "up", "/bad": "down", "/edit": "edit"}[name], arg)  # type: ignore[arg-type]
