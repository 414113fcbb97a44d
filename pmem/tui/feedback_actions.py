"""Feedback on the last reply in the chat app: thumbs up and down, an edit in ``$EDITOR``, a regeneration.

Mixed into the app (the actions must live on it); every change goes through the assistant, off the UI thread.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import SuspendNotSupported

from pmem.core.errors import PmemError
from pmem.tui.widgets.message_bubble import MessageBubble

if TYPE_CHECKING:
    from pmem.tui.app import PmemApp

THUMBS = {"up": "👍", "down": "👎", "edit": "✎ edited"}


class FeedbackActions:
    """Actions on the last reply; ``self`` is the app."""

    def _last_reply_bubble(self: PmemApp) -> MessageBubble | None:  # type: ignore[misc]
        bubbles = [b for b in self.query(MessageBubble) if b.role == "assistant"]
        return bubbles[-1] if bubbles else None

    def _can_give_feedback(self: PmemApp) -> bool:  # type: ignore[misc]
        if self.service is None or self.model_state != "ready":
            self.notify("Still loading.")
            return False
        if self._bubble is not None:
            self.notify("Wait for the reply to finish (or press Esc).", severity="warning")
            return False
        if self.runtime.private:
            self.notify("Private session: feedback is not kept.", severity="warning")
            return False
        return True

    def action_thumb_up(self: PmemApp) -> None:  # type: ignore[misc]
        self._give_feedback("up")

    def action_thumb_down(self: PmemApp) -> None:  # type: ignore[misc]
        self._give_feedback("down")

    def _give_feedback(self: PmemApp, kind: str, text: str = "") -> None:  # type: ignore[misc]
        if not self._can_give_feedback():
            return
        bubble = self._last_reply_bubble()

        def job() -> str:
            note = self.assistant.feedback(self.service, kind, text)  # type: ignore[arg-type]
            if bubble is not None:
                self.call_from_thread(bubble.mark_feedback, THUMBS[kind])
            return note

        self._core(job)

    def action_regenerate(self: PmemApp) -> None:  # type: ignore[misc]
        if not self._can_give_feedback():
            return
        if self.service.last.assistant_turn is None:
            self.notify("There is no reply to regenerate yet.", severity="warning")
            return
        self.call_next(self._begin_regeneration)

    async def _begin_regeneration(self: PmemApp) -> None:  # type: ignore[misc]
        old = self._last_reply_bubble()
        if old is not None:
            await old.remove()
        await self._begin_reply("", True, again=True)

    @work(thread=True, group="core", exit_on_error=False)
    def action_edit_reply(self: PmemApp) -> None:  # type: ignore[misc]
        if not self._can_give_feedback():
            return
        bubble = self._last_reply_bubble()
        try:
            with self.assistant.reply_draft(self.service) as path:
                command = self.assistant.editor_command(path)
                try:
                    with self.suspend():
                        code = subprocess.call(command)
                except SuspendNotSupported:
                    code = subprocess.call(command, stdin=subprocess.DEVNULL)
                if code != 0:
                    self.notify(f"The editor exited with status {code}; nothing was noted.", severity="warning")
                    return
                with self._core_lock:
                    note = self.assistant.apply_reply_draft(self.service, path)
            if bubble is not None and note != "the reply is unchanged":
                self.call_from_thread(bubble.mark_feedback, THUMBS["edit"])
            self.notify(note)
        except PmemError as exc:
            self.notify(str(exc), severity="error")
        except OSError as exc:
            self.notify(f"Cannot run the editor: {exc}", severity="error")

    def feedback_command(self: PmemApp, command: str, arg: str) -> Any:  # type: ignore[misc]
        """``/good``, ``/bad``, ``/edit TEXT``, ``/retry``: the same actions, typed."""
        if command == "/retry":
            return self.action_regenerate()
        if command == "/edit" and not arg:
            return self.action_edit_reply()
        return self._give_feedback({"/good": "up", "/bad": "down", "/edit": "edit"}[command], arg)
