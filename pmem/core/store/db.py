"""Opening the SQLite database: WAL, durable commits, busy timeout, migrations, private file modes.

``synchronous=FULL``: a turn the user has seen acknowledged survives a power cut, not only a crash
of pmem. On this workload (one small transaction per turn) FULL costs a millisecond or two per
commit, which is nothing next to a model reply.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pmem.core import failpoints
from pmem.core.errors import StorageError, is_disk_full
from pmem.core.store import backup, fts
from pmem.core.store.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) the pmem database with its pragmas set and migrations applied."""
    if readonly and not path.exists():
        raise StorageError(f"no pmem database at {path} yet; chat with pmem first")
    try:
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _touch_private(path)
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")  # forgotten text is zeroed, not left in free pages
            if _pending(conn) and _holds_data(conn):
                backup.take(path, backup.backups_dir(path), "before-migration")  # a migration rewrites tables
            migrate(conn)
            if why := fts.damage(conn):  # derived from the turns: rebuilt, never a reason to refuse the journal
                fts.repair(conn, why)
        else:
            _check_schema(conn, path)
    except sqlite3.DatabaseError as exc:
        hint = ""
        if "not a database" in str(exc) or "malformed" in str(exc):
            hint = "; it is damaged: pmem left it untouched; " + _restore_hint(path)
        elif is_disk_full(exc):
            hint = "; the disk looks full: free some space and try again (nothing stored was lost)"
        raise StorageError(f"cannot open the pmem database {path}: {exc}{hint}") from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction: it takes the write lock up front, so two processes queue on the busy
    timeout instead of deadlocking on a lock upgrade. Nested use joins the outer transaction."""
    if conn.in_transaction:
        yield conn
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        failpoints.reach("txn.commit")
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        if is_disk_full(exc):
            raise StorageError(
                f"cannot write to the pmem database ({exc}): the disk looks full; nothing was stored, "
                "and what was stored before is intact; free some space and try again"
            ) from None
        raise


def _restore_hint(path: Path) -> str:
    """What to do about a damaged journal: the exact command that restores the newest good backup, if any."""
    good = backup.newest_good(backup.backups_dir(path))
    if good is None:
        return "no backup of it exists: move it aside to start afresh (pmem makes daily backups from then on)"
    return f"restore the newest good backup ({good.taken_at:%Y-%m-%d %H:%M} UTC) with: pmem restore {good.name}"


def _pending(conn: sqlite3.Connection) -> bool:
    try:
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    except sqlite3.OperationalError:
        return True  # a new database: every migration is pending
    return any(name not in done for name, _ in MIGRATIONS)


def _holds_data(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM turns LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:
        return False


def _touch_private(path: Path) -> None:
    old = os.umask(0o077)
    try:
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if not p.exists() and suffix == "":
                p.touch(mode=0o600)
    finally:
        os.umask(old)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; return the names applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        with transaction(conn):
            # Checked again inside the lock: another process may have applied it meanwhile.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone() is None:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO _migrations (name) VALUES (?)", (name,))
                applied.append(name)
    known = {name for name, _ in MIGRATIONS}
    newer = done - known
    if newer:
        raise StorageError(f"the database was written by a newer pmem (migrations {', '.join(sorted(newer))}); upgrade pmem")
    return applied


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    try:
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    except sqlite3.OperationalError:
        raise StorageError(f"{path} is not a pmem database") from None
    if done != {name for name, _ in MIGRATIONS}:
        raise StorageError(f"{path} needs a schema upgrade; run any pmem command that writes (e.g. 'pmem doctor')")


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement keeps triggers' inner ';' intact)."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
