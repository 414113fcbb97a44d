"""The episodic layer: recall, remember, reconcile, reindex, stats (forgetting is ``pmem.core.forget``).

Indexing (embedding + vector upsert) runs on a background thread with its own SQLite connection, so
a new exchange never delays the next prompt. Lexical search covers a new exchange at once (FTS is
updated by triggers inside the journal's own transaction); dense search covers it once indexed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable
from typing import Any

import numpy as np

from pmem.core import failpoints
from pmem.core.config import Paths, Settings
from pmem.core.engine.base import ChatEngine
from pmem.core.memory.embedder import Embedder, embedder_from_settings
from pmem.core.memory.episodes import Episode, EpisodeTable, Passage, passages
from pmem.core.memory.query_adapter import QueryAdapter, query_adapter_for
from pmem.core.memory.retrieval import Hit, Retriever, weights_for
from pmem.core.memory.vectors import VectorStore
from pmem.core.prompt import MemorySnippet
from pmem.core.store import meta
from pmem.core.store.db import connect, transaction
from pmem.core.store.journal import Journal, Turn

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Build:
    """How an index's vectors were made, beside the embedder's name."""

    precision: str
    tuned: bool


class MemoryService:
    def __init__(
        self, settings: Settings, paths: Paths, conn: sqlite3.Connection, *, embedder: Embedder | None = None
    ) -> None:
        """``embedder``: share an already loaded one (tests, benchmarks); by default one is made lazily."""
        self.settings = settings
        self.paths = paths
        self.conn = conn
        self.episodes = EpisodeTable(conn)
        self._own_embedder = embedder is None
        built = self.built_with(conn, settings.embedder.name)
        self.embedder = embedder or embedder_from_settings(
            settings, paths, precision=built.precision if built else None, tuned=built.tuned if built else None,
        )
        self.vectors = VectorStore(settings, paths, self.embedder.identity)
        if built is None:  # a new index (or another embedder's, which keeps its record): known before its first vector
            with transaction(conn):
                meta.put_if_absent(conn, "embedder", self.embedder.identity)
        self.retriever = Retriever(conn, self.vectors, self.embedder, query_adapter=self._query_adapter())
        self.last_hits: list[Hit] = []
        self.notice: str | None = None
        """Something the user should be told (e.g. the vector store was rebuilt from the journal)."""
        self.never_wait_for_embedder = False
        """When set (the TUI), a prompt sent before the embedder has loaded uses lexical search only."""
        self._indexer: _Indexer | None = None
        self.write_lock = threading.Lock()
        """Held by every write on ``conn`` (the chat's thread, a face's worker and forgetting share it)."""

    @staticmethod
    def built_with(conn: sqlite3.Connection, name: str) -> Build | None:
        """How this data dir's index was built (precision, tuning), so it is searched the same way until a reindex:
        what the index recorded; float32 and untuned for an index made before either was recorded; None for one
        not yet made (the configured embedder applies, and is recorded now)."""
        recorded = meta.get(conn, "embedder")
        if recorded is not None:
            built, *tags = recorded.split("+")
            if built != name:
                return None  # another embedder's index: the vector store says so, and reindex rebuilds it
            return Build("int8" if "int8" in tags else "float32", any(t.startswith("tuned-") for t in tags))
        return Build("float32", False) if EpisodeTable(conn).count(indexed=True) else None

    def _query_adapter(self) -> QueryAdapter | None:
        """The packaged query adapter fits the packaged embedder as shipped; the tuned one needs none."""
        return None if self.embedder.tuning is not None else query_adapter_for(self.settings)

    # ------------------------------------------------------------------ the chat service's view (Recall)

    def profile_block(self) -> str:
        return ""

    def recall(
        self, query: str, *, exclude_session: str | None = None, exclude_ids: set[str] | frozenset[str] = frozenset(),
        k: int | None = None,
    ) -> list[MemorySnippet]:
        """Memories for the prompt: relevant ones only, none of ``exclude_ids`` (already in the conversation), and no
        question that got only "I don't know" (``Episode.unanswered``)."""
        if not self.settings.memory.enabled:
            self.last_hits = []
            return []
        k = self.settings.memory.retrieve_k if k is None else k
        dense = self.embedder.loaded or not self.never_wait_for_embedder
        hits = self.retriever.search(query, k + len(exclude_ids), exclude_session=exclude_session, dense=dense)
        floor = self.settings.memory.min_similarity
        self.last_hits = [
            h for h in hits
            if h.id not in exclude_ids and not h.episode.unanswered
            and (h.dense_similarity is None or h.dense_similarity >= floor or (h.lexical_rank or 99) <= 3)
        ][:k]
        return [
            MemorySnippet(
                h.id, h.date, h.episode.transcript(), tuple((t.role, t.content) for t in h.episode.turns),
                tuple(i for i, t in enumerate(h.episode.turns) if t.id in h.matched[:1]),
                tuple(t.id for t in h.episode.turns),
            )
            for h in self.last_hits
        ]

    def on_user_turn(self, turn: Turn) -> str | None:
        return None  # episodes are formed once the reply exists

    def remember_exchange(self, user: Turn, assistant: Turn | None, *, learn: bool = True) -> None:
        self._sync([user.session_id])
        self.indexer.wake()

    def check_adapter(self, engine: ChatEngine) -> str | None:
        return None  # adapters are the memory layers' concern (``MemoryLayers``), not the episodic layer's alone

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

    def search(self, query: str, k: int = 8, *, exclude_session: str | None = None, now: datetime | None = None) -> list[Hit]:
        """``now``: the moment of asking, for recency and for relative times in the question (default: now)."""
        return self.retriever.search(query, k, exclude_session=exclude_session, now=now)

    def get(self, episode_id: str) -> Episode | None:
        return self.episodes.load([episode_id]).get(episode_id)

    # ------------------------------------------------------------------ indexing

    @property
    def indexer(self) -> _Indexer:
        if self._indexer is None:
            self._indexer = _Indexer(self)
        return self._indexer

    def _sync(self, session_ids: list[str]) -> int:
        with self.write_lock, transaction(self.conn):
            return self.episodes.sync_sessions(session_ids)

    def index_pending(
        self, conn: sqlite3.Connection | None = None, progress: Progress | None = None, batch: int = 512,
        should_pause: Callable[[], bool] | None = None,
    ) -> int:
        """Embed and store every unindexed episode; returns how many were indexed.

        Bulk work (import, reindex) takes 512 episodes at a time: the embedder sorts a call's texts by length
        before batching them, so a large call pads far less (measured: twice the throughput of 64 at a time).
        The background indexer takes small steps instead, so a chat turn never waits long for it."""
        if conn is None and self.vectors.rebuilt:  # the store was found damaged and started afresh since: re-embed all
            self.reconcile()
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
            agreed = False
            chunks: list[Passage] = []
            if episodes:
                chunks = passages(conn, episodes)
                failpoints.reach("embed")
                vectors = passage_vectors(self.embedder, chunks)
                metadatas = [{"episode": c.episode_id, "session": c.session_id, "created_at": c.created_at} for c in chunks]
                # A re-indexed episode may have lost turns (an edit, a forget): its old vectors go first.
                with self.vectors.write_lock():
                    # Checked next to the write: a batch keeps an agreement only if the store agreed just before.
                    agreed = self._agreed(conn)
                    self.vectors.delete_episodes([e.id for e in episodes])
                    self.vectors.upsert([c.turn_uid for c in chunks], vectors, metadatas)
            with transaction(conn):
                # Marked done only if its passages are still what was embedded: a turn written meanwhile (the next
                # exchange, whose first turn is this episode's last turn's neighbour) or an edit had marked the
                # episode pending again, and this pass must not undo that. Checked inside the write transaction,
                # so a later write marks it pending after this. Ids whose episode vanished (forgotten meanwhile)
                # are marked too (a no-op), so the loop ends.
                embedded = set(chunks)
                now_loaded = table.load(ids)
                current = passages(conn, [now_loaded[i] for i in ids if i in now_loaded])
                changed = {c.episode_id for c in embedded.symmetric_difference(current)}
                table.mark_indexed([i for i in ids if i not in changed])
                if agreed:  # the store agreed before this batch, and the batch added to both sides
                    self._record_agreement(conn)
            done += len(ids)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def reconcile_episodes(self) -> tuple[int, int]:
        """Derive episodes for turns no episode covers yet (cheap; no vector store involved)."""
        stale = self.episodes.stale_sessions()
        return len(stale), (self._sync(stale) if stale else 0)

    def reconcile(self, *, full: bool = False) -> dict[str, int]:
        """Make the derived indexes agree with the journal (after a crash, an import, or another process).

        Comparing every vector with the journal reads the whole store (1.5 s of a cold search at 10k memories),
        so it is skipped when the store is as the last reconcile or index batch left it (same write generation,
        vector count and indexed-episode count); any other change (a forget, a crash, another process) does
        the full comparison. ``full``: always compare."""
        stale, synced = self.reconcile_episodes()
        if not full and not self.vectors.rebuilt and self._agreed(self.conn):
            return {"sessions_resynced": stale, "episodes_changed": synced, "orphan_vectors": 0, "unindexed": 0}
        known = self.episodes.all_ids()
        stored = self.vectors.episode_ids()
        if self.vectors.rebuilt and self.episodes.count(indexed=True):  # vectors were made, and are gone
            said = f" ({self.vectors.damage})" if self.vectors.damage else ""
            self.notice = (
                f"the vector store at {self.vectors.where} was missing or unreadable{said}; "
                f"rebuilding it from the journal ({len(known)} memories)"
            )
            self.vectors.damage = ""
        orphans = sorted(stored - known)
        self.vectors.delete_episodes(orphans)
        missing = [i for i in known - stored]
        if missing:
            with self.write_lock, transaction(self.conn):
                self.episodes.mark_unindexed(missing)
        with self.write_lock, transaction(self.conn):
            self._record_agreement(self.conn)
        self.vectors.rebuilt = False  # what the rebuild lost is marked for indexing now
        return {"sessions_resynced": stale, "episodes_changed": synced, "orphan_vectors": len(orphans), "unindexed": len(missing)}

    def _agreement(self, conn: sqlite3.Connection) -> str:
        return f"{self.vectors.generation()}:{self.vectors.count()}:{EpisodeTable(conn).count(indexed=True)}"

    def _agreed(self, conn: sqlite3.Connection) -> bool:
        """Whether the vector store and the episodes are as they were when last known to agree."""
        return meta.get(conn, "vectors_agreed") == self._agreement(conn)

    def _record_agreement(self, conn: sqlite3.Connection) -> None:
        meta.put(conn, "vectors_agreed", self._agreement(conn))

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild every derived index from the journal: episodes, FTS, vectors (e.g. after changing the embedder),
        in the configured precision."""
        wanted = embedder_from_settings(self.settings, self.paths) if self._own_embedder else self.embedder
        if wanted.identity != self.embedder.identity:
            old = self.embedder
            self.embedder = wanted
            self.retriever.embedder = self.embedder
            self.retriever.query_adapter = self._query_adapter()
            self.retriever.weights = weights_for(self.embedder, self.retriever.query_adapter)
            self.vectors.embedder_name = self.embedder.identity
            old.close()
        self.vectors.reset()
        with self.write_lock, transaction(self.conn):
            self.episodes.clear()
            Journal(self.conn).rebuild_index()
            sessions = [r[0] for r in self.conn.execute("SELECT id FROM sessions")]
            self.episodes.sync_sessions(sessions)
            meta.put(self.conn, "embedder", self.embedder.identity)
        return self.index_pending(progress=progress)

    @contextmanager
    def indexing_held(self) -> Iterator[None]:
        """Background indexing stands still meanwhile (its pass in progress ends at its next batch first), so
        that a forget never races a vector being made from text it removes; it resumes afterwards."""
        indexer = self._indexer
        if indexer is None:
            yield
            return
        was_paused = indexer._paused.is_set()
        indexer.pause()
        try:
            with indexer.running:
                yield
        finally:
            if not was_paused:
                indexer.resume()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until background indexing has caught up (call before a short-lived process exits)."""
        if self._indexer is not None:
            self._indexer.flush(timeout)

    def close(self) -> None:
        if self._indexer is not None:
            self._indexer.stop()
            self._indexer = None
        self.embedder.close()

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
            "embedder": self.embedder.identity,
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
        self._requested = 0
        """Wakes asked for; a pass that began before the latest one does not count as catching up."""
        self._count = threading.Lock()
        self.running = threading.Lock()
        """Held while a pass indexes: whoever holds it knows no vector is being written from old text."""
        self._stop = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pmem-indexer", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def wake(self) -> None:
        with self._count:
            self._requested += 1
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
                with self._count:
                    started = self._requested
                try:
                    with self.running:
                        self.memory.index_pending(conn, should_pause=self._paused.is_set, batch=64)
                except Exception as exc:  # noqa: BLE001 - surfaced through .error and stats; retried on next wake
                    self.error = exc
                with self._count:
                    # Idle only if nothing was asked for since this pass began (else another pass follows).
                    if not self._paused.is_set() and self._requested == started:
                        self._idle.set()
        finally:
            conn.close()
            self._idle.set()
