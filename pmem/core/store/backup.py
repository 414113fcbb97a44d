"""Rolling backups of the journal: SQLite's online backup API, each copy checked, a small rotating set kept.

The journal is the one store that cannot be rebuilt: the vectors, the full-text index, the adapters and the saved
KV states are all derived from it. A bad sector, a sync tool or a crash on a cheap SD card would otherwise take
years of conversations with it. Backups live beside it in the data dir (``backups/``, 0700, files 0600), are taken
at most daily when pmem is used and before every migration and bulk operation, and are reached by forgetting:
after a forget, every older backup is deleted and one fresh copy taken (``after_forget``), so nothing forgotten
survives in them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pmem.core.errors import StorageError, is_disk_full

PREFIX = "pmem-"
SUFFIX = ".sqlite3"
_NAME = re.compile(r"^pmem-(\d{8}T\d{6}Z)(?:-(\d+))?-([a-z-]+)\.sqlite3$")


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    reason: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def name(self) -> str:
        return self.path.name


def backups_dir(database: Path) -> Path:
    """Where the backups of ``database`` are kept: ``backups/`` beside it."""
    return database.parent / "backups"


def list_backups(directory: Path) -> list[Backup]:
    """The backups in ``directory``, newest first (files that are not pmem's backups are left alone)."""
    found = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    for path in entries:
        match = _NAME.match(path.name)
        if match and path.is_file():
            taken = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            found.append((taken, int(match.group(2) or 0), path.stat().st_mtime_ns, Backup(path, taken, match.group(3))))
    return [t[3] for t in sorted(found, key=lambda t: t[:3], reverse=True)]


def check(path: Path) -> str:
    """``"ok"`` when ``path`` is a whole pmem database (SQLite's integrity check and pmem's schema table), else why not."""
    if not path.is_file():
        return "missing"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                return f"damaged ({result})"
            conn.execute("SELECT 1 FROM _migrations LIMIT 1").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"damaged ({exc})"
    return "ok"


def newest_good(directory: Path) -> Backup | None:
    """The newest backup that passes ``check``."""
    return next((b for b in list_backups(directory) if check(b.path) == "ok"), None)


def take(database: Path, target: Path, reason: str, *, now: datetime | None = None) -> Backup:
    """Copy ``database`` with SQLite's online backup API (a consistent snapshot, while other processes write) into
    the directory ``target`` (or to the file ``target`` when it ends in ``.sqlite3``), check the copy, and rename
    it into place only then. Returns the backup."""
    now = now or datetime.now(timezone.utc)
    named = target.suffix == SUFFIX
    directory = target.parent if named else target
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    old = os.umask(0o077)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A staging file of this call's own: two processes backing up in the same second must not share one.
        fd, staged = tempfile.mkstemp(prefix=f".{PREFIX}{stamp}-", suffix=".tmp", dir=directory)
        os.close(fd)
        staging = Path(staged)
        try:
            source = sqlite3.connect(str(database), timeout=10)
            copy = sqlite3.connect(str(staging))
            try:
                source.backup(copy)
                # A copy is read, never written: no WAL beside it (reading a WAL database leaves -wal/-shm files).
                copy.execute("PRAGMA journal_mode=DELETE")
                result = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
                source.close()
            if result != "ok":
                raise StorageError(f"the backup of {database} failed its integrity check ({result}); the journal itself may be damaged")
            with staging.open("rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(staging, 0o600)
            if named:
                os.replace(staging, target)
                final = target
            else:
                final = _claim(staging, directory, stamp, reason)
            _fsync_dir(directory)
        except (sqlite3.DatabaseError, OSError) as exc:
            if is_disk_full(exc) or getattr(exc, "errno", None) in (28, 27):  # ENOSPC, EFBIG
                raise StorageError(
                    f"cannot back up {database} ({exc}): the disk looks full; nothing was stored, and what was stored "
                    "before is intact; free some space and try again"
                ) from None
            raise StorageError(f"cannot back up {database} to {directory}: {getattr(exc, 'strerror', None) or exc}") from None
        finally:
            staging.unlink(missing_ok=True)
    finally:
        os.umask(old)
    match = _NAME.match(final.name)
    return Backup(final, now, match.group(3) if match else reason)


def _claim(staging: Path, directory: Path, stamp: str, reason: str) -> Path:
    """Give ``staging`` the first free backup name of its second; a hard link claims a name atomically, so a
    backup taken by another process in the same second is never overwritten."""
    n = 0
    while True:
        final = directory / (f"{PREFIX}{stamp}-{reason}{SUFFIX}" if n == 0 else f"{PREFIX}{stamp}-{n}-{reason}{SUFFIX}")
        try:
            os.link(staging, final)
        except FileExistsError:
            n += 1
            continue
        except OSError:  # a file system without hard links: a rename, after a look that leaves a tiny race
            if final.exists():
                n += 1
                continue
            os.replace(staging, final)
            return final
        staging.unlink()
        return final


def due(directory: Path, *, now: datetime | None = None, every: timedelta = timedelta(days=1)) -> bool:
    """Whether the daily backup is due: none yet, or the newest is older than ``every``."""
    backups = list_backups(directory)
    return not backups or (now or datetime.now(timezone.utc)) - backups[0].taken_at >= every


def rotate(directory: Path, *, daily: int, weekly: int, keep_also: Path | None = None, now: datetime | None = None) -> list[Path]:
    """Keep every backup of the last 24 hours (a backup before an import is still there after the next one), the
    newest of each of the last ``daily`` days and of each of the last ``weekly`` weeks, and ``keep_also``; delete
    the rest. Returns what was deleted."""
    backups = list_backups(directory)
    recent = (now or datetime.now(timezone.utc)) - timedelta(days=1)
    keep = {b.path for b in backups if b.taken_at >= recent}
    if keep_also is not None:
        keep.add(keep_also)
    days: set[object] = set()
    weeks: set[object] = set()
    for b in backups:  # newest first: the first seen of a day or a week is its newest
        day, week = b.taken_at.date(), b.taken_at.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(b.path)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            keep.add(b.path)
    removed = [b.path for b in backups if b.path not in keep]
    for path in removed:
        _delete(path)
    return removed


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def after_forget(database: Path, directory: Path) -> Backup | None:
    """Forgetting reaches the backups: every backup is deleted and one fresh copy of the journal (which no longer
    holds what was forgotten) taken in its place. None when there were none (nothing to replace)."""
    backups = list_backups(directory)
    if not backups:
        return None
    fresh = take(database, directory, "after-forget")
    for b in backups:
        if b.path != fresh.path:
            _delete(b.path)
    for stale in directory.glob(f".{PREFIX}*.tmp"):
        stale.unlink(missing_ok=True)
    return fresh


def restore(database: Path, backup: Path, *, now: datetime | None = None) -> Path | None:
    """Put ``backup`` in place of ``database`` after checking it; the database it replaces (damaged or not) and its
    WAL are kept aside, renamed, never deleted. Returns where the old one went (None if there was none)."""
    verdict = check(backup)
    if verdict != "ok":
        raise StorageError(f"{backup} cannot be restored: {verdict}")
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    aside = database.with_name(f"{database.name}.replaced-{stamp}") if database.exists() else None
    old = os.umask(0o077)
    try:
        if aside is not None:
            for suffix in ("", "-wal", "-shm"):
                source = Path(str(database) + suffix)
                if source.exists():
                    os.replace(source, Path(str(aside) + suffix))
        staging = database.with_name(f".{database.name}.restoring")
        shutil.copyfile(backup, staging)
        os.chmod(staging, 0o600)
        with staging.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(staging, database)
        _fsync_dir(database.parent)
    except OSError as exc:
        raise StorageError(f"cannot restore {backup} to {database}: {exc.strerror or exc}") from None
    finally:
        os.umask(old)
    return aside


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
