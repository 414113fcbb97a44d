"""Writing what was read, and reading it out again: an import in one transaction through the journal, pmem's
lossless export, and one conversation as Markdown."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from pmem import __version__
from pmem.core.errors import InputError
from pmem.core.profile.store import ProfileStore
from pmem.core.store.journal import Journal, now_iso
from pmem.core.transfer.pmem_export import EXPORT_FORMAT, EXPORT_VERSION
from pmem.core.transfer.records import ImportSession, ImportSummary


def import_sessions(
    journal: Journal,
    kind: str,
    sessions: Iterable[ImportSession],
    progress: Callable[[int, int], None] | None = None,
    total: int | None = None,
) -> ImportSummary:
    """Write parsed sessions in one transaction; sessions already present are skipped."""
    if total is None and isinstance(sessions, list):
        total = len(sessions)
    summary = ImportSummary(kind)
    with journal.transaction():
        for n, s in enumerate(sessions, 1):
            sid = journal.add_imported_session(
                s.session_id, s.title, s.started_at, s.source, s.external_id,
                [(t.uid, t.role, t.content, t.created_at, t.model, t.status) for t in s.turns],
            )
            if sid is None:
                summary.sessions_skipped += 1
                continue
            summary.sessions_added += 1
            summary.turns_added += len(s.turns)
            summary.session_ids.append(sid)
            if progress is not None:
                progress(n, total or n)
    return summary


def export_all(conn: sqlite3.Connection, *, embedder: str = "") -> dict[str, Any]:
    sessions = []
    for s in conn.execute("SELECT * FROM sessions ORDER BY started_at, rowid"):
        turns = [
            {
                "uid": t["uid"],
                "role": t["role"],
                "content": t["content"],
                "created_at": t["created_at"],
                "model": t["model"],
                "status": t["status"],
            }
            for t in conn.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY id", (s["id"],))
        ]
        sessions.append(
            {
                "id": s["id"],
                "title": s["title"],
                "started_at": s["started_at"],
                "source": s["source"],
                "external_id": s["external_id"],
                "turns": turns,
            }
        )
    episodes = [
        {"id": r["id"], "session": r["session_id"], "first_turn": r["fu"], "last_turn": r["lu"], "indexed": bool(r["indexed"])}
        for r in conn.execute(
            "SELECT e.id, e.session_id, e.indexed, f.uid AS fu, l.uid AS lu FROM episodes e "
            "JOIN turns f ON f.id = e.first_turn_id JOIN turns l ON l.id = e.last_turn_id ORDER BY e.id"
        )
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now_iso(),
        "pmem_version": __version__,
        "sessions": sessions,
        "profile": {"facts": ProfileStore(conn).export_facts()},
        "memory": {"embedder": embedder, "episodes": episodes},
        "feedback": [
            {"turn": r["uid"], "kind": r["kind"], "text": r["text"], "created_at": r["created_at"]}
            for r in conn.execute("SELECT t.uid, f.kind, f.text, f.created_at FROM feedback f JOIN turns t ON t.id = f.turn_id ORDER BY f.id")
        ],
    }


def session_markdown(journal: Journal, session_id: str) -> str:
    """One conversation as a Markdown document (for ``/export`` in the chat)."""
    session = journal.session(session_id)
    if session is None:
        raise InputError(f"no session with id {session_id}")
    lines = [f"# {session.title or 'Conversation'}", "", f"*{session.started_at[:16].replace('T', ' ')} · {session.id}*", ""]
    for turn in journal.turns(session_id):
        who = {"user": "You", "assistant": "pmem", "system": "System"}[turn.role]
        mark = " *(cancelled)*" if turn.status == "cancelled" else ""
        lines += [f"**{who}**{mark}:", "", turn.content, ""]
    return "\n".join(lines)
