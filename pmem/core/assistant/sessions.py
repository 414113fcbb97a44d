"""What the user can do with their conversations: read, rename and forget them, or a single turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmem.core.assistant.reader import Reader
from pmem.core.errors import InputError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.forget import ForgetReport
    from pmem.core.store.journal import Session, Turn


class SessionActions:
    def __init__(self, runtime: Runtime, reader: Reader) -> None:
        self.runtime = runtime
        self.reader = reader

    def get(self, session_id: str) -> Session | None:
        return self.reader.journal().session(session_id)

    def turn(self, uid: str) -> Turn | None:
        return self.reader.journal().turn(uid)

    def turns(self, session_id: str) -> list[Turn]:
        return self.reader.journal().turns(session_id)

    def summaries(self) -> list[tuple[Session, int, str]]:
        """Conversations newest first, each with its turn count and first message (for a picker)."""
        return self.reader.journal().session_summaries()

    def rename(self, session_id: str, title: str) -> None:
        self.runtime.journal.rename_session(session_id, title)

    def forget(self, session_id: str) -> ForgetReport:
        if self.get(session_id) is None:
            raise InputError(f"no session with id {session_id}")
        return self.runtime.forget.session(session_id)

    def forget_turn(self, uid: str) -> ForgetReport:
        turn = self.turn(uid)
        if turn is None:
            raise InputError(f"no turn with id {uid}")
        return self.runtime.forget.turns([turn.id])
