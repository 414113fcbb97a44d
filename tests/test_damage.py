"""A lifelong memory survives damaged files: each file pmem keeps is damaged the way a bad sector, a sync tool or a
crash damages it (a range overwritten, truncated, zeroed), and the outcome is checked through the real CLI. Derived
stores (the vector store, the full-text index, the saved KV state) are rebuilt with at most one line, and searches
answer as before; never a traceback, never a Rust panic's text."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run_pmem

SESSIONS = {"sessions": [
    {"started_at": "2025-04-02T18:10:00Z", "turns": [
        {"role": "user", "content": "Hello! I'm Tomasz, I work as a sound engineer at a theatre in Gdansk."},
        {"role": "assistant", "content": "Nice to meet you, Tomasz."},
        {"role": "user", "content": "I have a grey rabbit called Kluska, she chews every cable in the flat."},
        {"role": "assistant", "content": "Rabbits do love cables."}]},
    {"started_at": "2025-05-08T20:05:00Z", "turns": [
        {"role": "user", "content": "I play the cello in an amateur orchestra on Thursdays."},
        {"role": "assistant", "content": "That sounds lovely."},
        {"role": "user", "content": "My brother Piotr lives in Oslo and works as a nurse."},
        {"role": "assistant", "content": "Do you visit him often?"}]},
]}
QUERY = "Which pet chews the cables?"
PANIC = ("panicked", "PanicException", "stack backtrace", "Traceback")


@pytest.fixture(scope="module")
def clean_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """One imported home, and what a search finds in it before any damage."""
    root = tmp_path_factory.mktemp("damage-clean")
    home = root / "home"
    sessions = root / "sessions.json"
    sessions.write_text(json.dumps(SESSIONS))
    assert run_pmem("import", str(sessions), home=home).returncode == 0
    found = run_pmem("memory", "search", QUERY, "--json", home=home)
    assert found.returncode == 0, found.stderr
    return home, [hit["id"] for hit in json.loads(found.stdout)]


@pytest.fixture()
def home(clean_home: tuple[Path, list[str]], tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(clean_home[0], copy, symlinks=True)
    return copy


def _overwrite(path: Path, at: float, size: int = 50 * 1024) -> None:
    length = path.stat().st_size
    start = min(int(length * at), max(0, length - size))
    with path.open("r+b") as handle:
        handle.seek(start)
        handle.write(random.Random(7).randbytes(min(size, length)))


def _damage(path: Path, how: str) -> None:
    if how == "truncate":
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
    elif how == "zero":
        path.write_bytes(b"\0" * path.stat().st_size)
    else:
        _overwrite(path, float(how))


def _no_crash_text(proc) -> None:  # type: ignore[no-untyped-def]
    for text in PANIC:
        assert text not in proc.stderr and text not in proc.stdout, proc.stderr


def _search(home: Path):  # type: ignore[no-untyped-def]
    proc = run_pmem("memory", "search", QUERY, "--json", home=home)
    _no_crash_text(proc)
    assert proc.returncode == 0, proc.stderr
    return proc, [hit["id"] for hit in json.loads(proc.stdout)]


@pytest.mark.parametrize("how", ["0.05", "truncate", "zero"])
def test_a_damaged_vector_store_database_is_rebuilt_and_searches_as_before(
    home: Path, clean_home: tuple[Path, list[str]], how: str
) -> None:
    _damage(home / "data" / "chroma" / "chroma.sqlite3", how)
    proc, ids = _search(home)
    assert ids == clean_home[1]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) <= 1 and all("vector store" in line and "rebuilding it from the journal" in line for line in lines), lines
    again, _ = _search(home)
    assert again.stderr.strip() == "", "the rebuild holds: the next search has nothing to say"


@pytest.mark.parametrize("how", ["0.3", "zero"])
def test_damaged_vector_segment_files_are_rebuilt_and_search_as_before(
    home: Path, clean_home: tuple[Path, list[str]], how: str
) -> None:
    segments = [p for p in (home / "data" / "chroma").glob("*/*.bin")]
    assert segments, "the HNSW segment files"
    for path in segments:
        _damage(path, how)
    _, ids = _search(home)
    assert ids == clean_home[1]


def test_a_panic_inside_the_vector_store_is_one_line_and_a_rebuild(home: Path, clean_home: tuple[Path, list[str]]) -> None:
    """The case from issue #41: a damaged page that Chroma's Rust core meets with a panic (a BaseException) and a
    backtrace on stderr. Several ranges are tried, so that at least one reaches a page Chroma reads."""
    chroma = home / "data" / "chroma" / "chroma.sqlite3"
    pristine = chroma.read_bytes()
    said = []
    for at in (0.7, 0.75, 0.8):
        chroma.write_bytes(pristine)
        for extra in chroma.parent.glob("chroma.sqlite3-*"):
            extra.unlink()
        _overwrite(chroma, at)
        proc, ids = _search(home)
        assert ids == clean_home[1]
        said += [line for line in proc.stderr.splitlines() if line.strip()]
    assert said and all(line.startswith("pmem: the vector store") for line in said), said


def test_a_damaged_full_text_index_is_rebuilt_and_the_journal_keeps_writing(
    home: Path, clean_home: tuple[Path, list[str]]
) -> None:
    """Damage that stops SQLite constructing the index would stop every write of a turn (through its triggers):
    the question must still be journaled before the model answers."""
    db = home / "data" / "pmem.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE turns_fts_data SET block = randomblob(length(block)) WHERE id > 1")  # the index's own records
    conn.commit()
    turns = conn.execute("SELECT count(*) FROM turns").fetchone()[0]
    conn.close()
    answer = run_pmem("ask", "--temperature", "0", "--max-tokens", "16", "What is my rabbit called?", home=home)
    _no_crash_text(answer)
    assert answer.returncode == 0, answer.stderr
    lines = [line for line in answer.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "full-text index" in lines[0] and "rebuilt it from the journal (8 turns)" in lines[0], lines
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM turns").fetchone()[0] == turns + 2, "the question and the reply are journaled"
    assert conn.execute("INSERT INTO turns_fts(turns_fts, rank) VALUES ('integrity-check', 1)").fetchall() == []
    conn.close()
    proc = run_pmem("memory", "search", QUERY, "--json", home=home)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    assert set(clean_home[1]) <= {hit["id"] for hit in json.loads(proc.stdout)}
    doctor = run_pmem("doctor", home=home)
    assert "full-text index" in doctor.stdout and "integrity ok" in doctor.stdout


def test_a_full_text_index_damaged_past_its_opening_is_rebuilt_by_the_search(
    home: Path, clean_home: tuple[Path, list[str]]
) -> None:
    """Damage deeper in the index (its segments) lets SQLite open it and fails a query: the search rebuilds it."""
    db = home / "data" / "pmem.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE turns_fts_data SET block = randomblob(length(block)) WHERE id > 10")  # segments, not structure
    conn.commit()
    conn.close()
    proc, ids = _search(home)
    assert ids == clean_home[1]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "full-text index" in lines[0], lines


@pytest.mark.slow
def test_a_damaged_saved_kv_state_is_computed_again(home: Path) -> None:
    first = run_pmem("chat", "--plain", home=home, input=b"What is my rabbit called?\n/quit\n")
    assert first.returncode == 0, first.stderr
    [state] = list((home / "cache").rglob("*.kv"))
    written = state.read_bytes()
    _overwrite(state, 0.5, size=64 * 1024)
    second = run_pmem("chat", "--plain", home=home, input=b"What is my rabbit called?\n/quit\n")
    _no_crash_text(second)
    assert second.returncode == 0, second.stderr
    assert "Kluska" in second.stdout.splitlines()[-1] or "Kluska" in second.stdout
    [again] = list((home / "cache").rglob("*.kv"))
    assert again.read_bytes() == written, "the damaged state was dropped and the prefix computed and saved again"


def test_a_damaged_journal_is_refused_and_restore_brings_it_back(home: Path) -> None:
    db = home / "data" / "pmem.sqlite3"
    backups = sorted((home / "data" / "backups").glob("*.sqlite3"))
    assert backups, "the import took a backup"
    conn = sqlite3.connect(backups[-1])
    want = conn.execute("SELECT count(*) FROM turns").fetchone()[0], conn.execute("SELECT count(*) FROM facts").fetchone()[0]
    conn.close()
    for extra in db.parent.glob("pmem.sqlite3-*"):
        extra.unlink()
    _overwrite(db, 0.0, size=8 * 1024)
    proc = run_pmem("memory", "search", QUERY, home=home)
    assert_one_line_error(proc, "damaged", f"pmem restore {backups[-1].name}")
    _no_crash_text(proc)
    restored = run_pmem("restore", backups[-1].name, "--yes", home=home)
    assert restored.returncode == 0, restored.stderr
    conn = sqlite3.connect(db)
    assert (conn.execute("SELECT count(*) FROM turns").fetchone()[0], conn.execute("SELECT count(*) FROM facts").fetchone()[0]) == want
    conn.close()
    assert list(db.parent.glob("pmem.sqlite3.replaced-*")), "the damaged file is kept aside, not deleted"


def test_damaged_config_is_one_line(home: Path) -> None:
    config = home / "config.toml"
    config.write_bytes(os.urandom(256))
    proc = run_pmem("memory", "search", QUERY, home=home)
    assert_one_line_error(proc, "config")
    _no_crash_text(proc)


def test_a_damaged_backup_is_listed_as_damaged_and_never_restored(home: Path) -> None:
    [newest, *_] = sorted((home / "data" / "backups").glob("*.sqlite3"), reverse=True)
    _overwrite(newest, 0.0, size=4096)
    listing = run_pmem("restore", home=home)
    assert listing.returncode == 0 and newest.name in listing.stdout and "damaged" in listing.stdout.lower(), listing.stdout
    proc = run_pmem("restore", newest.name, "--yes", home=home)
    assert_one_line_error(proc)
    _no_crash_text(proc)


@pytest.mark.parametrize(
    ("what", "row", "fix"),
    [
        ("vector store", "vector store", "fix: pmem memory reindex"),
        ("full-text index", "full-text index", "fix: pmem memory reindex"),
        ("journal", "journal", "fix: pmem restore "),
        ("backup", "backups", "fix: pmem backup"),
        ("config", "config", "config.toml"),
        ("saved KV state", "saved KV state", "pmem computes it again"),
    ],
)
def test_the_doctor_reports_each_damage_with_its_fix(home: Path, what: str, row: str, fix: str) -> None:
    data = home / "data"
    if what == "vector store":
        _damage(data / "chroma" / "chroma.sqlite3", "zero")
    elif what == "full-text index":
        conn = sqlite3.connect(data / "pmem.sqlite3")
        conn.execute("UPDATE turns_fts_data SET block = randomblob(length(block)) WHERE id > 1")
        conn.commit()
        conn.close()
    elif what == "journal":
        for extra in data.glob("pmem.sqlite3-*"):
            extra.unlink()
        _overwrite(data / "pmem.sqlite3", 0.0, size=8 * 1024)
    elif what == "backup":
        [newest, *_] = sorted((data / "backups").glob("*.sqlite3"), reverse=True)
        _overwrite(newest, 0.0, size=4096)
    elif what == "config":
        (home / "config.toml").write_bytes(b"[model\nn_ctx = = 3\n")
    else:
        kv = home / "cache" / "kv"
        kv.mkdir(parents=True, exist_ok=True)
        (kv / "model-prefix.kv").write_bytes(b"\0" * 4096)
        (kv / "model-prefix.kv.b2").write_text("0" * 32)
    proc = run_pmem("doctor", home=home)
    _no_crash_text(proc)
    assert proc.returncode == 1, proc.stdout
    text = "\n".join(" ".join(line.split()) for line in proc.stdout.splitlines())
    failing = [line for line in text.splitlines() if line.startswith(row) and "FAIL" in line.split(row, 1)[1][:8]]
    assert failing, text
    assert fix in " ".join(proc.stdout.split()), proc.stdout


def test_a_damaged_adapter_is_not_applied_and_the_doctor_says_so(home: Path, embedded_model: Path) -> None:
    """An adapter whose file was damaged in a range that keeps its size would be applied as it is: its SHA-256,
    written beside it when it was made, is checked first. (The adapter here is the grounding adapter's file, a real
    LoRA for the embedded model, registered as the user's: training one takes minutes.)"""
    from pmem.core.distill.store import AdapterStore, record_digest
    from pmem.core.engine.grounding import shipped as grounding
    from pmem.core.models import model_fingerprint
    from pmem.core.store.db import connect

    conn = connect(home / "data" / "pmem.sqlite3")
    store = AdapterStore(conn, home / "data" / "adapters")
    adapter = AdapterStore.make(
        store.new_id(), base_model=model_fingerprint(embedded_model), base_name="SmolLM2", examples=1, facts=0, episodes=0,
        epochs=1, rank=8, alpha=16, first_loss=None, final_loss=None, train_s=1.0, size=0,
    )
    shipped = grounding()
    assert shipped is not None
    store.directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shipped.path, store.path(adapter))
    record_digest(store.path(adapter))
    assert store.register(adapter, [], [])
    conn.close()
    applied = run_pmem("ask", "--temperature", "0", "--max-tokens", "8", "Hello", home=home)
    assert applied.returncode == 0 and "damaged" not in applied.stderr, applied.stderr
    _overwrite(store.path(adapter), 0.6, size=64 * 1024)
    proc = run_pmem("ask", "--temperature", "0", "--max-tokens", "8", "Hello", home=home)
    _no_crash_text(proc)
    assert proc.returncode == 0, proc.stderr
    assert f"adapter {adapter.id} is damaged" in proc.stderr and "pmem distill --clear, then pmem distill" in proc.stderr
    doctor = run_pmem("doctor", home=home)
    assert proc.returncode == 0 and "missing or damaged; fix: pmem distill --clear" in " ".join(doctor.stdout.split())
