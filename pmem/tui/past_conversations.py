"""Past conversations from the chat: the list (resume, rename, delete) and a memory's conversation opened to read.

An object the chat screen holds; the journal is read in worker threads, and screens are pushed on the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pmem.core.assistant import Assistant
from pmem.core.faces import LiveChat
from pmem.tui.screens.confirm_screen import ConfirmScreen
from pmem.tui.screens.conversations_screen import ConversationsScreen
from pmem.tui.screens.session_screen import SessionScreen
from pmem.tui.screens.text_prompt_screen import TextPromptScreen
from pmem.tui.texts import STILL_LOADING
from pmem.tui.views import SessionView, TurnView


class ConversationsHost(Protocol):
    """What the list needs of the chat screen."""

    app: Any
    assistant: Assistant
    core_lock: threading.Lock
    service: LiveChat | None

    @property
    def reading(self) -> bool: ...
    def run_core(self, job: Callable[[], str], after: Callable[[], Any] | None = None) -> Any: ...
    def clear_conversation(self) -> Awaitable[None]: ...
    def show_resumed(self, turns: list[TurnView]) -> Awaitable[None]: ...
    def notify(self, message: str, *, severity: Any = "information", timeout: float | None = None) -> None: ...


class PastConversations:
    def __init__(self, host: ConversationsHost) -> None:
        self.host = host

    def browse(self) -> None:
        """The list of conversations, read off the UI thread."""
        self.host.app.run_worker(self._browse, thread=True, exclusive=True, group="panel", exit_on_error=False)

    def _browse(self) -> None:
        host = self.host
        if not host.reading:
            host.app.call_from_thread(host.notify, STILL_LOADING)
            return
        sessions = [SessionView(s.id, s.title, s.started_at, n, first) for s, n, first in host.assistant.sessions.summaries()]
        host.app.call_from_thread(host.app.push_screen, ConversationsScreen(sessions), self._chosen)

    def _chosen(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        host = self.host
        action, session_id = choice
        if action == "resume":
            host.app.run_worker(lambda: self._resume(session_id), thread=True, group="core", exit_on_error=False)
        elif action == "rename":
            def renamed(title: str | None) -> None:
                if title:
                    host.run_core(lambda: (host.assistant.sessions.rename(session_id, title), f"renamed to {title!r}")[1])

            host.app.push_screen(TextPromptScreen("New title for this conversation:"), renamed)
        elif action == "delete":
            def confirmed(yes: bool | None) -> None:
                if yes:
                    session = host.service.session if host.service is not None else None
                    # The chat service notices the forget itself before its next turn; the view is cleared here.
                    after = host.clear_conversation if session is not None and session.id == session_id else None
                    host.run_core(lambda: host.assistant.sessions.forget(session_id).summary(), after)

            host.app.push_screen(ConfirmScreen("Delete this conversation and forget everything said in it?", "Delete"), confirmed)

    def _resume(self, session_id: str) -> None:
        host = self.host
        with host.core_lock:
            session = host.assistant.sessions.get(session_id)
            if session is None or host.service is None:
                return
            host.service.resume(session)
            turns = [TurnView(t.role, t.content, t.status == "cancelled") for t in host.assistant.sessions.turns(session_id)]
        host.app.call_from_thread(host.show_resumed, turns)

    def open(self, session_id: str) -> None:
        """The conversation a memory came from, to read (read off the UI thread)."""
        self.host.app.run_worker(lambda: self._open(session_id), thread=True, group="panel", exit_on_error=False)

    def _open(self, session_id: str) -> None:
        host = self.host
        if not host.reading:
            return
        session = host.assistant.sessions.get(session_id)
        if session is None:
            host.app.call_from_thread(host.notify, "That conversation no longer exists.", severity="warning")
            return
        turns = [TurnView(t.role, t.content, t.status == "cancelled") for t in host.assistant.sessions.turns(session.id)]
        title = f"{session.title or 'Conversation'} · {session.started_at[:16].replace('T', ' ')}"
        host.app.call_from_thread(host.app.push_screen, SessionScreen(title, turns))
