"""Where the faces' reads go: a connection of the reader's own once a chat is open, so that a panel refresh never
waits behind (or interleaves with) the chat's writes; before that, the runtime's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.store.journal import Journal


class Reader:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._conn: Any = None

    def open(self) -> None:
        from pmem.core.store.db import connect

        if self._conn is None:
            self._conn = connect(self.runtime.paths.database)

    def journal(self) -> Journal:
        from pmem.core.store.journal import Journal

        return Journal(self._conn) if self._conn is not None else self.runtime.journal
