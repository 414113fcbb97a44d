"""The user's feedback on replies, and the preference pairs derived from it (the data a preference stage of
``pmem distill`` learns how the user likes to be answered from).

Feedback is journaled with the reply it is about: thumbs up or down, an edit ("this is what I wanted"), a
regeneration (the reply was replaced: it stays in the journal, out of the conversation). Pairs follow from it:
an edited reply is preferred to the original; a kept regeneration to the replies it replaced, once the user
thumbs it up or goes on from it. Derivation is idempotent and re-run whenever feedback changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pmem.core.store.db import transaction
from pmem.core.store.journal import new_id, now_iso

FeedbackKind = Literal["up", "down", "edit", "retry"]
REPLACED = "SELECT turn_id FROM feedback WHERE kind = 'retry'"
"""Replies the user regenerated: kept in the journal, left out of the conversation and of memories."""


@dataclass(frozen=True)
class Pair:
    id: str
    kind: str
    prompt: str
    chosen: str
    rejected: str
    prompt_turn: str
    chosen_turn: str | None
    rejected_turn: str
    created_at: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "kind": self.kind, "prompt": self.prompt, "chosen": self.chosen, "rejected": self.rejected,
            "turns": {"prompt": self.prompt_turn, "chosen": self.chosen_turn, "rejected": self.rejected_turn},
            "created_at": self.created_at,
        }


class FeedbackStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def record(self, turn_id: int, kind: FeedbackKind, text: str = "") -> None:
        """Journal one piece of feedback on a reply (a thumb replaces the reply's earlier thumb) and re-derive
        the pairs of its exchange."""
        with transaction(self.conn) as c:
            if kind in ("up", "down"):
                c.execute("DELETE FROM feedback WHERE turn_id = ? AND kind IN ('up', 'down')", (turn_id,))
            c.execute("INSERT INTO feedback (turn_id, kind, text, created_at) VALUES (?, ?, ?, ?)", (turn_id, kind, text, now_iso()))
            prompt = self._prompt_of(c, turn_id)
            if prompt is not None:
                self._derive(c, prompt)

    def restore(self, items: Iterable[dict[str, object]]) -> int:
        """Exported feedback (``turn``: a turn's uid, ``kind``, ``text``, ``created_at``) on turns this journal
        holds and does not have yet; the pairs of the exchanges it touches are derived again. Returns how many."""
        added = 0
        prompts: set[int] = set()
        with transaction(self.conn) as c:
            for item in items:
                row = c.execute("SELECT id FROM turns WHERE uid = ?", (item["turn"],)).fetchone()
                if row is None:
                    continue
                text = str(item.get("text") or "")
                if c.execute("SELECT 1 FROM feedback WHERE turn_id = ? AND kind = ? AND text = ?", (row[0], item["kind"], text)).fetchone():
                    continue
                c.execute(
                    "INSERT INTO feedback (turn_id, kind, text, created_at) VALUES (?, ?, ?, ?)",
                    (row[0], item["kind"], text, item.get("created_at") or now_iso()),
                )
                added += 1
                prompt = self._prompt_of(c, row[0])
                if prompt is not None:
                    prompts.add(prompt)
            for prompt in prompts:
                self._derive(c, prompt)
        return added

    def thumb(self, turn_id: int) -> str:
        row = self.conn.execute(
            "SELECT kind FROM feedback WHERE turn_id = ? AND kind IN ('up', 'down') ORDER BY id DESC LIMIT 1", (turn_id,)
        ).fetchone()
        return row[0] if row else ""

    def replaced(self, turn_ids: list[int]) -> set[int]:
        if not turn_ids:
            return set()
        marks = ",".join("?" * len(turn_ids))
        rows = self.conn.execute(f"SELECT turn_id FROM feedback WHERE kind = 'retry' AND turn_id IN ({marks})", turn_ids)
        return {r[0] for r in rows}

    def prompt_of(self, reply_id: int) -> int | None:
        return self._prompt_of(self.conn, reply_id)

    def went_on(self, prompt_turn: int) -> None:
        """The user sent another message after this exchange: a regeneration they kept is now preferred."""
        with transaction(self.conn) as c:
            self._derive(c, prompt_turn)

    # ------------------------------------------------------------------ pairs

    def pairs(self) -> list[Pair]:
        rows = self.conn.execute(
            """
            SELECT p.id, p.kind, p.created_at, u.uid AS pu, u.content AS prompt,
                   COALESCE(c.content, f.text) AS chosen, c.uid AS cu, r.uid AS ru, r.content AS rejected
            FROM preference_pairs p
            JOIN turns u ON u.id = p.prompt_turn
            JOIN turns r ON r.id = p.rejected_turn
            LEFT JOIN turns c ON c.id = p.chosen_turn
            LEFT JOIN feedback f ON f.id = p.chosen_feedback
            ORDER BY p.created_at, p.id
            """
        ).fetchall()
        return [Pair(r["id"], r["kind"], r["prompt"], r["chosen"], r["rejected"], r["pu"], r["cu"], r["ru"], r["created_at"]) for r in rows]

    def forget_pair(self, pair_id: str) -> bool:
        """Forget one pair: an edit pair takes the user's edit with it; a regeneration pair is not derived again."""
        with transaction(self.conn) as c:
            row = c.execute("SELECT * FROM preference_pairs WHERE id = ?", (pair_id,)).fetchone()
            if row is None:
                return False
            if row["chosen_feedback"] is not None:
                c.execute("DELETE FROM feedback WHERE id = ?", (row["chosen_feedback"],))
            else:
                c.execute(
                    "INSERT OR IGNORE INTO preference_tombstones (prompt_turn, chosen_turn, rejected_turn) VALUES (?, ?, ?)",
                    (row["prompt_turn"], row["chosen_turn"], row["rejected_turn"]),
                )
            c.execute("DELETE FROM preference_pairs WHERE id = ?", (pair_id,))
        return True

    def forget_all(self) -> int:
        """Forget every pair and the feedback they came from (thumbs and edits; regenerated replies stay replaced)."""
        with transaction(self.conn) as c:
            count = c.execute("SELECT COUNT(*) FROM preference_pairs").fetchone()[0]
            c.execute(
                "INSERT OR IGNORE INTO preference_tombstones (prompt_turn, chosen_turn, rejected_turn) "
                "SELECT prompt_turn, chosen_turn, rejected_turn FROM preference_pairs WHERE chosen_turn IS NOT NULL"
            )
            c.execute("DELETE FROM preference_pairs")
            c.execute("DELETE FROM feedback WHERE kind IN ('up', 'down', 'edit')")
        return int(count)

    # ------------------------------------------------------------------ derivation

    @staticmethod
    def _prompt_of(c: sqlite3.Connection, reply_id: int) -> int | None:
        row = c.execute(
            "SELECT u.id FROM turns a JOIN turns u ON u.session_id = a.session_id AND u.role = 'user' AND u.id < a.id "
            "WHERE a.id = ? ORDER BY u.id DESC LIMIT 1",
            (reply_id,),
        ).fetchone()
        return int(row[0]) if row else None

    def _derive(self, c: sqlite3.Connection, prompt: int) -> None:
        session = c.execute("SELECT session_id FROM turns WHERE id = ?", (prompt,)).fetchone()
        if session is None:
            return
        later = c.execute(
            "SELECT MIN(id) FROM turns WHERE session_id = ? AND role = 'user' AND id > ?", (session[0], prompt)
        ).fetchone()[0]
        replies = [
            int(r[0])
            for r in c.execute(
                "SELECT id FROM turns WHERE session_id = ? AND role = 'assistant' AND id > ? AND (? IS NULL OR id < ?) ORDER BY id",
                (session[0], prompt, later, later),
            )
        ]
        feedback: dict[int, list[sqlite3.Row]] = {}
        if replies:
            marks = ",".join("?" * len(replies))
            for row in c.execute(f"SELECT * FROM feedback WHERE turn_id IN ({marks}) ORDER BY id", replies):
                feedback.setdefault(row["turn_id"], []).append(row)

        def thumb(reply: int) -> str:
            thumbs = [f["kind"] for f in feedback.get(reply, []) if f["kind"] in ("up", "down")]
            return thumbs[-1] if thumbs else ""

        wanted: set[tuple[str, int | None, int | None, int]] = set()  # kind, chosen turn, chosen feedback, rejected
        for reply in replies:
            for f in feedback.get(reply, []):
                if f["kind"] == "edit" and f["text"].strip():
                    wanted.add(("edit", None, int(f["id"]), reply))
        replaced = [r for r in replies if any(f["kind"] == "retry" for f in feedback.get(r, []))]
        kept = next((r for r in reversed(replies) if r not in replaced), None)
        if kept is not None and replaced:
            if thumb(kept) == "down":
                wanted |= {("retry", r, None, kept) for r in replaced if thumb(r) == "up"}
            elif thumb(kept) == "up" or later is not None:
                wanted |= {("retry", kept, None, r) for r in replaced if thumb(r) != "up"}
        tombstones = {
            (int(r[0]), int(r[1])) for r in c.execute("SELECT chosen_turn, rejected_turn FROM preference_tombstones WHERE prompt_turn = ?", (prompt,))
        }
        wanted = {w for w in wanted if w[1] is None or (w[1], w[3]) not in tombstones}
        existing = {
            (r["kind"], r["chosen_turn"], r["chosen_feedback"], r["rejected_turn"]): r["id"]
            for r in c.execute("SELECT * FROM preference_pairs WHERE prompt_turn = ?", (prompt,))
        }
        for key, pair_id in existing.items():
            if key not in wanted:
                c.execute("DELETE FROM preference_pairs WHERE id = ?", (pair_id,))
        for kind, chosen, chosen_feedback, rejected in wanted - existing.keys():
            c.execute(
                "INSERT INTO preference_pairs (id, kind, prompt_turn, chosen_turn, chosen_feedback, rejected_turn, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new_id("p"), kind, prompt, chosen, chosen_feedback, rejected, now_iso()),
            )
