"""Named, ordered schema migrations, recorded in ``_migrations`` (never edit one that has shipped; add a new one)."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_journal",
        """
        CREATE TABLE sessions (
            id          TEXT PRIMARY KEY,
            title       TEXT NOT NULL DEFAULT '',
            started_at  TEXT NOT NULL,
            source      TEXT NOT NULL DEFAULT 'chat',
            external_id TEXT
        );
        CREATE UNIQUE INDEX sessions_external ON sessions(source, external_id) WHERE external_id IS NOT NULL;
        CREATE TABLE turns (
            id          INTEGER PRIMARY KEY,
            uid         TEXT NOT NULL UNIQUE,
            session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            role        TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            content     TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            model       TEXT NOT NULL DEFAULT '',
            status      TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'cancelled'))
        );
        CREATE INDEX turns_session ON turns(session_id, id);
        """,
    ),
]
