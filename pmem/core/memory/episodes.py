"""Episodes: the unit of episodic memory, one exchange (a user turn and the replies that follow it).

Episodes are derived from the journal and can always be rebuilt from it. An episode's id comes from
its first turn's id, so it is stable across re-indexing and opaque to the user.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pmem.core.store.feedback import REPLACED
from pmem.core.store.journal import Turn
from pmem.core.words import says_dont_know

UNANSWERED_WORDS = 30
"""A reply longer than this says more than that it does not know (advice that starts "I'm not sure …")."""


@dataclass(frozen=True)
class Episode:
    id: str
    session_id: str
    first_turn_id: int
    last_turn_id: int
    created_at: str
    turns: tuple[Turn, ...] = ()

    def text(self) -> str:
        """What is embedded and matched: the turns' text, without role labels."""
        return "\n".join(t.content for t in self.turns)

    def transcript(self) -> str:
        """What the model and the user see: each turn with its speaker."""
        return "\n".join(f"{'User' if t.role == 'user' else 'Assistant'}: {t.content}" for t in self.turns)

    @property
    def turn_uids(self) -> list[str]:
        return [t.uid for t in self.turns]

    @property
    def unanswered(self) -> bool:
        """A question that got only a short "I don't know": it holds nothing to recall, and recalled (it is the
        nearest match when the question is asked again) it would teach the model to say it does not know again,
        even once the answer has been told."""
        asked = [t.content.strip() for t in self.turns if t.role == "user"]
        replies = [t.content for t in self.turns if t.role == "assistant"]
        return (bool(asked) and bool(replies) and all(q.endswith("?") for q in asked)
                and all(says_dont_know(r) and len(r.split()) <= UNANSWERED_WORDS for r in replies))


def episode_id(first: Turn) -> str:
    return "m-" + first.uid.split("-", 1)[-1]


def group_exchanges(turns: Sequence[Turn]) -> list[list[Turn]]:
    """Split one session's turns into exchanges: each user turn starts one; replies join it."""
    groups: list[list[Turn]] = []
    for turn in turns:
        if turn.role == "system":
            continue
        if turn.role == "user" or not groups:
            groups.append([turn])
        else:
            groups[-1].append(turn)
    return groups


_TURN_COLUMNS = "t.id, t.uid, t.session_id, t.role, t.content, t.created_at, t.model, t.status"


class EpisodeTable:
    """The ``episodes`` table: which exchanges exist and whether the vector store holds them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def sync_sessions(self, session_ids: Iterable[str]) -> int:
        """Re-derive the episodes of these sessions from the journal; changed ones are marked unindexed."""
        changed = 0
        for session_id in session_ids:
            rows = self.conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns t WHERE t.session_id = ? ORDER BY t.id", (session_id,)
            ).fetchall()
            groups = group_exchanges([Turn.from_row(r) for r in rows])
            wanted = {episode_id(g[0]): (g[0].id, g[-1].id, g[0].created_at) for g in groups}
            existing = {
                r["id"]: (r["first_turn_id"], r["last_turn_id"])
                for r in self.conn.execute("SELECT id, first_turn_id, last_turn_id FROM episodes WHERE session_id = ?", (session_id,))
            }
            for eid in existing.keys() - wanted.keys():
                self.conn.execute("DELETE FROM episodes WHERE id = ?", (eid,))
                changed += 1
            for eid, (first, last, created) in wanted.items():
                if existing.get(eid) == (first, last):
                    continue
                if eid not in existing:
                    # The episode before a new one embeds the new one's first turn as its last turn's neighbour.
                    self.conn.execute(
                        "UPDATE episodes SET indexed = 0 WHERE id = (SELECT id FROM episodes WHERE session_id = ? "
                        "AND first_turn_id < ? ORDER BY first_turn_id DESC LIMIT 1)",
                        (session_id, first),
                    )
                self.conn.execute(
                    "INSERT INTO episodes (id, session_id, first_turn_id, last_turn_id, created_at, indexed) "
                    "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(id) DO UPDATE SET "
                    "first_turn_id = excluded.first_turn_id, last_turn_id = excluded.last_turn_id, indexed = 0",
                    (eid, session_id, first, last, created),
                )
                changed += 1
        return changed

    def stale_sessions(self) -> list[str]:
        """Sessions whose turns are not all covered by episodes (after a crash or an import).

        A session's episodes are consecutive, non-overlapping ranges of its turns, so a turn is covered when the
        last episode starting at or before it reaches it: one index seek per turn (12 ms at 20k turns, where
        "does any episode contain it" took 30-70 ms, part of every cold ``pmem memory search``). Were episodes
        ever to overlap, this would only call for a re-sync of the session, never miss one."""
        rows = self.conn.execute(
            """
            SELECT DISTINCT t.session_id FROM turns t
            WHERE t.role != 'system' AND t.id > coalesce((
                SELECT e.last_turn_id FROM episodes e WHERE e.session_id = t.session_id AND e.first_turn_id <= t.id
                ORDER BY e.first_turn_id DESC LIMIT 1), -1)
            """
        ).fetchall()
        return [r[0] for r in rows]

    def load(self, ids: Sequence[str]) -> dict[str, Episode]:
        """Episodes with their turns, by id."""
        out: dict[str, Episode] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT e.id AS eid, e.first_turn_id, e.last_turn_id, e.created_at AS ecreated, {_TURN_COLUMNS} "
                f"FROM episodes e JOIN turns t ON t.session_id = e.session_id "
                f"AND t.id BETWEEN e.first_turn_id AND e.last_turn_id AND t.role != 'system' "
                f"AND t.id NOT IN ({REPLACED}) "
                f"WHERE e.id IN ({marks}) ORDER BY t.id",
                chunk,
            ).fetchall()
            turns: dict[str, list[Turn]] = {}
            heads: dict[str, sqlite3.Row] = {}
            for r in rows:
                turns.setdefault(r["eid"], []).append(Turn.from_row(r))
                heads[r["eid"]] = r
            for eid, ts in turns.items():
                h = heads[eid]
                out[eid] = Episode(eid, ts[0].session_id, h["first_turn_id"], h["last_turn_id"], h["ecreated"], tuple(ts))
        return out

    def newest(self, limit: int, session: str | None = None) -> list[Episode]:
        """Episodes newest first (of one session, if given)."""
        sql = "SELECT id FROM episodes" + (" WHERE session_id = ?" if session else "") + " ORDER BY created_at DESC, first_turn_id DESC LIMIT ?"
        ids = [r[0] for r in self.conn.execute(sql, (session, limit) if session else (limit,))]
        loaded = self.load(ids)
        return [loaded[i] for i in ids if i in loaded]

    def pending(self, limit: int = 256) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM episodes WHERE indexed = 0 ORDER BY rowid LIMIT ?", (limit,))]

    def mark_indexed(self, ids: Sequence[str]) -> None:
        self.conn.executemany("UPDATE episodes SET indexed = 1 WHERE id = ?", [(i,) for i in ids])

    def all_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT id FROM episodes")}

    def count(self, *, indexed: bool | None = None) -> int:
        if indexed is None:
            return int(self.conn.execute("SELECT count(*) FROM episodes").fetchone()[0])
        return int(self.conn.execute("SELECT count(*) FROM episodes WHERE indexed = ?", (int(indexed),)).fetchone()[0])

    def containing_turns(self, turn_ids: Sequence[int]) -> list[str]:
        ids = list(turn_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT DISTINCT e.id FROM episodes e JOIN turns t ON t.session_id = e.session_id "
            f"AND t.id BETWEEN e.first_turn_id AND e.last_turn_id WHERE t.id IN ({marks})",
            ids,
        ).fetchall()
        return [r[0] for r in rows]

    def neighbours(self, ids: Sequence[str]) -> list[str]:
        """The episodes just before and after these in their sessions: their vectors embed these episodes'
        edge turns as context, so they are re-made when these change or are forgotten."""
        out: set[str] = set()
        for eid in ids:
            row = self.conn.execute("SELECT session_id, first_turn_id FROM episodes WHERE id = ?", (eid,)).fetchone()
            if row is None:
                continue
            for op, order in (("<", "DESC"), (">", "ASC")):
                near = self.conn.execute(
                    f"SELECT id FROM episodes WHERE session_id = ? AND first_turn_id {op} ? ORDER BY first_turn_id {order} LIMIT 1",
                    (row[0], row[1]),
                ).fetchone()
                if near is not None:
                    out.add(near[0])
        return sorted(out - set(ids))

    def mark_unindexed(self, ids: Sequence[str]) -> None:
        self.conn.executemany("UPDATE episodes SET indexed = 0 WHERE id = ?", [(i,) for i in ids])

    def clear(self) -> None:
        """Every episode gone (a reindex makes them again from the journal)."""
        self.conn.execute("DELETE FROM episodes")


@dataclass(frozen=True)
class Passage:
    """What one turn vector is made from: the turn, and its neighbours in the session as context."""

    turn_uid: str
    episode_id: str
    session_id: str
    created_at: str
    own: str
    before: str = ""
    after: str = ""

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.own, self.before, self.after) if part)


def passages(conn: sqlite3.Connection, episodes: Sequence[Episode]) -> list[Passage]:
    """One passage per turn of these episodes (measured on LoCoMo: a turn with its ±1 neighbours as context
    recalls better than the whole exchange, and better than the turn alone)."""
    by_session: dict[str, list[tuple[str, str]]] = {}
    for session_id in {e.session_id for e in episodes}:
        rows = conn.execute(
            f"SELECT uid, content FROM turns WHERE session_id = ? AND role != 'system' AND id NOT IN ({REPLACED}) ORDER BY id",
            (session_id,),
        ).fetchall()
        by_session[session_id] = [(r[0], r[1]) for r in rows]
    positions = {sid: {uid: i for i, (uid, _) in enumerate(turns)} for sid, turns in by_session.items()}
    out: list[Passage] = []
    for episode in episodes:
        turns = by_session.get(episode.session_id, [])
        position = positions.get(episode.session_id, {})
        for turn in episode.turns:
            i = position.get(turn.uid)
            if i is None:
                continue
            before = turns[i - 1][1] if i > 0 else ""
            after = turns[i + 1][1] if i + 1 < len(turns) else ""
            out.append(Passage(turn.uid, episode.id, episode.session_id, episode.created_at, turns[i][1], before, after))
    return out
