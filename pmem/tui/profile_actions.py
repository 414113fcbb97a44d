"""What the user does to the profile and the memories from the chat: edit the profile in ``$EDITOR``, undo what
was just learned, forget a fact or a memory chosen in the panel. An object the chat screen holds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError
from pmem.tui.editor import edit_in_editor
from pmem.tui.screens.confirm_screen import ConfirmScreen
from pmem.tui.views import LearnedView


class ProfileHost(Protocol):
    """What these actions need of the chat screen."""

    app: Any
    assistant: Assistant
    core_lock: threading.Lock

    def run_core(self, job: Callable[[], str], after: Callable[[], Any] | None = None) -> Any: ...
    def refresh_panel(self) -> Any: ...
    def show_recalled(self, *, live_only: bool = False) -> None: ...
    def notify(self, message: str, *, severity: Any = "information", timeout: float | None = None) -> None: ...


class ProfileActions:
    def __init__(self, host: ProfileHost) -> None:
        self.host = host

    def edit(self) -> None:
        """The profile as a TOML draft in ``$EDITOR``; what is saved is applied (a bad draft changes nothing)."""
        host = self.host
        try:
            with host.assistant.profile.draft() as path:
                code = edit_in_editor(host.app, host.assistant.editor_command(path))
                if code != 0:
                    host.notify(f"The editor exited with status {code}; the profile is unchanged.", severity="warning")
                    return
                with host.core_lock:
                    host.notify(host.assistant.profile.apply_draft(path))
        except PmemError as exc:
            host.notify(f"{exc} — the profile is unchanged.", severity="error", timeout=10)
        except OSError as exc:
            host.notify(f"Cannot run the editor: {exc}", severity="error")
        finally:
            host.refresh_panel()

    def undo(self, learned: list[LearnedView]) -> None:
        """Take back the facts the last notice said were learned (the ones they replaced come back)."""
        if not learned:
            self.host.notify("Nothing learned to undo.")
            return

        def job() -> str:
            _, restored = self.host.assistant.profile.undo_learned([v.fact_id for v in learned])
            back = [f.statement for f in restored]
            return "Undone: " + "; ".join(v.statement for v in learned) + (f" (back to: {'; '.join(back)})" if back else "")

        self.host.run_core(job)

    def forget(self, kind: str, item_id: str, text: str) -> None:
        """A fact or a memory chosen in the panel, forgotten once the user confirms."""
        host = self.host
        what = "this fact" if kind == "fact" else "this memory (the exchange it came from)"

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if kind == "fact":
                host.run_core(lambda: host.assistant.profile.forget_ids([item_id]).summary())
            else:
                host.run_core(lambda: host.assistant.memories.forget(item_id).summary(), lambda: host.show_recalled(live_only=True))

        host.app.push_screen(ConfirmScreen(f"Forget {what}?\n\n{text}"), confirmed)
