"""What a face holds of the core while a conversation is open: the chat it drives, as a Protocol.

The faces (the TUI, the plain chat) keep one of these between messages; typing it here, rather than passing the
core's ``ChatService`` around as ``Any``, keeps them to the calls the core means them to make.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pmem.core.chat import ReplyInfo
    from pmem.core.store.journal import Session


class LiveChat(Protocol):
    session: Session | None
    """The conversation being written (None until the first message of a new one)."""
    last: ReplyInfo
    """What the last reply was made from, and how it went."""

    def warm(self) -> str:
        """Load the model and cache the system and profile prefix."""
        ...

    def send(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[str]:
        """Stream the reply to ``text``, journaled before the first piece and after the last."""
        ...

    def anticipate(self, cancel: threading.Event | None = None, *, draft: str = "") -> int:
        """Pre-load what the next message will likely recall, while the user reads and types."""
        ...

    def stop_background(self) -> None:
        """Let any anticipation give way at its next chunk."""
        ...

    def resume(self, session: Session) -> None:
        """Continue a past conversation."""
        ...

    def start_over(self) -> None:
        """A new conversation from the next message on (nothing is journaled until it is sent)."""
        ...
