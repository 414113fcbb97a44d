"""Feedback on replies: thumbs up or down, an edited reply, a reply sampled again, and the preference pairs they
make (what distillation learns from)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pmem.core.assistant.drafts import private_draft
from pmem.core.errors import InputError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.chat import ChatService
    from pmem.core.store.feedback import FeedbackStore, Pair

Kind = Literal["up", "down", "edit"]


class FeedbackActions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _store(self) -> FeedbackStore:
        from pmem.core.store.feedback import FeedbackStore

        return FeedbackStore(self.runtime.journal.conn)

    def give(self, chat: ChatService, kind: Kind, text: str = "") -> str:
        """Thumbs up or down, or an edit ("this is the reply I wanted"), on the chat's last reply."""
        chat.give_feedback(kind, text)
        return {"up": "noted: a good reply", "down": "noted: not a good reply", "edit": "noted: your version of the reply"}[kind]

    @contextmanager
    def reply_draft(self, chat: ChatService) -> Iterator[Path]:
        """The last reply as an editable Markdown file, deleted after."""
        reply = chat.last.assistant_turn
        if reply is None:
            raise InputError("there is no reply to edit in this conversation yet")
        with private_draft(self.runtime.paths.cache_dir, "reply-", ".md", reply.content + "\n") as path:
            yield path

    def apply_reply_draft(self, chat: ChatService, path: Path) -> str:
        """The edited reply becomes an edit of the last reply, unless it was left as it was."""
        text = path.read_text(encoding="utf-8").strip()
        reply = chat.last.assistant_turn
        if reply is None or text == reply.content.strip():
            return "the reply is unchanged"
        return self.give(chat, "edit", text)

    def regenerate(self, chat: ChatService, *, cancel: threading.Event | None = None) -> Iterator[str]:
        """The last reply again, sampled afresh; the old one stays in the journal as regenerated."""
        return chat.regenerate(cancel=cancel)

    def pairs(self) -> list[Pair]:
        return self._store().pairs()

    def forget_pair(self, pair_id: str) -> None:
        if not self._store().forget_pair(pair_id):
            raise InputError(f"no preference pair with id {pair_id}")
        self.runtime.forget.purge()

    def forget_all_pairs(self) -> int:
        count = self._store().forget_all()
        self.runtime.forget.purge()
        return count
