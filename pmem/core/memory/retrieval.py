"""Hybrid retrieval: dense (Chroma) and lexical (SQLite FTS5 BM25 over the journal), fused by reciprocal rank.

Reciprocal rank fusion needs no score calibration between the two retrievers, which matters because
cosine similarities and BM25 scores live on unrelated scales. Recency is a small tie-breaker, not a
ranking signal of its own: an old fact the user stated once is still a fact.
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from pmem.core.memory.embedder import Embedder
from pmem.core.memory.episodes import Episode, EpisodeTable
from pmem.core.memory.vectors import VectorStore

RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
RECENCY_WEIGHT = 0.002
RECENCY_DAYS = 180.0

STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers herself him
    himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other
    our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves tell know remember think like did does s t don""".split()
)


@dataclass
class Hit:
    episode: Episode
    score: float
    dense_rank: int | None = None
    dense_similarity: float | None = None
    lexical_rank: int | None = None
    lexical_score: float | None = None
    recency: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.episode.id

    @property
    def date(self) -> str:
        return self.episode.created_at

    def provenance(self) -> dict[str, Any]:
        return {
            "id": self.episode.id,
            "session": self.episode.session_id,
            "turns": self.episode.turn_uids,
            "date": self.episode.created_at,
            "score": round(self.score, 6),
            "dense_rank": self.dense_rank,
            "dense_similarity": None if self.dense_similarity is None else round(self.dense_similarity, 4),
            "lexical_rank": self.lexical_rank,
            "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 4),
            "recency": round(self.recency, 4),
        }


def fts_query(text: str) -> str:
    """An FTS5 OR-query of the text's content words, each quoted (so no user text is FTS syntax)."""
    words = []
    for word in re.findall(r"\w+", text.lower()):
        if len(word) > 1 and word not in STOPWORDS and word not in words:
            words.append(word)
    return " OR ".join(f'"{w}"' for w in words[:32])


class Retriever:
    def __init__(self, conn: sqlite3.Connection, vectors: VectorStore, embedder: Embedder) -> None:
        self.conn = conn
        self.vectors = vectors
        self.embedder = embedder
        self.episodes = EpisodeTable(conn)
        self.last_timing: dict[str, float] = {}

    def lexical(self, text: str, n: int, exclude_session: str | None = None) -> list[tuple[str, float]]:
        """Episodes whose turns match the query's words, best BM25 first (summed over an episode's turns)."""
        query = fts_query(text)
        if not query:
            return []
        rows = self.conn.execute(
            """
            WITH hits AS (
                SELECT rowid, bm25(turns_fts) AS score FROM turns_fts WHERE turns_fts MATCH ? ORDER BY score LIMIT ?
            )
            SELECT e.id, -sum(h.score) AS s FROM hits h
            JOIN turns t ON t.id = h.rowid
            JOIN episodes e ON e.session_id = t.session_id AND t.id BETWEEN e.first_turn_id AND e.last_turn_id
            WHERE (? IS NULL OR e.session_id != ?)
            GROUP BY e.id ORDER BY s DESC LIMIT ?
            """,
            (query, n * 4, exclude_session, exclude_session, n),
        ).fetchall()
        return [(r[0], float(r[1])) for r in rows]

    def dense(self, text: str, n: int, exclude_session: str | None = None) -> list[tuple[str, float]]:
        vector = self.embedder.embed([text])[0]
        where = {"session": {"$ne": exclude_session}} if exclude_session else None
        return self.vectors.query(vector, n, where=where)

    def search(
        self,
        text: str,
        k: int = 8,
        *,
        exclude_session: str | None = None,
        candidates: int = 50,
        now: datetime | None = None,
        dense: bool = True,
        lexical: bool = True,
    ) -> list[Hit]:
        started = time.perf_counter()
        dense_hits = self.dense(text, candidates, exclude_session) if dense else []
        t_dense = time.perf_counter()
        lexical_hits = self.lexical(text, candidates, exclude_session) if lexical else []
        t_lex = time.perf_counter()
        fused: dict[str, dict[str, float]] = {}
        for rank, (eid, sim) in enumerate(dense_hits, 1):
            fused.setdefault(eid, {})["dense_rank"] = rank
            fused[eid]["dense_similarity"] = sim
        for rank, (eid, score) in enumerate(lexical_hits, 1):
            fused.setdefault(eid, {})["lexical_rank"] = rank
            fused[eid]["lexical_score"] = score
        loaded = self.episodes.load(list(fused))
        now = now or datetime.now(timezone.utc)
        hits: list[Hit] = []
        for eid, parts in fused.items():
            episode = loaded.get(eid)
            if episode is None:  # forgotten since it was indexed; the reconciler will drop its vector
                continue
            d = DENSE_WEIGHT / (RRF_K + parts["dense_rank"]) if "dense_rank" in parts else 0.0
            lx = LEXICAL_WEIGHT / (RRF_K + parts["lexical_rank"]) if "lexical_rank" in parts else 0.0
            recency = _recency(episode.created_at, now)
            hits.append(
                Hit(
                    episode=episode,
                    score=d + lx + RECENCY_WEIGHT * recency,
                    dense_rank=_int(parts.get("dense_rank")),
                    dense_similarity=parts.get("dense_similarity"),
                    lexical_rank=_int(parts.get("lexical_rank")),
                    lexical_score=parts.get("lexical_score"),
                    recency=recency,
                    parts={"dense": d, "lexical": lx, "recency": RECENCY_WEIGHT * recency},
                )
            )
        hits.sort(key=lambda h: h.score, reverse=True)
        result = _dedupe(hits, k)
        self.last_timing = {
            "dense_ms": (t_dense - started) * 1000,
            "lexical_ms": (t_lex - t_dense) * 1000,
            "total_ms": (time.perf_counter() - started) * 1000,
        }
        return result


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _recency(created_at: str, now: datetime) -> float:
    try:
        when = datetime.fromisoformat(created_at)
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
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


__all__ = ["Hit", "Retriever", "fts_query", "hit_dicts", "asdict"]
