"""Hybrid retrieval: dense (Chroma, one vector per turn with its neighbours) and lexical (SQLite FTS5 BM25 over
the journal's turns), fused by score, lifted by the best evidence in the same session, returned as episodes.

Why this shape (each step measured on LoCoMo conversations 0–4, reported on 5–9; bench/README.md):
- Score fusion (min-max cosine, BM25 over its maximum) keeps how far apart candidates are; reciprocal-rank
  fusion throws that away and recalled less.
- A turn is scored with its neighbours: its vector is embedded from the turn and the turns around it, and its
  lexical score adds a share of its neighbours' BM25, since an answer is often split over a question and reply.
- A session prior: the best turn of a session lifts the other turns of that session (conversations stay on a
  topic across several exchanges).
- Recency is a small tie-breaker, not a ranking signal of its own: an old fact the user stated once is still a fact.
- The vectors come from the packaged MiniLM tuned to put a question near the turns that answer it (``tuning.py``);
  with it, dense similarity is worth more in the fusion (``WEIGHTS_TUNED``). An index built with the model as
  shipped maps the question's vector through a learned linear map instead (``query_adapter.py``).
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from pmem.core.memory.currency import CURRENT_POOL, favour_current, favour_later, superseded_turns
from pmem.core.memory.currency import when_said as _when
from pmem.core.memory.embedder import Embedder
from pmem.core.memory.episodes import Episode, EpisodeTable
from pmem.core.memory.questions import about_the_present, about_the_user, asks_before, asks_now, fts_query
from pmem.core.memory.query_adapter import QueryAdapter
from pmem.core.memory.vectors import VectorStore
from pmem.core.memory.weights import WEIGHTS, WEIGHTS_TUNED, WEIGHTS_WITHOUT_ADAPTER, Weights, weights_for
from pmem.core.memory.when import Interval, question_dates


RECENCY_DAYS = 180.0

@dataclass
class Hit:
    episode: Episode
    score: float
    dense_rank: int | None = None
    dense_similarity: float | None = None
    """Cosine of the message itself (without the query adapter) and the episode's best dense turn."""
    lexical_rank: int | None = None
    lexical_score: float | None = None
    recency: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    matched: tuple[int, ...] = ()
    """The episode's turn ids that matched, best first."""

    @property
    def id(self) -> str:
        return self.episode.id

    @property
    def date(self) -> str:
        return self.episode.created_at

    def provenance(self) -> dict[str, Any]:
        uid_of = {t.id: t.uid for t in self.episode.turns}
        return {
            "id": self.episode.id,
            "session": self.episode.session_id,
            "turns": self.episode.turn_uids,
            "matched_turns": [uid_of[t] for t in self.matched if t in uid_of],
            "date": self.episode.created_at,
            "score": round(self.score, 6),
            "parts": {k: round(v, 6) for k, v in self.parts.items()},
            "dense_rank": self.dense_rank,
            "dense_similarity": None if self.dense_similarity is None else round(self.dense_similarity, 4),
            "lexical_rank": self.lexical_rank,
            "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 4),
            "recency": round(self.recency, 4),
        }


@dataclass
class _Turn:
    """One candidate turn during fusion."""

    id: int
    session: str
    similarity: float | None = None
    bm25: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)


class Retriever:
    def __init__(
        self, conn: sqlite3.Connection, vectors: VectorStore, embedder: Embedder, weights: Weights | None = None,
        *, query_adapter: QueryAdapter | None = None,
    ) -> None:
        self.conn = conn
        self.vectors = vectors
        self.embedder = embedder
        self.query_adapter = query_adapter
        self.weights = weights or weights_for(embedder, query_adapter)
        self.episodes = EpisodeTable(conn)
        self.last_timing: dict[str, float] = {}
        self.last_turns: list[tuple[int, float]] = []
        """The turn ranking behind the last search, (turn id, score) best first (for turn-budget measures)."""
        self._last_query: tuple[str, np.ndarray] = ("", np.zeros(0, dtype=np.float32))
        """The last text embedded and its vector (one tuple, replaced whole: safe to read from another thread)."""

    def lexical(self, text: str, n: int, exclude_session: str | None = None) -> list[tuple[int, str, float]]:
        """Turns matching the query's words, as (turn id, session id, BM25 made positive), best first."""
        query = fts_query(text)
        if not query:
            return []
        sql = """
            WITH hits AS (
                SELECT rowid, bm25(turns_fts) AS score FROM turns_fts WHERE turns_fts MATCH ? ORDER BY score LIMIT ?
            )
            SELECT t.id, t.session_id, -h.score FROM hits h JOIN turns t ON t.id = h.rowid
            WHERE t.role != 'system' AND (? IS NULL OR t.session_id != ?)
            """
        try:
            rows = self.conn.execute(sql, (query, n, exclude_session, exclude_session)).fetchall()
        except sqlite3.DatabaseError as exc:  # a damaged index (its segments, past the open-time probe): rebuilt, asked again
            from pmem.core.store import fts

            fts.repair(self.conn, str(exc))
            rows = self.conn.execute(sql, (query, n, exclude_session, exclude_session)).fetchall()
        return [(int(r[0]), r[1], float(r[2])) for r in rows]

    def dense(self, text: str, n: int, exclude_session: str | None = None) -> list[tuple[str, float]]:
        """Nearest turn vectors to the (adapted) question, as (turn uid, cosine similarity), best first."""
        vector = self.query_vector(text)
        where = {"session": {"$ne": exclude_session}} if exclude_session else None
        return self.vectors.query(vector, n, where=where)

    @property
    def active_adapter(self) -> QueryAdapter | None:
        """The query adapter when the weights use it (the ablation switches it off by weights alone)."""
        return self.query_adapter if self.weights.query_adapter else None

    def _embed_query(self, text: str) -> np.ndarray:
        last_text, last_vector = self._last_query
        if last_text == text and len(last_vector):
            return last_vector
        vector = self.embedder.embed([text])[0]
        self._last_query = (text, vector)
        return vector

    def query_vector(self, text: str) -> np.ndarray:
        """The question's vector as the dense search uses it (through the query adapter when it applies)."""
        vector = self._embed_query(text)
        adapter = self.active_adapter
        return adapter(vector) if adapter is not None else vector

    def _plain_similarities(self, text: str, hits: list[Hit], grouped: dict[str, list[_Turn]], uid_of: dict[int, str]) -> None:
        """Give each hit the cosine of the message itself (not of its adapted vector) with its best dense turn:
        what ``memory.min_similarity`` is measured against, and what a user reads as "how similar"."""
        wanted = {eid: [uid_of[t.id] for t in grouped[eid] if t.similarity is not None and t.id in uid_of] for eid in (h.id for h in hits)}
        stored = self.vectors.vectors([u for uids in wanted.values() for u in uids])
        if not stored:
            return
        query = self._embed_query(text)
        for h in hits:
            sims = [float(stored[u] @ query) for u in wanted.get(h.id, []) if u in stored]
            if sims:
                h.dense_similarity = max(sims)

    def search(
        self,
        text: str,
        k: int = 8,
        *,
        exclude_session: str | None = None,
        candidates: int | None = None,
        now: datetime | None = None,
        dense: bool = True,
        lexical: bool = True,
    ) -> list[Hit]:
        """The ``k`` best memories for ``text``: candidate turns from both searches, fused and scored, grouped into
        their episodes, ranked (recency, currency, diversity), and the best read from the journal."""
        w = self.weights
        started = time.perf_counter()
        dense_hits = self.dense(text, candidates or w.dense_count, exclude_session) if dense else []
        t_dense = time.perf_counter()
        lexical_hits = self.lexical(text, candidates or w.candidates, exclude_session) if lexical else []
        t_lex = time.perf_counter()
        turns, uid_of = self._candidate_turns(dense_hits, lexical_hits, exclude_session)
        if not turns:
            self.last_turns = []
            self._time(started, t_dense, t_lex)
            return []
        now = now or datetime.now(timezone.utc)
        intervals = question_dates(text, now)  # parsed once: the date lift and the later-first gate both read it
        ranked = self._fuse(text, turns, now, intervals)
        grouped, created = self._by_episode(turns, ranked)
        scored = self._rank_episodes(text, grouped, created, now, intervals, uid_of)
        result = self._read_hits(scored, grouped, k)
        if self.active_adapter is not None and uid_of:
            self._plain_similarities(text, result, grouped, uid_of)
        self._time(started, t_dense, t_lex)
        return result

    def _candidate_turns(
        self, dense_hits: list[tuple[str, float]], lexical_hits: list[tuple[int, str, float]], exclude_session: str | None,
    ) -> tuple[dict[int, _Turn], dict[int, str]]:
        """The turns either search found, with their similarity and lexical score (see ``_lexical_scores``); and
        the uid of each turn the dense search found."""
        turns: dict[int, _Turn] = {}
        uid_of: dict[int, str] = {}
        if dense_hits:
            marks = ",".join("?" * len(dense_hits))
            ids = {r[0]: (int(r[1]), r[2]) for r in self.conn.execute(
                f"SELECT uid, id, session_id FROM turns WHERE uid IN ({marks})", [u for u, _ in dense_hits])}
            for uid, sim in dense_hits:
                if uid in ids:  # a vector whose turn was forgotten meanwhile is skipped
                    tid, session = ids[uid]
                    turns[tid] = _Turn(tid, session, similarity=sim)
                    uid_of[tid] = uid
        for tid, session, bm25 in lexical_hits:
            turns.setdefault(tid, _Turn(tid, session)).bm25 = bm25
        self._lexical_scores(turns, lexical_hits, exclude_session)
        return turns, uid_of

    def _lexical_scores(self, turns: dict[int, _Turn], lexical_hits: list[tuple[int, str, float]], exclude_session: str | None) -> None:
        """A turn's lexical score: its own BM25 plus a share of its neighbours' (id ± 1 in the same session); the
        neighbours of a lexical hit join the candidates."""
        w = self.weights
        if not (lexical_hits and w.neighbour_lexical):
            for t in turns.values():
                t.lexical = t.bm25
            return
        bm25 = {tid: (session, score) for tid, session, score in lexical_hits}
        for tid, session, score in lexical_hits:
            for near in (tid - 1, tid + 1):
                if near not in turns and near not in bm25:
                    turns[near] = _Turn(near, "")  # session filled in below, if the turn exists
        missing = [t.id for t in turns.values() if not t.session]
        if missing:
            marks = ",".join("?" * len(missing))
            found = dict(self.conn.execute(
                f"SELECT id, session_id FROM turns WHERE id IN ({marks}) AND role != 'system'", missing).fetchall())
            for tid in missing:
                if tid in found and (exclude_session is None or found[tid] != exclude_session):
                    turns[tid].session = found[tid]
                else:
                    del turns[tid]
        for t in turns.values():
            t.lexical = t.bm25 + w.neighbour_lexical * sum(
                bm25[near][1] for near in (t.id - 1, t.id + 1) if near in bm25 and bm25[near][0] == t.session
            )

    def _fuse(self, text: str, turns: dict[int, _Turn], now: datetime, intervals: list[Interval]) -> list[_Turn]:
        """Each turn's score: its dense and lexical scores fused (min-max or reciprocal rank), the question's dates
        and speakers, and a prior for the session's best turn; the turns best first (kept in ``last_turns``)."""
        w = self.weights
        sims = [t.similarity for t in turns.values() if t.similarity is not None]
        lo, hi = (min(sims), max(sims)) if sims else (0.0, 0.0)
        top_lexical = max(t.lexical for t in turns.values()) or 1.0
        if w.fusion == "rrf":
            by_sim = sorted((t for t in turns.values() if t.similarity is not None), key=lambda t: -(t.similarity or 0))
            by_lex = sorted((t for t in turns.values() if t.lexical > 0), key=lambda t: -t.lexical)
            rrf_d = {t.id: 60 / (60 + r) for r, t in enumerate(by_sim, 1)}
            rrf_l = {t.id: 60 / (60 + r) for r, t in enumerate(by_lex, 1)}
        for t in turns.values():
            if w.fusion == "rrf":
                d, lx = rrf_d.get(t.id, 0.0), rrf_l.get(t.id, 0.0)
            else:
                d = 0.0 if t.similarity is None else ((t.similarity - lo) / (hi - lo) if hi > lo else 1.0)
                lx = t.lexical / top_lexical
            t.parts = {"dense": w.dense * d, "lexical": w.lexical * lx}
            t.score = t.parts["dense"] + t.parts["lexical"]
        if w.date or w.speaker:
            self._favour_when_and_who(text, turns, now, intervals if w.date else [])
        best_in_session: dict[str, float] = {}
        for t in turns.values():
            best_in_session[t.session] = max(best_in_session.get(t.session, 0.0), t.score)
        for t in turns.values():
            t.parts["session"] = w.session_prior * best_in_session[t.session]
            t.score += t.parts["session"]
        ranked = sorted(turns.values(), key=lambda t: t.score, reverse=True)
        self.last_turns = [(t.id, t.score) for t in ranked]
        return ranked

    def _by_episode(self, turns: dict[int, _Turn], ranked: list[_Turn]) -> tuple[dict[str, list[_Turn]], dict[str, str]]:
        """The ranked turns grouped by the episode each belongs to (best first within it), and each episode's date."""
        marks = ",".join("?" * len(turns))
        owner = {
            r[0]: (r[1], r[2])
            for r in self.conn.execute(  # a turn's episode: its session's last to start at or before it
                f"SELECT t.id, e.id, e.created_at FROM turns t JOIN episodes e ON e.rowid = (SELECT rowid FROM episodes "
                f"WHERE session_id = t.session_id AND first_turn_id <= t.id ORDER BY first_turn_id DESC LIMIT 1) "
                f"WHERE t.id IN ({marks}) AND t.id <= e.last_turn_id", list(turns))
        }
        grouped: dict[str, list[_Turn]] = {}
        created: dict[str, str] = {}
        for t in ranked:
            if t.id in owner:
                eid, created[eid] = owner[t.id]
                grouped.setdefault(eid, []).append(t)
        return grouped, created

    def _rank_episodes(
        self, text: str, grouped: dict[str, list[_Turn]], created: dict[str, str], now: datetime, intervals: list[Interval],
        uid_of: dict[int, str],
    ) -> list[tuple[float, str, dict[str, float], float]]:
        """(score, episode, parts, recency), best first: an episode scores its best turn (adding a share of its
        second best did not help) and its recency; then what is current, and diversity across sessions."""
        w = self.weights
        scored: list[tuple[float, str, dict[str, float], float]] = []
        for eid, ts in grouped.items():
            recency = _recency(created[eid], now)
            parts = dict(ts[0].parts)
            parts["recency"] = w.recency * recency
            scored.append((sum(parts.values()), eid, parts, recency))
        scored.sort(key=lambda s: s[0], reverse=True)
        if (w.current or w.superseded) and about_the_present(text):
            pooled = [t.id for _, eid, _, _ in scored[:CURRENT_POOL] for t in grouped[eid]]
            stale, fresh = superseded_turns(self.conn, pooled) if w.superseded else (set(), set())
            scored = favour_current(scored, created, grouped, w, stale, fresh, by_time=asks_now(text))
        if w.later and about_the_user(text) and not asks_before(text) and not intervals:
            scored = favour_later(scored, created, self._subject_vectors(text, scored[:CURRENT_POOL], grouped, uid_of), w)
        if w.diversity:
            scored = _diversify(scored, {eid: grouped[eid][0].session for eid in grouped}, w.diversity)
        return scored

    def _read_hits(self, scored: list[tuple[float, str, dict[str, float], float]], grouped: dict[str, list[_Turn]], k: int) -> list[Hit]:
        """Only the best episodes are read from the journal (a chunk at a time, in case near-duplicates are dropped)."""
        dense_order = sorted(
            (eid for eid, ts in grouped.items() if any(t.similarity is not None for t in ts)),
            key=lambda eid: -max(t.similarity for t in grouped[eid] if t.similarity is not None),
        )
        lexical_order = sorted(
            (eid for eid, ts in grouped.items() if any(t.lexical > 0 for t in ts)),
            key=lambda eid: -max(t.lexical for t in grouped[eid]),
        )
        dense_rank = {eid: i for i, eid in enumerate(dense_order, 1)}
        lexical_rank = {eid: i for i, eid in enumerate(lexical_order, 1)}
        hits: list[Hit] = []
        result: list[Hit] = []
        chunk = 2 * k + 8
        for start in range(0, len(scored), chunk):
            part = scored[start : start + chunk]
            loaded = self.episodes.load([eid for _, eid, _, _ in part])
            for score, eid, parts, recency in part:
                episode = loaded.get(eid)
                if episode is None:  # forgotten since it was indexed; the reconciler will drop its vectors
                    continue
                ts = grouped[eid]
                sims_e = [t.similarity for t in ts if t.similarity is not None]
                hits.append(Hit(
                    episode=episode, score=score, dense_rank=dense_rank.get(eid), dense_similarity=max(sims_e) if sims_e else None,
                    lexical_rank=lexical_rank.get(eid), lexical_score=max(t.lexical for t in ts) or None, recency=recency,
                    parts=parts, matched=tuple(t.id for t in ts),
                ))
            result = _dedupe(hits, k)
            if len(result) >= k:
                break
        return result

    def _subject_vectors(
        self, text: str, pool: list[tuple[float, str, dict[str, float], float]], grouped: dict[str, list[_Turn]],
        known: dict[int, str],
    ) -> dict[str, np.ndarray]:
        """Each episode's subject, for telling two memories of one thing: the vector of its matched turn nearest
        the question (the uids the dense search did not give are read in one query; the vectors in one more)."""
        ids = [t.id for _, eid, _, _ in pool for t in grouped[eid]]
        if not ids:
            return {}
        uid_of = {i: known[i] for i in ids if i in known}
        if missing := [i for i in ids if i not in known]:
            marks = ",".join("?" * len(missing))
            uid_of.update(self.conn.execute(f"SELECT id, uid FROM turns WHERE id IN ({marks})", missing).fetchall())
        stored = self.vectors.vectors([uid_of[i] for i in ids if i in uid_of])
        query = self._embed_query(text)
        out: dict[str, np.ndarray] = {}
        for _, eid, _, _ in pool:
            found = [stored[uid_of[t.id]] for t in grouped[eid] if uid_of.get(t.id) in stored]
            if found:
                out[eid] = max(found, key=lambda v: float(v @ query))
        return out

    def _favour_when_and_who(self, text: str, turns: dict[int, _Turn], now: datetime, intervals: list[Interval]) -> None:
        """Lift turns said within a time the question names, and turns said by whom it is about (one read of
        the candidates' times and speakers for both)."""
        w = self.weights
        if not intervals and not w.speaker:
            return
        words = set(re.findall(r"\w+", text.lower()))
        first_person = bool(words & FIRST_PERSON)
        marks = ",".join("?" * len(turns))
        rows = self.conn.execute(
            f"SELECT id, created_at, role, substr(content, 1, 40) FROM turns WHERE id IN ({marks})", list(turns)
        ).fetchall()
        for tid, created, role, head in rows:
            turn = turns[tid]
            if intervals:
                when = _when(created)
                if when is not None and any(i.holds(when) for i in intervals):
                    turn.parts["date"] = w.date
                    turn.score += w.date
            if w.speaker:
                named = SPEAKER.match(head)
                if (first_person and role == "user") or (named and named.group(1).lower() in words):
                    turn.parts["speaker"] = w.speaker
                    turn.score += w.speaker

    def _time(self, started: float, t_dense: float, t_lex: float) -> None:
        self.last_timing = {
            "dense_ms": (t_dense - started) * 1000,
            "lexical_ms": (t_lex - t_dense) * 1000,
            "total_ms": (time.perf_counter() - started) * 1000,
        }


FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself"})
SPEAKER = re.compile(r"([A-Z][\w'-]{1,30}):\s")
"""An imported turn's speaker: "Name: text" (only the first name is matched against the question)."""


def _diversify(
    scored: list[tuple[float, str, dict[str, float], float]], session_of: dict[str, str], penalty: float
) -> list[tuple[float, str, dict[str, float], float]]:
    """Greedy re-rank: each episode already chosen from a session lowers the rest of that session by ``penalty``."""
    left = list(scored)
    chosen: list[tuple[float, str, dict[str, float], float]] = []
    taken: dict[str, int] = {}
    while left and len(chosen) < 64:
        best = max(left, key=lambda s: s[0] - penalty * taken.get(session_of[s[1]], 0))
        left.remove(best)
        chosen.append(best)
        taken[session_of[best[1]]] = taken.get(session_of[best[1]], 0) + 1
    return chosen + left


def _recency(created_at: str, now: datetime) -> float:
    when = _when(created_at)
    if when is None:
        return 0.0
    age_days = max(0.0, (now - when).total_seconds() / 86400)
    return math.exp(-age_days / RECENCY_DAYS)


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _dedupe(hits: list[Hit], k: int) -> list[Hit]:
    """Keep the best of near-identical episodes (same words, e.g. a question asked twice)."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    for hit in hits:
        words = set(_normalise(hit.episode.text()).split())
        if any(words and len(words & other) / len(words | other) >= 0.9 for other in seen):
            continue
        kept.append(hit)
        seen.append(words)
        if len(kept) == k:
            break
    return kept


def hit_dicts(hits: list[Hit]) -> list[dict[str, Any]]:
    return [{**h.provenance(), "text": h.episode.transcript()} for h in hits]


__all__ = ["Hit", "Retriever", "Weights", "WEIGHTS", "WEIGHTS_WITHOUT_ADAPTER", "fts_query", "hit_dicts", "asdict"]


__all__ = ["WEIGHTS", "WEIGHTS_TUNED", "WEIGHTS_WITHOUT_ADAPTER", "Hit", "Retriever", "Weights", "fts_query", "hit_dicts", "weights_for"]
