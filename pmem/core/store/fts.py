"""The journal's full-text index (FTS5 over ``turns``, external content): derived from the turns, so a damaged one
is rebuilt from them rather than reported.

Damage to the index's shadow tables (a bad sector, a sync tool) makes SQLite refuse even to construct the virtual
table ("vtable constructor failed"), and then every write of a turn fails with it, through the triggers: the
journal, the one store that cannot be rebuilt, would stop taking what the user says. FTS5's own ``rebuild`` needs a
working table, so when it cannot run the index is dropped (its shadow tables as ordinary tables, the virtual table's
schema row through ``writable_schema``, SQLite's documented way out for a broken virtual table) and made again."""

from __future__ import annotations

import sqlite3

INDEX_SQL = """
CREATE VIRTUAL TABLE turns_fts USING fts5(
    content, content='turns', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER turns_fts_update AFTER UPDATE OF content ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO turns_fts(rowid, content) VALUES (new.id, new.content);
END;
"""
"""The index as migration 0002 made it (migrations stay as they were run; this is what a repair makes again)."""

SHADOWS = ("data", "idx", "docsize", "config", "content")
REPAIRS: list[str] = []
"""One line per repair this process made, for a face to show once (``take_notices``)."""


def damage(conn: sqlite3.Connection) -> str:
    """Why the index cannot be opened, or "" (a cheap probe: it constructs the table and reads one row)."""
    try:
        conn.execute("SELECT rowid FROM turns_fts LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return ""


def command(conn: sqlite3.Connection, name: str) -> None:
    """One of FTS5's own commands on the index: ``optimize`` (merge its segments) or ``rebuild`` (from the turns)."""
    if name not in ("optimize", "rebuild"):
        raise ValueError(name)
    conn.execute(f"INSERT INTO turns_fts(turns_fts) VALUES ('{name}')")


def integrity_check(conn: sqlite3.Connection) -> None:
    """FTS5's full check of the index against the journal's turns; raises ``sqlite3.DatabaseError`` when they differ."""
    conn.execute("INSERT INTO turns_fts(turns_fts, rank) VALUES ('integrity-check', 1)")


def repair(conn: sqlite3.Connection, why: str) -> None:
    """Make the index again from the turns (FTS5's ``rebuild``; if the table cannot even run that, drop and recreate)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')")
        except sqlite3.DatabaseError:
            _recreate(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    turns = int(conn.execute("SELECT count(*) FROM turns").fetchone()[0])
    where = next((row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"), "the journal")
    REPAIRS.append(f"the full-text index in {where} was damaged ({why}); rebuilt it from the journal ({turns} turns)")


def _recreate(conn: sqlite3.Connection) -> None:
    for trigger in ("insert", "delete", "update"):
        conn.execute(f"DROP TRIGGER IF EXISTS turns_fts_{trigger}")
    for shadow in SHADOWS:
        conn.execute(f"DROP TABLE IF EXISTS turns_fts_{shadow}")
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    conn.execute("PRAGMA writable_schema=ON")
    try:
        conn.execute("DELETE FROM sqlite_master WHERE type = 'table' AND name = 'turns_fts'")  # a virtual table owns no pages
        conn.execute(f"PRAGMA schema_version={version + 1}")  # every connection reloads the schema
    finally:
        conn.execute("PRAGMA writable_schema=OFF")
    for statement in _statements(INDEX_SQL):
        conn.execute(statement)
    conn.execute("INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')")


def _statements(script: str) -> list[str]:
    out, current = [], ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return out


def take_notices() -> list[str]:
    notes = list(REPAIRS)
    REPAIRS.clear()
    return notes
