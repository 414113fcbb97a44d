"""The journal: every turn of every conversation, the source of truth all other memory derives from."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone

from pmem.core.store import fts, meta
from pmem.core.store.db import transaction


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_id(prefix: str) -> str:
    """An opaque, random id ("s-…" for sessions, "t-…" for turns)."""
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Session:
    id: str
    title: str
    started_at: str
    source: str
    external_id: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        return cls(row["id"], row["title"], row["started_at"], row["source"], row["external_id"])


@dataclass(frozen=True)
class Turn:
    id: int
    uid: str
    session_id: str
    role: str
    content: str
    created_at: str
    model: str
    status: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Turn:
        return cls(
            row["id"], row["uid"], row["session_id"], row["role"], row["content"], row["created_at"], row["model"], row["status"]
        )


class Journal:
    """Sessions and turns in SQLite; each write is its own durable transaction unless batched."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.conn)

    # ---------------------------------------------------------------- sessions

    def new_session(
        self, title: str = "", *, source: str = "chat", started_at: str | None = None, external_id: str | None = None
    ) -> Session:
        session = Session(new_id("s"), title, started_at or now_iso(), source, external_id)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO sessions (id, title, started_at, source, external_id) VALUES (?, ?, ?, ?, ?)",
                (session.id, session.title, session.started_at, session.source, session.external_id),
            )
        return session

    def add_imported_session(
        self, session_id: str | None, title: str | None, started_at: str, source: str, external_id: str | None,
        turns: Iterable[tuple[str | None, str, str, str, str | None, str]],
    ) -> str | None:
        """One imported conversation (turns: uid, role, content, created_at, model, status), in the caller's
        transaction; None, and nothing written, when it is here already (the same id, or the same source and id)."""
        if session_id is not None:
            exists = self.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        else:
            exists = self.conn.execute("SELECT 1 FROM sessions WHERE source = ? AND external_id = ?", (source, external_id)).fetchone()
        if exists:
            return None
        sid = session_id or new_id("s")
        self.conn.execute(
            "INSERT INTO sessions (id, title, started_at, source, external_id) VALUES (?, ?, ?, ?, ?)",
            (sid, title, started_at, source, external_id or None),
        )
        self.conn.executemany(
            "INSERT INTO turns (uid, session_id, role, content, created_at, model, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(uid or new_id("t"), sid, role, content, created_at, model, status) for uid, role, content, created_at, model, status in turns],
        )
        return sid

    def session(self, session_id: str) -> Session | None:
        row = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return Session.from_row(row) if row else None

    def session_by_external(self, source: str, external_id: str) -> Session | None:
        row = self.conn.execute(
            "SELECT * FROM sessions WHERE source = ? AND external_id = ?", (source, external_id)
        ).fetchone()
        return Session.from_row(row) if row else None

    def sessions(self, limit: int | None = None) -> list[Session]:
        sql = "SELECT * FROM sessions ORDER BY started_at DESC, rowid DESC"
        rows = self.conn.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
        return [Session.from_row(r) for r in rows]

    def session_summaries(self, limit: int = 200) -> list[tuple[Session, int, str]]:
        """Sessions newest first, each with its turn count and first user message (for a picker)."""
        rows = self.conn.execute(
            """
            SELECT s.*, count(t.id) AS n,
                   (SELECT content FROM turns u WHERE u.session_id = s.id AND u.role = 'user' ORDER BY u.id LIMIT 1) AS first
            FROM sessions s LEFT JOIN turns t ON t.session_id = s.id
            GROUP BY s.id ORDER BY s.started_at DESC, s.rowid DESC LIMIT ?
            """,
            (limit,),
        ).fetchall()
        return [(Session.from_row(r), int(r["n"]), r["first"] or "") for r in rows]

    def rename_session(self, session_id: str, title: str) -> None:
        with self.transaction() as c:
            c.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))

    # ---------------------------------------------------------------- turns

    def add_turn(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        model: str = "",
        status: str = "complete",
        created_at: str | None = None,
    ) -> Turn:
        """Append a turn and commit it before returning: once this returns, the turn survives a crash."""
        uid = new_id("t")
        created = created_at or now_iso()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO turns (uid, session_id, role, content, created_at, model, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uid, session_id, role, content, created, model, status),
            )
            rowid = int(cur.lastrowid or 0)
        return Turn(rowid, uid, session_id, role, content, created, model, status)

    def turns(self, session_id: str) -> list[Turn]:
        rows = self.conn.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
        return [Turn.from_row(r) for r in rows]

    def turn(self, uid: str) -> Turn | None:
        row = self.conn.execute("SELECT * FROM turns WHERE uid = ?", (uid,)).fetchone()
        return Turn.from_row(row) if row else None

    def turns_by_ids(self, ids: Iterable[int]) -> list[Turn]:
        ids = list(ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(f"SELECT * FROM turns WHERE id IN ({marks}) ORDER BY id", ids).fetchall()
        return [Turn.from_row(r) for r in rows]

    def forget_generation(self) -> int:
        """Bumped by every forget (any process): a live chat that sees it change re-reads its history."""
        return int(meta.get(self.conn, "forget_generation") or 0)

    def bump_forget_generation(self) -> None:
        """Call inside the forgetting transaction."""
        meta.increment(self.conn, "forget_generation")

    def turn_uids(self, ids: list[int]) -> list[str]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [r[0] for r in self.conn.execute(f"SELECT uid FROM turns WHERE id IN ({marks})", ids)]

    def turn_ids_of_session(self, session_id: str) -> list[int]:
        return [int(r[0]) for r in self.conn.execute("SELECT id FROM turns WHERE session_id = ? ORDER BY id", (session_id,))]

    def turn_ids_containing(self, text: str) -> list[int]:
        """Turns whose text contains ``text``, ignoring case (what ``forget --match`` removes)."""
        return [int(r[0]) for r in self.conn.execute(
            "SELECT id FROM turns WHERE instr(lower(content), lower(?)) > 0 ORDER BY id", (text,))]

    def delete_turns(self, ids: list[int]) -> tuple[int, list[str], list[str]]:
        """Delete turns, and sessions left empty by it. Call inside a transaction (the forget's).
        Returns (turns deleted, sessions that still have turns, sessions removed)."""
        if not ids:
            return 0, [], []
        marks = ",".join("?" * len(ids))
        sessions = [r[0] for r in self.conn.execute(f"SELECT DISTINCT session_id FROM turns WHERE id IN ({marks})", ids)]
        count = self.conn.execute(f"DELETE FROM turns WHERE id IN ({marks})", ids).rowcount
        empty = [s for s in sessions if self.conn.execute("SELECT 1 FROM turns WHERE session_id = ? LIMIT 1", (s,)).fetchone() is None]
        for s in empty:
            self.conn.execute("DELETE FROM sessions WHERE id = ?", (s,))
        return count, [s for s in sessions if s not in empty], empty

    def delete_session(self, session_id: str) -> bool:
        """Delete a session row (its turns must be gone already). Call inside a transaction."""
        return self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    def optimize_index(self) -> None:
        """Merge the full-text index's segments, so that no old segment keeps deleted words."""
        fts.command(self.conn, "optimize")

    def rebuild_index(self) -> None:
        """Re-derive the full-text index from the turns (a reindex)."""
        fts.command(self.conn, "rebuild")

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database and truncate it (deleted pages leave the WAL file)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def count_turns(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM turns").fetchone()[0])

    def count_sessions(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
