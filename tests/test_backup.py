"""Backups of the journal: taken, rotated, restored, refused when damaged, and reached by forgetting.

Real SQLite files, real ``pmem`` subprocesses; damage is done as a bad sector would (bytes overwritten in place).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, run_pmem
from tests.test_reliability import _files_containing, _import, _session


def _rows(home: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    conn = sqlite3.connect(home / "data" / "pmem.sqlite3")
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def _overwrite(path: Path, offset: int, size: int) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xa5" * size)


def _names(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "data" / "backups").glob("pmem-*.sqlite3"))


@pytest.mark.slow
def test_a_restore_brings_back_every_turn_and_fact_of_the_backup(pmem_home: Path, tmp_path: Path) -> None:
    _import(pmem_home, tmp_path, [_session("a", 1, "I live in Utrecht and I work as a carpenter.")])
    made = run_pmem("backup", home=pmem_home)
    assert made.returncode == 0 and "checked" in made.stdout, made.stderr
    turns = _rows(pmem_home, "SELECT id, role, content FROM turns ORDER BY id")
    facts = _rows(pmem_home, "SELECT id, category, attribute, value, valid_to FROM facts ORDER BY id")
    assert facts, "the import should have taught the profile something"
    _import(pmem_home, tmp_path, [_session("b", 2, "My sister Maren keeps bees on her roof in Haarlem.")])
    assert len(_rows(pmem_home, "SELECT id FROM turns")) > len(turns)
    assert any("before-import" in n for n in _names(pmem_home))  # the second import was backed up before it ran
    manual = next(n for n in _names(pmem_home) if "manual" in n)

    listed = run_pmem("restore", home=pmem_home)
    assert listed.returncode == 0 and manual in listed.stdout and "ok" in listed.stdout
    assert_one_line_error(run_pmem("restore", manual, home=pmem_home), "--yes")  # no terminal, no --yes: refused
    done = run_pmem("restore", manual, "--yes", home=pmem_home)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout and "kept at" in done.stdout

    assert _rows(pmem_home, "SELECT id, role, content FROM turns ORDER BY id") == turns
    assert _rows(pmem_home, "SELECT id, category, attribute, value, valid_to FROM facts ORDER BY id") == facts
    aside = list((pmem_home / "data").glob("pmem.sqlite3.replaced-*"))
    assert len(aside) == 1 and b"Maren" in aside[0].read_bytes()  # the replaced journal is kept, not deleted
    found = run_pmem("memory", "search", "bees", "--json", home=pmem_home)  # the vectors follow the restored journal
    assert found.returncode == 0 and "Maren" not in found.stdout
    assert "Utrecht" in run_pmem("memory", "search", "where do I live", home=pmem_home).stdout


@pytest.mark.slow
def test_a_damaged_journal_is_refused_with_the_command_that_restores_it(pmem_home: Path, tmp_path: Path) -> None:
    _import(pmem_home, tmp_path, [_session("a", 1, "Note: the lighthouse keeper's log starts today.")]
            + [_session(f"s{n}", 2 + n % 20, f"Entry {n} of my diary: " + "the tide came in " * 30) for n in range(60)])
    database = pmem_home / "data" / "pmem.sqlite3"
    good = _names(pmem_home)
    assert good, "a journal in use is backed up daily"
    _overwrite(database, 8192, 50_000)  # a bad sector's worth, past the header
    refused = run_pmem("memory", "list", home=pmem_home)
    assert_one_line_error(refused, "damaged", f"pmem restore {good[-1]}")
    doctor = run_pmem("doctor", home=pmem_home, env={"COLUMNS": "400"})
    journal = next(line for line in doctor.stdout.splitlines() if line.startswith("journal"))
    assert "damaged" in journal and f"fix: pmem restore {good[-1]}" in journal, doctor.stdout
    command = refused.stderr.split("with: ", 1)[1].split()
    restored = run_pmem(*command[1:], "--yes", home=pmem_home)
    assert restored.returncode == 0, restored.stderr
    assert "Traceback" not in restored.stderr and "panic" not in restored.stderr.lower()
    assert "lighthouse" in run_pmem("memory", "list", "--limit", "200", home=pmem_home).stdout


@pytest.mark.slow
def test_forgetting_reaches_every_backup_old_ones_included(pmem_home: Path, tmp_path: Path) -> None:
    secret = "ZEBRA-4417"
    _import(pmem_home, tmp_path, [_session("keep", 1, "I like tea."), _session("drop", 2, f"My locker code is {secret}.")])
    assert run_pmem("backup", home=pmem_home).returncode == 0
    backups = pmem_home / "data" / "backups"
    # A week-old backup, as the rotation keeps them.
    old = backups / f"pmem-{(datetime.now(timezone.utc) - timedelta(days=8)):%Y%m%dT%H%M%SZ}-daily.sqlite3"
    shutil.copyfile(sorted(backups.glob("pmem-*.sqlite3"))[-1], old)
    assert len(_names(pmem_home)) >= 2 and _files_containing(backups, secret.encode())
    gone = run_pmem("memory", "forget", "--match", secret, "--yes", home=pmem_home)
    assert gone.returncode == 0, gone.stderr
    assert _files_containing(pmem_home, secret.encode()) == []
    names = _names(pmem_home)
    assert len(names) == 1 and "after-forget" in names[0]
    assert "tea" in run_pmem("memory", "list", home=pmem_home).stdout


def test_the_rotation_keeps_the_last_day_then_one_a_day_and_one_a_week(tmp_path: Path) -> None:
    from pmem.core.store import backup

    db = tmp_path / "pmem.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE _migrations (name TEXT)")
    conn.execute("CREATE TABLE turns (id INTEGER)")
    conn.commit()
    conn.close()
    now = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)  # a Monday: ISO week 50
    ages = [1, 3, 30, 31, 50, 80, 24 * 9, 24 * 10, 24 * 16, 24 * 40, 24 * 41, 24 * 90]
    made = {hours: backup.take(db, tmp_path / "backups", "daily", now=now - timedelta(hours=hours)) for hours in ages}
    removed = backup.rotate(tmp_path / "backups", daily=3, weekly=4, now=now)
    kept = {b.path for b in backup.list_backups(tmp_path / "backups")}
    # The last 24 hours all; then the newest of 3 days (7, 6, 5 Dec); then the newest of 4 ISO weeks (50, 49, 48, 47).
    assert sorted(h for h, b in made.items() if b.path in kept) == [1, 3, 30, 50, 24 * 9, 24 * 16]
    assert sorted(removed) == sorted(b.path for b in made.values() if b.path not in kept)
    for b in backup.list_backups(tmp_path / "backups"):
        assert backup.check(b.path) == "ok" and (os.stat(b.path).st_mode & 0o077) == 0
    assert not list((tmp_path / "backups").glob("*-wal")) and not list((tmp_path / "backups").glob("*-shm"))


def test_a_damaged_backup_is_not_restored(pmem_home: Path, tmp_path: Path) -> None:
    from pmem.core.store import backup

    db = tmp_path / "pmem.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE _migrations (name TEXT)")
    conn.executemany("INSERT INTO _migrations VALUES (?)", [(str(n) * 500,) for n in range(200)])
    conn.commit()
    conn.close()
    made = backup.take(db, tmp_path / "backups", "manual")
    _overwrite(made.path, 4096, 20_000)
    assert backup.check(made.path) != "ok"
    journal = pmem_home / "data" / "pmem.sqlite3"
    journal.parent.mkdir(parents=True)
    shutil.copyfile(db, journal)
    before = journal.read_bytes()
    refused = run_pmem("restore", str(made.path), "--yes", home=pmem_home)
    assert_one_line_error(refused, "cannot be restored")
    assert journal.read_bytes() == before and not list(journal.parent.glob("*.replaced-*"))
    assert backup.newest_good(tmp_path / "backups") is None


def test_backups_taken_in_the_same_second_by_several_processes_are_all_kept(tmp_path: Path) -> None:
    """Three processes start at once and each backs up (as three pmem commands' daily backups may): none may
    take another's staging file or name, and every copy is whole."""
    import subprocess
    import sys

    from pmem.core.store import backup
    from pmem.core.store.db import connect

    database = tmp_path / "pmem.sqlite3"
    conn = connect(database)
    conn.executescript("CREATE TABLE notes(body TEXT);")
    conn.executemany("INSERT INTO notes VALUES (?)", [("line " * 200,) for _ in range(2000)])
    conn.commit()
    directory = tmp_path / "backups"
    script = (
        "import sys; from datetime import datetime, timezone; from pathlib import Path;"
        "from pmem.core.store import backup;"
        "backup.take(Path(sys.argv[1]), Path(sys.argv[2]), 'daily', now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(database), str(directory)], stderr=subprocess.PIPE) for _ in range(3)]
    for i in range(50):  # a writer meanwhile, as the chat process is
        conn.execute("INSERT INTO notes VALUES (?)", (f"written during the backups {i}",))
        conn.commit()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    conn.close()
    taken = backup.list_backups(directory)
    assert sorted(b.name for b in taken) == [
        "pmem-20260102T030405Z-1-daily.sqlite3", "pmem-20260102T030405Z-2-daily.sqlite3", "pmem-20260102T030405Z-daily.sqlite3"]
    for b in taken:
        assert backup.check(b.path) == "ok"
        copy = sqlite3.connect(b.path)
        assert copy.execute("SELECT count(*) FROM notes").fetchone()[0] >= 2000
        copy.close()
    assert not list(directory.glob(".*.tmp"))  # no staging file left behind
