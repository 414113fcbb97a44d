"""The adapter store: which LoRA adapters exist, which one is live for a base model, and what each was trained on.

Rows live in SQLite beside the journal and the profile (migration ``0005_adapters``); the weights live in
``data/adapters/<id>.gguf``. An adapter is written to a temporary file, renamed into place, and only then
registered, so a crash at any point leaves either the old adapter live or the new one: never half of one.
Forgetting a fact or a turn marks the adapters trained on it stale through a trigger, in the forgetting
transaction itself; :meth:`AdapterStore.sweep` then removes their files.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pmem.core.store.db import transaction
from pmem.core.store.journal import new_id, now_iso

LOCK_NAME = ".distill.lock"
USER_LOCK_NAME = "distill.lock"
QUEUED_NAME = ".queued"
"""Written in the adapters dir by a background run that waits for its turn: since when, and why (JSON)."""


@dataclass(frozen=True)
class Adapter:
    id: str
    file: str
    base_model: str
    base_name: str
    created_at: str
    status: str
    reason: str
    examples: int
    facts: int
    episodes: int
    epochs: int
    rank: int
    alpha: float
    first_loss: float | None
    final_loss: float | None
    train_s: float | None
    bytes: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Adapter:
        return cls(**{k: row[k] for k in row.keys()})


@dataclass(frozen=True)
class Sources:
    """What one adapter was trained on: fact ids and journal turn ids."""

    facts: frozenset[str]
    turns: frozenset[int]


DIGEST_SUFFIX = ".sha256"


def digest_path(path: Path) -> Path:
    return path.with_name(path.name + DIGEST_SUFFIX)


def record_digest(path: Path) -> None:
    """Write the adapter file's SHA-256 beside it (checked before the file is applied, and by ``pmem doctor``)."""
    from pmem.core.models import hash_file

    digest_path(path).write_text(hash_file(path) + "\n")


def digest_matches(path: Path) -> bool | None:
    """Whether an adapter file still hashes to the SHA-256 written beside it when it was made (a damaged range that
    keeps the size would otherwise be applied to the model); None when no digest was written (an older adapter)."""
    from pmem.core.models import hash_file

    try:
        recorded = digest_path(path).read_text().strip()
    except OSError:
        return None
    try:
        return hash_file(path) == recorded
    except OSError:
        return False


class AdapterStore:
    def __init__(self, conn: sqlite3.Connection, directory: Path) -> None:
        self.conn = conn
        self.directory = directory

    def path(self, adapter: Adapter) -> Path:
        return self.directory / adapter.file

    def intact(self, adapter: Adapter) -> bool | None:
        return digest_matches(self.path(adapter))

    def new_id(self) -> str:
        return new_id("a")

    # ------------------------------------------------------------------ reading

    def get(self, adapter_id: str) -> Adapter | None:
        row = self.conn.execute("SELECT * FROM adapters WHERE id = ?", (adapter_id,)).fetchone()
        return Adapter.from_row(row) if row else None

    def all(self) -> list[Adapter]:
        return [Adapter.from_row(r) for r in self.conn.execute("SELECT * FROM adapters ORDER BY created_at DESC, rowid DESC")]

    def active(self, base_model: str) -> Adapter | None:
        """The newest live adapter for this base model whose file is in place."""
        rows = self.conn.execute(
            "SELECT * FROM adapters WHERE status = 'active' AND base_model = ? ORDER BY created_at DESC, rowid DESC",
            (base_model,),
        )
        for row in rows:
            adapter = Adapter.from_row(row)
            if self.path(adapter).is_file():
                return adapter
        return None

    def active_for_other_models(self, base_model: str) -> list[Adapter]:
        return [
            Adapter.from_row(r)
            for r in self.conn.execute("SELECT * FROM adapters WHERE status = 'active' AND base_model != ?", (base_model,))
        ]

    def is_active(self, adapter_id: str) -> bool:
        row = self.conn.execute("SELECT status FROM adapters WHERE id = ?", (adapter_id,)).fetchone()
        return bool(row) and row[0] == "active"

    def latest(self, base_model: str) -> Adapter | None:
        """The newest adapter for this base model, live or not."""
        row = self.conn.execute(
            "SELECT * FROM adapters WHERE base_model = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", (base_model,)
        ).fetchone()
        return Adapter.from_row(row) if row else None

    def sources(self, adapter_id: str) -> Sources:
        facts: set[str] = set()
        turns: set[int] = set()
        for kind, ref in self.conn.execute("SELECT kind, ref FROM adapter_sources WHERE adapter_id = ?", (adapter_id,)):
            if kind == "fact":
                facts.add(ref)
            else:
                turns.add(int(ref))
        return Sources(frozenset(facts), frozenset(turns))

    def changes_since(self, base_model: str) -> int:
        """Facts and memories new since the newest adapter for this model (all of them when there is none);
        a forgotten source counts as a change big enough to retrain at once."""
        latest = self.latest(base_model)
        if latest is None:
            facts = self.conn.execute("SELECT count(*) FROM facts WHERE valid_to IS NULL").fetchone()[0]
            episodes = self.conn.execute("SELECT count(*) FROM episodes").fetchone()[0]
            return int(facts) + int(episodes)
        if latest.status == "stale":
            return 1 << 30
        facts = self.conn.execute(
            "SELECT count(*) FROM facts WHERE learned_at > ? OR (valid_to IS NOT NULL AND valid_to > ?)",
            (latest.created_at, latest.created_at),
        ).fetchone()[0]
        episodes = self.conn.execute("SELECT count(*) FROM episodes WHERE created_at > ?", (latest.created_at,)).fetchone()[0]
        return int(facts) + int(episodes)

    # ------------------------------------------------------------------ writing

    def register(
        self, adapter: Adapter, fact_ids: Iterable[str], turn_ids: Iterable[int], pair_ids: Iterable[str] = ()
    ) -> bool:
        """Make a trained adapter (already renamed into place) the live one for its base model.

        Refused (returns False) when a fact or turn it was trained on was forgotten while it trained: the
        file is then left for :meth:`sweep` and never loaded."""
        facts = sorted(set(fact_ids))
        turns = sorted(set(turn_ids))
        pairs = sorted(set(pair_ids))
        with transaction(self.conn):
            if facts and _missing(self.conn, "facts", "id", facts):
                return False
            if turns and _missing(self.conn, "turns", "id", turns):
                return False
            if pairs and _missing(self.conn, "preference_pairs", "id", pairs):
                return False
            self.conn.execute(
                "UPDATE adapters SET status = 'replaced', reason = ? WHERE status = 'active' AND base_model = ?",
                (f"replaced by {adapter.id}", adapter.base_model),
            )
            row = {k: getattr(adapter, k) for k in Adapter.__dataclass_fields__}
            self.conn.execute(
                f"INSERT INTO adapters ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
            )
            self.conn.executemany(
                "INSERT INTO adapter_sources (adapter_id, kind, ref) VALUES (?, ?, ?)",
                [(adapter.id, "fact", f) for f in facts] + [(adapter.id, "turn", str(t)) for t in turns],
            )
            self.conn.executemany("INSERT INTO adapter_pairs (adapter_id, pair_id) VALUES (?, ?)", [(adapter.id, p) for p in pairs])
        return True

    def clear(self) -> int:
        """Retire every live adapter (``pmem distill --clear``); :meth:`sweep` then deletes the files."""
        with transaction(self.conn):
            return self.conn.execute("UPDATE adapters SET status = 'stale', reason = 'cleared' WHERE status = 'active'").rowcount

    def sweep(self, *, holding_lock: bool = False) -> list[str]:
        """Delete the files of adapters that are no longer live, and any file no row owns (a run cut short).

        Sources of dead adapters go too: only a live adapter needs to say what it was trained on. A
        temporary file is left alone while another process trains (it is being written); the training
        process itself passes ``holding_lock``. Returns the names of the files removed."""
        if not self.directory.exists():
            return []
        live = {r[0] for r in self.conn.execute("SELECT file FROM adapters WHERE status = 'active'")}
        training = not holding_lock and distill_running(self.directory)
        removed: list[str] = []
        for entry in self.directory.iterdir():
            owner = entry.name.removesuffix(DIGEST_SUFFIX)
            if entry.name in (LOCK_NAME, QUEUED_NAME) or owner in live or not entry.is_file():
                continue
            if training and entry.name.endswith(".tmp"):
                continue  # being written right now by the training process
            entry.unlink(missing_ok=True)
            if not entry.name.endswith(DIGEST_SUFFIX):  # a digest goes with its adapter's file, not counted apart
                removed.append(entry.name)
        with transaction(self.conn):
            self.conn.execute("DELETE FROM adapter_sources WHERE adapter_id IN (SELECT id FROM adapters WHERE status != 'active')")
        return removed

    @staticmethod
    def make(
        adapter_id: str,
        *,
        base_model: str,
        base_name: str,
        examples: int,
        facts: int,
        episodes: int,
        epochs: int,
        rank: int,
        alpha: float,
        first_loss: float | None,
        final_loss: float | None,
        train_s: float,
        size: int,
    ) -> Adapter:
        return Adapter(
            id=adapter_id, file=f"{adapter_id}.gguf", base_model=base_model, base_name=base_name, created_at=now_iso(),
            status="active", reason="", examples=examples, facts=facts, episodes=episodes, epochs=epochs, rank=rank,
            alpha=alpha, first_loss=first_loss, final_loss=final_loss, train_s=train_s, bytes=size,
        )


def _missing(conn: sqlite3.Connection, table: str, column: str, ids: list) -> bool:  # type: ignore[type-arg]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        found = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} IN ({','.join('?' * len(part))})", part).fetchone()[0]
        if found != len(part):
            return True
    return False


@contextmanager
def distill_lock(directory: Path, *, wait: bool = False, name: str = LOCK_NAME) -> Iterator[bool]:
    """One training run at a time per data dir; yields False (without waiting) when another holds it.
    With ``name=USER_LOCK_NAME`` in the user's runtime dir: one background run per user account."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def distill_running(directory: Path) -> bool:
    if not (directory / LOCK_NAME).exists():
        return False
    with distill_lock(directory) as got:
        return not got


def queued(directory: Path) -> dict[str, str] | None:
    """The background run of this data dir that waits for its turn, if one does: ``since`` and ``reason``."""
    import json

    try:
        state = json.loads((directory / QUEUED_NAME).read_text())
        os.kill(int(state["pid"]), 0)  # still alive?
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"since": str(state.get("since", "")), "reason": str(state.get("reason", ""))}


def mark_queued(directory: Path, reason: str, since: str) -> None:
    import json

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / (QUEUED_NAME + ".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "since": since, "reason": reason}))
    os.replace(tmp, directory / QUEUED_NAME)


def clear_queued(directory: Path) -> None:
    (directory / QUEUED_NAME).unlink(missing_ok=True)
