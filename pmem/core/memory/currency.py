"""Recall that knows what is current: of the memories a search found, those the user has since updated rank below
the update, for a question about the present.

Two signals, each measured (bench/README.md, "Recall of what is current"):
- the profile's links: a turn that taught a fact the profile has since superseded, and the turn that superseded it
  (``superseded_turns``);
- time among memories of one subject: of two of the best memories whose subjects are close (the cosine of their
  turns' vectors), the later said ranks above the earlier (``favour_later``). The subject test is what keeps "Where do
  I work?" from getting a newer memory of the sister's job; the question's wording decides whether it applies at
  all (``questions.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Protocol

import numpy as np

Scored = list[tuple[float, str, dict[str, float], float]]
"""(score, episode id, score parts, recency), best first: the retriever's ranking of episodes."""

CURRENT_POOL = 20
"""Episodes the currency step reorders: the best by everything else (a memory further down is not about this)."""


class _Weights(Protocol):
    current: float
    superseded: float
    later: float
    later_share: float
    same_subject: float


def when_said(created_at: str) -> datetime | None:
    """A stored time as an aware datetime (stored times without a zone are UTC); None where it does not parse."""
    try:
        when = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def superseded_turns(conn: sqlite3.Connection, turn_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """Of these turns, those that taught a profile fact since superseded, and the source turns of the facts that
    superseded them (one read)."""
    ids = list(turn_ids)
    stale: set[int] = set()
    fresh: set[int] = set()
    if not ids:
        return stale, fresh
    marks = ",".join("?" * len(ids))
    for turn_id, successor_turn in conn.execute(
        f"SELECT s.turn_id, n.turn_id FROM fact_sources s JOIN facts f ON f.id = s.fact_id "
        f"LEFT JOIN fact_sources n ON n.fact_id = f.superseded_by "
        f"WHERE f.valid_to IS NOT NULL AND f.superseded_by IS NOT NULL AND s.turn_id IN ({marks})", ids,
    ):
        stale.add(int(turn_id))
        if successor_turn is not None:
            fresh.add(int(successor_turn))
    return stale, fresh


def favour_current(
    scored: Scored, created: dict[str, str], grouped: dict[str, Any], w: _Weights, stale: set[int], fresh: set[int],
    *, by_time: bool,
) -> Scored:
    """Of the best episodes, those whose turns taught a fact the profile has since superseded (``stale``) lose
    ``w.superseded`` and those that taught its successor (``fresh``) gain it; and when the question says "now"
    (``by_time``), the later said gain up to ``w.current`` by their place in time. Without "now", this step lets time
    alone decide nothing: "What is my job?" must not get a newer memory about someone else's job."""
    pool = scored[:CURRENT_POOL]
    times = {eid: when_said(created[eid]) for _, eid, _, _ in pool}
    known = [t for t in times.values() if t is not None] if by_time and w.current else []
    lo, hi = (min(known), max(known)) if known else (None, None)
    out = []
    for score, eid, parts, recency in pool:
        when = times[eid]
        parts = dict(parts)
        if when is not None and lo is not None and hi is not None and hi > lo:
            parts["current"] = w.current * (when - lo).total_seconds() / (hi - lo).total_seconds()
        ids = {t.id for t in grouped[eid]}
        if ids & stale:
            parts["superseded"] = -w.superseded
        elif ids & fresh:
            parts["superseded"] = w.superseded
        out.append((sum(parts.values()), eid, parts, recency))
    out.sort(key=lambda s: s[0], reverse=True)
    return out + scored[CURRENT_POOL:]


def favour_later(scored: Scored, created: dict[str, str], subjects: dict[str, np.ndarray], w: _Weights) -> Scored:
    """Of the best episodes, one said later than another on the same subject (the cosine of their ``subjects`` at
    least ``w.same_subject``) ranks ``w.later`` above it, and so on down a chain of updates ("I've added 10
    postcards" in August, "25 postcards now" in November), provided the later one is itself a match (its own score at
    least ``w.later_share`` of the earlier's: two short memories can look alike by their shared context alone). An
    episode with no later update keeps its place."""
    pool = scored[:CURRENT_POOL]
    score = {eid: s for s, eid, _, _ in pool}
    base = dict(score)
    dated: list[tuple[datetime, str]] = []
    for _, eid, _, _ in pool:
        when = when_said(created[eid])
        if when is not None and eid in subjects:
            dated.append((when, eid))
    dated.sort(key=lambda d: d[0])
    for n, (when, eid) in enumerate(dated):
        for earlier_when, earlier in dated[:n]:
            if (earlier_when < when and base[eid] >= w.later_share * base[earlier]
                    and float(subjects[earlier] @ subjects[eid]) >= w.same_subject):
                score[eid] = max(score[eid], score[earlier] + w.later)
    out = []
    for s, eid, parts, recency in pool:
        if score[eid] > s:
            parts = {**parts, "later": score[eid] - s}
        out.append((score[eid], eid, parts, recency))
    out.sort(key=lambda s: s[0], reverse=True)
    return out + scored[CURRENT_POOL:]
