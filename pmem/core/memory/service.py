"""The memory facade the chat service and the faces use: recall, remember, reconcile, reindex, forget, stats.

Indexing (embedding + vector upsert) runs on a background thread with its own SQLite connection, so
a new exchange never delays the next prompt. Lexical search covers a new exchange at once (FTS is
updated by triggers inside the journal's own transaction); dense search covers it once indexed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pmem.core import failpoints
from pmem.core.config import Paths, Settings, resolved_threads
from pmem.core.engine.base import ChatEngine
from pmem.core.memory.embedder import Embedder
from pmem.core.memory.episodes import Episode, EpisodeTable, Passage, passages
from pmem.core.memory.retrieval import Hit, Retriever
from pmem.core.memory.vectors import VectorStore
from pmem.core.models import resolve_embedder
from pmem.core.prompt import MemorySnippet
from pmem.core.store.db import connect, transaction
from pmem.core.store.journal import Journal, Turn

Progress = Callable[[int, int], None]


@dataclass
class ForgetReport:
    turns: int = 0
    sessions: int = 0
    episodes: int = 0
    vectors: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        facts = self.details.get("facts", 0)
        return (
            f"forgot {self.turns} turn(s), {self.episodes} memory(ies) and {self.vectors} vector(s)"
            + (f", {facts} profile fact(s) learned from them" if facts else "")
            + (f", removed {self.sessions} session(s)" if self.sessions else "")
        )


class MemoryService:
    def __init__(
        self, settings: Settings, paths: Paths, conn: sqlite3.Connection, *, embedder: Embedder | None = None
    ) -> None:
        """``embedder``: share an already loaded one (tests, benchmarks); by default one is made lazily."""
        self.settings = settings
        self.paths = paths
        self.conn = conn
        self.episodes = EpisodeTable(conn)
        self.embedder = embedder or Embedder(
            settings.embedder.name, resolve_embedder(settings.embedder.path), threads=resolved_threads(settings)
        )
        self.vectors = VectorStore(settings, paths, settings.embedder.name)
        self.retriever = Retriever(conn, self.vectors, self.embedder)
        self.last_hits: list[Hit] = []
        self.notice: str | None = None
        """Something the user should be told (e.g. the vector store was rebuilt from the journal)."""
        self.never_wait_for_embedder = False
        """When set (the TUI), a prompt sent before the embedder has loaded uses lexical search only."""
        self._indexer: _Indexer | None = None
        self._write = threading.Lock()

    # ------------------------------------------------------------------ the chat service's view (Recall)

    def profile_block(self) -> str:
        return ""

    def recall(
        self, query: str, *, exclude_session: str | None = None, exclude_ids: set[str] | frozenset[str] = frozenset(),
        k: int | None = None,
    ) -> list[MemorySnippet]:
        """Memories for the prompt: relevant ones only, none of ``exclude_ids`` (already in the conversation)."""
        if not self.settings.memory.enabled:
            self.last_hits = []
            return []
        k = self.settings.memory.retrieve_k if k is None else k
        dense = self.embedder.loaded or not self.never_wait_for_embedder
        hits = self.retriever.search(query, k + len(exclude_ids), exclude_session=exclude_session, dense=dense)
        floor = self.settings.memory.min_similarity
        self.last_hits = [
            h for h in hits
            if h.id not in exclude_ids
            and (h.dense_similarity is None or h.dense_similarity >= floor or (h.lexical_rank or 99) <= 3)
        ][:k]
        return [
            MemorySnippet(
                h.id, h.date, h.episode.transcript(), tuple((t.role, t.content) for t in h.episode.turns),
                tuple(i for i, t in enumerate(h.episode.turns) if t.id in h.matched[:1]),
            )
            for h in self.last_hits
        ]

    def on_user_turn(self, turn: Turn) -> str | None:
        return None  # episodes are formed once the reply exists

    def remember_exchange(self, user: Turn, assistant: Turn | None) -> None:
        self._sync([user.session_id])
        self.indexer.wake()

    @property
    def indexing(self) -> bool:
        """Whether background indexing has work in hand (for a status line; no I/O)."""
        return self._indexer is not None and not self._indexer.idle

    def pause_background(self) -> None:
        if self._indexer is not None:
            self._indexer.pause()

    def resume_background(self) -> None:
        if self._indexer is not None:
            self._indexer.resume()

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 8, *, exclude_session: str | None = None) -> list[Hit]:
        return self.retriever.search(query, k, exclude_session=exclude_session)

    def get(self, episode_id: str) -> Episode | None:
        return self.episodes.load([episode_id]).get(episode_id)

    # ------------------------------------------------------------------ indexing

    @property
    def indexer(self) -> _Indexer:
        if self._indexer is None:
            self._indexer = _Indexer(self)
        return self._indexer

    def _sync(self, session_ids: list[str]) -> int:
        with self._write, transaction(self.conn):
            return self.episodes.sync_sessions(session_ids)

    def index_pending(
        self, conn: sqlite3.Connection | None = None, progress: Progress | None = None, batch: int = 512,
        should_pause: Callable[[], bool] | None = None,
    ) -> int:
        """Embed and store every unindexed episode; returns how many were indexed.

        Bulk work (import, reindex) takes 512 episodes at a time: the embedder sorts a call's texts by length
        before batching them, so a large call pads far less (measured: twice the throughput of 64 at a time).
        The background indexer takes small steps instead, so a chat turn never waits long for it."""
        conn = conn or self.conn
        table = EpisodeTable(conn)
        total = table.count(indexed=False)
        done = 0
        while True:
            if should_pause is not None and should_pause():
                break
            ids = table.pending(batch)
            if not ids:
                break
            loaded = table.load(ids)
            episodes = [loaded[i] for i in ids if i in loaded]
            if episodes:
                chunks = passages(conn, episodes)
                failpoints.reach("embed")
                vectors = passage_vectors(self.embedder, chunks)
                metadatas = [{"episode": c.episode_id, "session": c.session_id, "created_at": c.created_at} for c in chunks]
                # A re-indexed episode may have lost turns (an edit, a forget): its old vectors go first.
                with self.vectors.write_lock():
                    self.vectors.delete_episodes([e.id for e in episodes])
                    self.vectors.upsert([c.turn_uid for c in chunks], vectors, metadatas)
            with transaction(conn):
                # Ids whose episode vanished (forgotten meanwhile) are marked too, so the loop ends.
                table.mark_indexed(ids)
            done += len(ids)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def reconcile_episodes(self) -> tuple[int, int]:
        """Derive episodes for turns no episode covers yet (cheap; no vector store involved)."""
        stale = self.episodes.stale_sessions()
        return len(stale), (self._sync(stale) if stale else 0)

    def reconcile(self) -> dict[str, int]:
        """Make the derived indexes agree with the journal (after a crash, an import, or another process)."""
        stale, synced = self.reconcile_episodes()
        known = self.episodes.all_ids()
        stored = self.vectors.episode_ids()
        if self.vectors.rebuilt and self.episodes.count(indexed=True):  # vectors were made, and are gone
            self.notice = (
                f"the vector store at {self.vectors.where} was missing or unreadable; "
                f"rebuilding it from the journal ({len(known)} memories)"
            )
        orphans = sorted(stored - known)
        self.vectors.delete_episodes(orphans)
        missing = [i for i in known - stored]
        if missing:
            with self._write, transaction(self.conn):
                self.conn.executemany("UPDATE episodes SET indexed = 0 WHERE id = ?", [(i,) for i in missing])
        return {"sessions_resynced": stale, "episodes_changed": synced, "orphan_vectors": len(orphans), "unindexed": len(missing)}

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild every derived index from the journal: episodes, FTS, vectors (e.g. after changing the embedder)."""
        self.vectors.reset()
        with self._write, transaction(self.conn):
            self.conn.execute("DELETE FROM episodes")
            self.conn.execute("INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')")
            sessions = [r[0] for r in self.conn.execute("SELECT id FROM sessions")]
            self.episodes.sync_sessions(sessions)
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('embedder', ?)", (self.embedder.name,))
        return self.index_pending(progress=progress)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until background indexing has caught up (call before a short-lived process exits)."""
        if self._indexer is not None:
            self._indexer.flush(timeout)

    def close(self) -> None:
        if self._indexer is not None:
            self._indexer.stop()
            self._indexer = None

    # ------------------------------------------------------------------ forgetting

    def forget_turns(self, turn_ids: list[int]) -> ForgetReport:
        """Remove turns from the journal, the lexical index, the episodes and the vector store."""
        report = ForgetReport()
        if not turn_ids:
            return report
        affected = self.episodes.containing_turns(turn_ids)
        # Vectors of the episodes next to these embed their edge turns as context: re-made without them.
        beside = self.episodes.neighbours(affected)
        marks = ",".join("?" * len(turn_ids))
        uids = [r[0] for r in self.conn.execute(f"SELECT uid FROM turns WHERE id IN ({marks})", turn_ids)]
        embedded = self.vectors.existing(uids) if affected else set()
        from pmem.core.profile.store import ProfileStore

        profile = ProfileStore(self.conn)
        with self._write, transaction(self.conn):
            # Facts learned only from these turns go with them; facts they had superseded come back.
            facts = profile.derived_only_from(turn_ids)
            report.details["facts"] = profile.delete(facts, with_history=False)[0] if facts else 0
            marks = ",".join("?" * len(turn_ids))
            sessions = [r[0] for r in self.conn.execute(f"SELECT DISTINCT session_id FROM turns WHERE id IN ({marks})", turn_ids)]
            report.turns = self.conn.execute(f"DELETE FROM turns WHERE id IN ({marks})", turn_ids).rowcount
            empty = [
                s for s in sessions if self.conn.execute("SELECT 1 FROM turns WHERE session_id = ? LIMIT 1", (s,)).fetchone() is None
            ]
            for s in empty:
                self.conn.execute("DELETE FROM sessions WHERE id = ?", (s,))
            report.sessions = len(empty)
            self.episodes.sync_sessions([s for s in sessions if s not in empty])
            self.episodes.mark_unindexed(beside)
            Journal(self.conn).bump_forget_generation()
            failpoints.reach("forget.commit")
        known = self.episodes.all_ids()
        gone = [e for e in affected if e not in known]
        report.episodes = len(affected)
        # Every vector of an affected episode goes (what remains of it is embedded again); the report counts
        # the vectors of the forgotten turns themselves.
        deleted = self.vectors.delete_episodes(affected) if affected else 0
        self.vectors.delete_episodes([e for e in beside if e in known])
        report.vectors = len(embedded)
        report.details["episodes_removed"] = len(gone)
        self.purge(vectors=bool(deleted))
        self.indexer.wake()
        return report

    def forget_exchanges(self, turn_ids: list[int]) -> ForgetReport:
        """Forget whole exchanges: these turns and the turns they were exchanged with (e.g. a reply that echoed them)."""
        episodes = self.episodes.load(self.episodes.containing_turns(turn_ids))
        every = sorted({t.id for e in episodes.values() for t in e.turns} | set(turn_ids))
        return self.forget_turns(every)

    def forget_episode(self, episode_id: str) -> ForgetReport:
        episode = self.get(episode_id)
        return self.forget_turns([t.id for t in episode.turns]) if episode else ForgetReport()

    def forget_session(self, session_id: str) -> ForgetReport:
        ids = [r[0] for r in self.conn.execute("SELECT id FROM turns WHERE session_id = ?", (session_id,))]
        report = self.forget_turns(ids)
        if not ids and self.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
            with self._write:
                self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            report.sessions = 1
        return report

    def forget_match(self, text: str) -> ForgetReport:
        ids = [
            r[0]
            for r in self.conn.execute("SELECT id FROM turns WHERE instr(lower(content), lower(?)) > 0", (text,))
        ]
        return self.forget_turns(ids)

    def check_adapter(self, engine: ChatEngine) -> str | None:
        """Before each turn: an adapter forgotten since it was loaded (here or in another process) stops now,
        and one trained meanwhile (a background run finished) starts now."""
        if not engine.adapter_id and not engine.adapter_base:
            return None
        from pmem.core.distill.store import AdapterStore

        store = AdapterStore(self.conn, self.paths.adapters_dir)
        note = None
        if engine.adapter_id and not store.is_active(engine.adapter_id):
            note = f"adapter {engine.adapter_id} is no longer used: something it was trained on was forgotten"
            engine.drop_adapter()
        live = store.active(engine.adapter_base) if engine.adapter_base else None
        if live is not None and live.id != engine.adapter_id and engine.set_adapter(store.path(live), live.id):
            note = f"now using adapter {live.id}, distilled from {live.facts} facts and {live.episodes} memories"
        return note

    def purge(self, *, vectors: bool = False) -> None:
        """Make deleted data unrecoverable from the files: merge the FTS index, checkpoint the WAL, and
        (when vectors were deleted) compact the vector store."""
        with self._write:
            self.conn.execute("INSERT INTO turns_fts(turns_fts) VALUES ('optimize')")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Saved KV states hold the tokens of the profile block: drop them; the next start recomputes.
        if self.paths.kv_dir.exists():
            for state in self.paths.kv_dir.glob("*.kv"):
                state.unlink(missing_ok=True)
        # Adapters trained on what was just forgotten were marked stale by the deletion itself: remove their files.
        from pmem.core.distill.store import AdapterStore

        AdapterStore(self.conn, self.paths.adapters_dir).sweep()
        if vectors:
            self.vectors.compact()

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, Any]:
        c = self.conn
        return {
            "sessions": int(c.execute("SELECT count(*) FROM sessions").fetchone()[0]),
            "turns": int(c.execute("SELECT count(*) FROM turns").fetchone()[0]),
            "memories": self.episodes.count(),
            "indexed": self.episodes.count(indexed=True),
            "pending": self.episodes.count(indexed=False),
            "vectors": self.vectors.count(),
            "embedder": self.embedder.name,
            "vector_store": self.vectors.where,
            "database_bytes": self.paths.database.stat().st_size if self.paths.database.exists() else 0,
        }


PASSAGE_MODE = "mean"
"""How a turn's vector takes in its neighbours: "text" embeds the turn and its neighbours as one text; "mean"
embeds every turn once, alone, and adds NEIGHBOUR_SHARE of each neighbour's vector to the turn's own."""
NEIGHBOUR_SHARE = 0.5


def passage_vectors(embedder: Embedder, chunks: list[Passage]) -> np.ndarray:
    if PASSAGE_MODE == "text":
        return embedder.embed([c.text for c in chunks])
    texts = sorted({t for c in chunks for t in (c.own, c.before, c.after) if t})
    index = {t: i for i, t in enumerate(texts)}
    base = embedder.embed(texts)
    out = np.zeros((len(chunks), base.shape[1]), dtype=np.float32)
    for row, c in enumerate(chunks):
        v = base[index[c.own]].copy() if c.own else np.zeros(base.shape[1], dtype=np.float32)
        for near in (c.before, c.after):
            if near:
                v += NEIGHBOUR_SHARE * base[index[near]]
        norm = float(np.linalg.norm(v))
        out[row] = v / norm if norm else v
    return out


class _Indexer:
    """A daemon thread that indexes pending episodes; ``pause()``/``resume()`` let an interactive turn go first."""

    def __init__(self, memory: MemoryService) -> None:
        self.memory = memory
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._paused = threading.Event()
        self._stop = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pmem-indexer", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self.wake()

    def flush(self, timeout: float | None = None) -> None:
        self._paused.clear()
        self.wake()
        self._idle.wait(timeout)

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = connect(self.memory.paths.database)
        try:
            while not self._stop:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    break
                try:
                    self.memory.index_pending(conn, should_pause=self._paused.is_set, batch=64)
                except Exception as exc:  # noqa: BLE001 - surfaced through .error and stats; retried on next wake
                    self.error = exc
                if not self._paused.is_set():
                    self._idle.set()
        finally:
            conn.close()
            self._idle.set()
