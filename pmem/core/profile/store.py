"""The profile store (SQLite, same database as the journal): facts, their sources and their history."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pmem.core.errors import InputError
from pmem.core.profile.model import OPPOSITES, PLAN_TEMPLATES, Candidate, Fact, is_single_valued, plan_attribute, slot_of
from pmem.core.store.db import transaction
from pmem.core.store.journal import new_id, now_iso
from pmem.core.words import stem, stems


FACT_COLUMNS = (
    "id", "category", "attribute", "value", "statement", "confidence", "origin", "learned_at", "valid_from", "valid_to",
    "superseded_by",
)
"""A fact's columns, as pmem's export writes them."""
_FACT_TURNS = (("fact_sources", "sources"), ("fact_endings", "ended_by"))
"""The turns a fact came from, and the turns that ended it: (table, field of the export)."""


@dataclass(frozen=True)
class Change:
    """What consolidation did with one candidate."""

    action: str  # "added" | "superseded" | "duplicate" | "ignored" | "history" (older than the current fact) | "ended"
    fact: Fact
    replaced: Fact | None = None


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _matches(value: str, fact: Fact) -> bool:
    """Whether an ending or completion naming ``value`` is about this fact (``*``: any fact of the slot): they
    share a word, in any of its forms ("teaching" / "chemistry teacher", "run" / "running"), or are the same value
    (a two-letter name, "Mo", has no word long enough to share), or share a short word with a digit in it ("5k goal
    done" and "run a sub-25 5k")."""
    if value == "*" or bool(stems(value) & stems(fact.value)) or value.strip().lower() == fact.value.strip().lower():
        return True
    short = {w for w in re.findall(r"\w+", value.lower()) if len(w) <= 2 and any(c.isdigit() for c in w) and not w.isdigit()}
    return bool(short & set(re.findall(r"\w+", fact.value.lower())))


#: Words any goal may use; sharing only these does not make two goals the same goal.
_GOAL_WORDS = frozenset(stem(w) for w in (
    "get finish run learn start become make do go write read try improve better more less year years month months time "
    "before turn able want new full one two first last next finally still really this that"
).split())


def _same_goal(old: str, new: str) -> bool:
    """Whether a new goal restates an old one ("get my PhD by 2027" -> "finish my PhD by 2026"): they share a word
    that is not a number and not one every goal uses."""
    shared = stems(old) & stems(new)
    return any(not w.isdigit() and w not in _GOAL_WORDS for w in shared)


class ProfileStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.conn)

    # ------------------------------------------------------------------ reading

    def _facts(
        self, where: str, args: Iterable[object] = (), order: str = "f.category, f.attribute, f.valid_from, f.rowid"
    ) -> list[Fact]:
        rows = self.conn.execute(
            f"""
            SELECT f.*, (SELECT group_concat(t.uid, ',') FROM fact_sources s JOIN turns t ON t.id = s.turn_id
                         WHERE s.fact_id = f.id) AS source_uids,
                        (SELECT group_concat(t.uid, ',') FROM fact_endings e JOIN turns t ON t.id = e.turn_id
                         WHERE e.fact_id = f.id) AS ending_uids
            FROM facts f WHERE {where} ORDER BY {order}
            """,
            tuple(args),
        ).fetchall()
        return [
            Fact(
                r["id"], r["category"], r["attribute"], r["value"], r["statement"], r["confidence"], r["origin"],
                r["learned_at"], r["valid_from"], r["valid_to"], r["superseded_by"],
                tuple(sorted((r["source_uids"] or "").split(","))) if r["source_uids"] else (),
                tuple(sorted(r["ending_uids"].split(","))) if r["ending_uids"] else (),
            )
            for r in rows
        ]

    def recent(self, limit: int = 20) -> list[Fact]:
        """What changed lately, newest first: facts learned (superseded ones included) and facts ended, the
        latter at the time they ended (an old fact closed today is news today)."""
        ended = "EXISTS (SELECT 1 FROM fact_endings e WHERE e.fact_id = f.id)"
        return self._facts("1", order=f"CASE WHEN {ended} THEN f.valid_to ELSE f.learned_at END DESC, f.rowid DESC")[:limit]

    def current(self) -> list[Fact]:
        return self._facts("f.valid_to IS NULL")

    def successors(self, turn_ids: list[int]) -> dict[int, Fact]:
        """For each of these turns that taught a fact since superseded: the fact that holds now in its place (the
        end of the chain of successors)."""
        if not turn_ids:
            return {}
        marks = ",".join("?" * len(turn_ids))
        rows = self.conn.execute(
            f"SELECT s.turn_id, f.superseded_by FROM fact_sources s JOIN facts f ON f.id = s.fact_id "
            f"WHERE f.valid_to IS NOT NULL AND f.superseded_by IS NOT NULL AND s.turn_id IN ({marks})", list(turn_ids),
        ).fetchall()
        out: dict[int, Fact] = {}
        for turn_id, successor in rows:
            fact, seen = self.get(successor), set()
            while fact is not None and fact.superseded_by and fact.id not in seen:  # a chain: Leeds, then York, then Sheffield
                seen.add(fact.id)
                fact = self.get(fact.superseded_by) or fact
            if fact is not None and fact.valid_to is None:  # a change that ended too ("we broke up") says nothing current
                out[int(turn_id)] = fact
        return out

    def history(self) -> list[Fact]:
        """Every fact, current and superseded."""
        return self._facts("1")

    def get(self, fact_id: str) -> Fact | None:
        found = self._facts("f.id = ?", (fact_id,))
        return found[0] if found else None

    def version(self) -> str:
        """Changes whenever the profile does (cheap; used to rebuild the prompt block only on change)."""
        row = self.conn.execute("SELECT count(*), max(learned_at), max(valid_to), total(length(statement)) FROM facts").fetchone()
        return "|".join(str(x) for x in row)

    def find(self, text: str) -> list[Fact]:
        """Current facts whose key, statement or value matches ``text`` (a key like 'location.city' or words)."""
        text = text.strip()
        if "." in text and " " not in text:
            category, attribute = text.split(".", 1)
            return self._facts("f.valid_to IS NULL AND f.category = ? AND f.attribute = ?", (category, attribute))
        if text in ("identity", "location", "work", "people", "pets", "health", "preferences", "goals", "projects", "style", "other"):
            return self._facts("f.valid_to IS NULL AND f.category = ?", (text,))
        needle = _norm(text)
        return [f for f in self.current() if needle and (needle in _norm(f.statement) or needle in _norm(f.value) or needle == _norm(f.attribute))]

    # ------------------------------------------------------------------ writing

    def consolidate(self, candidates: Iterable[Candidate], source_turn_ids: Iterable[int] = (), when: str | None = None) -> list[Change]:
        """Add, supersede or ignore each candidate against the current profile, in one transaction."""
        sources = list(source_turn_ids)
        changes: list[Change] = []
        with self.transaction():
            for raw in candidates:
                cand = raw.normalised()
                if not cand.value or (cand.origin == "extracted" and self._forgotten(cand, sources)):
                    continue
                at = when or now_iso()
                if cand.kind == "end":
                    slot = [f for c, a in slot_of(cand.category, cand.attribute) for f in self._current(c, a)]
                    changes += self._end(slot, cand.value, at, sources=sources)
                elif cand.kind == "done":
                    changes += self._end(self._current("goals", "any"), cand.value, at, sources=sources)
                elif cand.kind == "plan":
                    changes.append(self._plan(cand, sources, at))
                elif cand.kind == "confirm":
                    changes += self._confirm(cand, sources, at)
                elif cand.kind == "correct":
                    changes += self._correct(cand, sources, at)
                else:
                    change = self._consolidate_one(cand, sources, at)
                    changes.append(change)
                    if change.action in ("added", "superseded", "duplicate"):
                        changes += self._end(self._current("goals", plan_attribute(cand.category, cand.attribute)), cand.value, at, change.fact.id)
        return changes

    def _current(self, category: str, attribute: str) -> list[Fact]:
        if attribute in ("*", "any"):
            return self._facts("f.valid_to IS NULL AND f.category = ?", (category,))
        return self._facts("f.valid_to IS NULL AND f.category = ? AND f.attribute = ?", (category, attribute))

    def _end(
        self, facts: list[Fact], value: str, when: str, successor: str | None = None, sources: list[int] | None = None
    ) -> list[Change]:
        """Close the facts an ending names: they stay in history, no longer current. An older statement (history
        being imported) does not end a newer fact. An ending without a successor keeps the turns it came from,
        and one the user took back from these turns is not applied again."""
        changes = []
        for fact in facts:
            if not _matches(value, fact) or fact.valid_from > when or (sources and self._refused(fact, sources)):
                continue
            self.conn.execute("UPDATE facts SET valid_to = ?, superseded_by = ? WHERE id = ?", (when, successor, fact.id))
            if successor is None and sources:
                self.conn.executemany(
                    "INSERT OR IGNORE INTO fact_endings (fact_id, turn_id) SELECT ?, id FROM turns WHERE id = ?",
                    [(fact.id, t) for t in sources],
                )
            changes.append(Change("ended", self.get(fact.id) or fact))
        return changes

    def _refused(self, fact: Fact, sources: list[int]) -> bool:
        marks = ",".join("?" * len(sources))
        return self.conn.execute(
            f"SELECT 1 FROM ending_tombstones WHERE category = ? AND attribute = ? AND turn_id IN ({marks}) LIMIT 1",
            (fact.category, fact.attribute, *sources),
        ).fetchone() is not None

    def reopen(self, fact_ids: Iterable[str], *, refuse: bool = False) -> int:
        """Make ended facts current again (an ending undone, or forgotten with the turn that said it). ``refuse``:
        the user took the ending back, so the turns that said it will not end this attribute again."""
        ids = list(fact_ids)
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self.transaction():
            if refuse:
                self.conn.execute(
                    "INSERT OR IGNORE INTO ending_tombstones (turn_id, category, attribute) SELECT e.turn_id, f.category, "
                    f"f.attribute FROM fact_endings e JOIN facts f ON f.id = e.fact_id WHERE f.id IN ({marks})",
                    ids,
                )
            self.conn.execute(f"DELETE FROM fact_endings WHERE fact_id IN ({marks})", ids)
            return self.conn.execute(
                f"UPDATE facts SET valid_to = NULL WHERE id IN ({marks}) AND superseded_by IS NULL", ids
            ).rowcount

    def _plan(self, cand: Candidate, sources: list[int], when: str) -> Change:
        """A change announced for later is kept as a plan (under goals) until it is confirmed or happens."""
        template = PLAN_TEMPLATES.get((cand.category, cand.attribute), "plans: {statement}")
        statement = template.format(value=cand.value, statement=cand.statement)
        plan = Candidate("goals", plan_attribute(cand.category, cand.attribute), cand.value, cand.confidence, cand.origin, statement)
        return self._consolidate_one(plan, sources, when)

    def _confirm(self, cand: Candidate, sources: list[int], when: str) -> list[Change]:
        """A plan of this category came true: its fact becomes current, from both the plan's turn and this one."""
        prefix = plan_attribute(cand.category, "")
        changes: list[Change] = []
        for plan in self._current("goals", "any"):
            if not plan.attribute.startswith(prefix) or not _matches(cand.value, plan):
                continue
            attribute = plan.attribute.removeprefix(prefix)
            plan_turns = [r[0] for r in self.conn.execute("SELECT turn_id FROM fact_sources WHERE fact_id = ?", (plan.id,))]
            fact = Candidate(cand.category, attribute, plan.value, cand.confidence, cand.origin).normalised()
            change = self._consolidate_one(fact, sorted(set(plan_turns) | set(sources)), when)
            changes.append(change)
            changes += self._end([plan], "*", when, change.fact.id)
        return changes

    def _correct(self, cand: Candidate, sources: list[int], when: str) -> list[Change]:
        """The user corrected a value they gave: each current fact holding it now holds the new one (a new version in
        the same slot, the old one kept in history). A value no current fact holds changes nothing."""
        changes: list[Change] = []
        for fact in self.current():
            if not cand.replaces or _norm(fact.value) != _norm(cand.replaces):
                continue
            fixed = Candidate(fact.category, fact.attribute, cand.value, cand.confidence, cand.origin).normalised()
            change = self._consolidate_one(fixed, sources, when)
            changes.append(change)
            if (still := self.get(fact.id)) is not None and still.current:
                changes += self._end([still], "*", when, change.fact.id)
        return changes

    def _forgotten(self, cand: Candidate, sources: list[int]) -> bool:
        """Whether the user forgot what these turns said about this attribute (it is not learned again)."""
        if not sources:
            return False
        marks = ",".join("?" * len(sources))
        return self.conn.execute(
            f"SELECT 1 FROM fact_tombstones WHERE category = ? AND attribute = ? AND turn_id IN ({marks}) LIMIT 1",
            (cand.category, cand.attribute, *sources),
        ).fetchone() is not None

    def _consolidate_one(self, cand: Candidate, sources: list[int], when: str) -> Change:
        same_slot = self._facts(
            "f.valid_to IS NULL AND f.category = ? AND f.attribute = ?", (cand.category, cand.attribute)
        )
        for fact in same_slot:
            if _norm(fact.value) == _norm(cand.value):
                self._link(fact.id, sources)
                if cand.confidence > fact.confidence or (cand.origin != "extracted" and fact.origin == "extracted"):
                    self.conn.execute(
                        "UPDATE facts SET confidence = max(confidence, ?), origin = ? WHERE id = ?",
                        (cand.confidence, cand.origin if cand.origin != "extracted" else fact.origin, fact.id),
                    )
                return Change("duplicate", self.get(fact.id) or fact)
        replaced: Fact | None = None
        if is_single_valued(cand.category, cand.attribute):
            group = slot_of(cand.category, cand.attribute)
            if len(group) > 1:
                same_slot = sorted((f for c, a in group for f in self._current(c, a)), key=lambda f: f.valid_from)
        if is_single_valued(cand.category, cand.attribute) and same_slot:
            replaced = same_slot[-1]
            if cand.confidence < replaced.confidence:
                # A guess does not overturn something the user said plainly (or a pattern matched).
                return Change("ignored", replaced)
            if when < replaced.valid_from:
                # An older statement (history being imported or rebuilt): it was true before, not now.
                return self._insert_history(cand, sources, when, replaced)
        elif (cand.category, cand.attribute) == ("goals", "goal"):
            # A goal restated supersedes the old wording; goals about other things stay side by side.
            replaced = next((f for f in reversed(same_slot) if _same_goal(f.value, cand.value)), None)
            if replaced is not None and when < replaced.valid_from:
                return self._insert_history(cand, sources, when, replaced)
        elif cand.attribute in OPPOSITES:
            opposite = self._facts(
                "f.valid_to IS NULL AND f.category = ? AND f.attribute = ?", (cand.category, OPPOSITES[cand.attribute])
            )
            replaced = next((f for f in opposite if _norm(f.value) == _norm(cand.value)), None)
        fact_id = new_id("f")
        self.conn.execute(
            "INSERT INTO facts (id, category, attribute, value, statement, confidence, origin, learned_at, valid_from) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fact_id, cand.category, cand.attribute, cand.value, cand.statement, cand.confidence, cand.origin, when, when),
        )
        self._link(fact_id, sources)
        if replaced is not None:
            self.conn.execute("UPDATE facts SET valid_to = ?, superseded_by = ? WHERE id = ?", (when, fact_id, replaced.id))
        fact = self.get(fact_id)
        assert fact is not None
        return Change("superseded" if replaced else "added", fact, replaced)

    def _insert_history(self, cand: Candidate, sources: list[int], when: str, newer: Fact) -> Change:
        fact_id = new_id("f")
        self.conn.execute(
            "INSERT INTO facts (id, category, attribute, value, statement, confidence, origin, learned_at, valid_from, "
            "valid_to, superseded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fact_id, cand.category, cand.attribute, cand.value, cand.statement, cand.confidence, cand.origin, when, when,
             newer.valid_from, newer.id),
        )
        self._link(fact_id, sources)
        fact = self.get(fact_id)
        assert fact is not None
        return Change("history", fact)

    def _link(self, fact_id: str, turn_ids: list[int]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO fact_sources (fact_id, turn_id) SELECT ?, id FROM turns WHERE id = ?",
            [(fact_id, t) for t in turn_ids],
        )

    def set(self, key: str, value: str, when: str | None = None) -> Change:
        """The user states a fact directly (``pmem profile set location.city Utrecht``)."""
        category, _, attribute = key.partition(".")
        return self.consolidate([Candidate(category, attribute or "note", value, 1.0, "edited")], when=when)[0]

    def delete(self, fact_ids: Iterable[str], *, with_history: bool = True) -> tuple[int, list[int]]:
        """Remove facts (and the older versions they superseded); returns (facts removed, their source turn ids)."""
        doomed: set[str] = set()
        for fid in fact_ids:
            doomed.add(fid)
            if with_history:
                doomed.update(self._ancestors(fid))
        if not doomed:
            return 0, []
        marks = ",".join("?" * len(doomed))
        with self.transaction():
            turns = [r[0] for r in self.conn.execute(f"SELECT DISTINCT turn_id FROM fact_sources WHERE fact_id IN ({marks})", tuple(doomed))]
            self._tombstone(f"f.id IN ({marks})", tuple(doomed))
            if not with_history:
                # The facts these superseded become current again (their successor never happened).
                self.conn.execute(
                    f"UPDATE facts SET valid_to = NULL, superseded_by = NULL WHERE superseded_by IN ({marks}) AND id NOT IN ({marks})",
                    tuple(doomed) * 2,
                )
            count = self.conn.execute(f"DELETE FROM facts WHERE id IN ({marks})", tuple(doomed)).rowcount
        return count, turns

    def _ancestors(self, fact_id: str) -> set[str]:
        """Older facts this one superseded, transitively."""
        out: set[str] = set()
        frontier = [fact_id]
        while frontier:
            rows = self.conn.execute(
                f"SELECT id FROM facts WHERE superseded_by IN ({','.join('?' * len(frontier))})", frontier
            ).fetchall()
            frontier = [r[0] for r in rows if r[0] not in out]
            out.update(frontier)
        return out

    def derived_only_from(self, turn_ids: list[int]) -> list[str]:
        """Facts whose every source is among ``turn_ids`` (forgetting those turns must take the facts too)."""
        return self._only_from("fact_sources", turn_ids)

    def ended_only_by(self, turn_ids: list[int]) -> list[str]:
        """Facts ended by turns all among ``turn_ids`` (forgetting those turns forgets the ending)."""
        return self._only_from("fact_endings", turn_ids, "f.superseded_by IS NULL AND f.valid_to IS NOT NULL")

    def _only_from(self, table: str, turn_ids: list[int], where: str = "1") -> list[str]:
        """Facts with at least one row in ``table`` (``fact_sources`` or ``fact_endings``), all naming these turns."""
        if not turn_ids:
            return []
        marks = ",".join("?" * len(turn_ids))
        rows = self.conn.execute(
            f"""
            SELECT f.id FROM facts f
            WHERE {where}
              AND EXISTS (SELECT 1 FROM {table} s WHERE s.fact_id = f.id AND s.turn_id IN ({marks}))
              AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.fact_id = f.id AND s.turn_id NOT IN ({marks}))
            """,
            tuple(turn_ids) * 2,
        ).fetchall()
        return [r[0] for r in rows]

    def delete_extracted(self) -> int:
        """Remove every fact pmem extracted (what the user set or edited stays), for a rebuild from the journal.
        Endings are extracted too: the facts the user set that an ending closed are current until it is re-derived."""
        with self.transaction():
            self.conn.execute(
                "UPDATE facts SET valid_to = NULL, superseded_by = NULL "
                "WHERE origin != 'extracted' AND superseded_by IN (SELECT id FROM facts WHERE origin = 'extracted')"
            )
            self.conn.execute(
                "UPDATE facts SET valid_to = NULL WHERE origin != 'extracted' AND superseded_by IS NULL "
                "AND id IN (SELECT fact_id FROM fact_endings)"
            )
            self.conn.execute("DELETE FROM fact_endings")
            return self.conn.execute("DELETE FROM facts WHERE origin = 'extracted'").rowcount

    def clear(self) -> int:
        with self.transaction():
            self._tombstone("1", ())
            return self.conn.execute("DELETE FROM facts").rowcount

    # ------------------------------------------------------------------ export and import

    def export_facts(self) -> list[dict[str, object]]:
        """Every fact, current and superseded, with the uids of the turns it was learned from (and ended by)."""
        out = []
        for r in self.conn.execute(f"SELECT {', '.join(FACT_COLUMNS)} FROM facts ORDER BY learned_at, rowid"):
            fact: dict[str, object] = {c: r[c] for c in FACT_COLUMNS}
            for table, field in _FACT_TURNS:
                fact[field] = [row[0] for row in self.conn.execute(
                    f"SELECT t.uid FROM {table} s JOIN turns t ON t.id = s.turn_id WHERE s.fact_id = ? ORDER BY t.id", (r["id"],))]
            out.append(fact)
        return out

    def restore_facts(self, facts: Iterable[dict[str, Any]]) -> int:
        """Exported facts (history and sources included) that this profile does not have yet; returns how many.

        A current fact of the import that conflicts with a current fact here (same single-valued attribute) keeps
        the newer of the two current and closes the other, as learning it again would."""
        added: list[dict[str, Any]] = []
        with transaction(self.conn) as c:
            for i, f in enumerate(facts):
                try:
                    values = [f[col] for col in FACT_COLUMNS]
                except (KeyError, TypeError):
                    raise InputError(f"profile.facts[{i}] of the pmem export is incomplete") from None
                if c.execute("SELECT 1 FROM facts WHERE id = ?", (f["id"],)).fetchone():
                    continue
                values[FACT_COLUMNS.index("superseded_by")] = None  # linked below, once every fact exists
                c.execute(f"INSERT INTO facts ({', '.join(FACT_COLUMNS)}) VALUES ({', '.join('?' * len(FACT_COLUMNS))})", values)
                for table, field in _FACT_TURNS:
                    uids = [u for u in f.get(field) or [] if isinstance(u, str)]
                    if uids:
                        c.execute(
                            f"INSERT OR IGNORE INTO {table} (fact_id, turn_id) "
                            f"SELECT ?, id FROM turns WHERE uid IN ({','.join('?' * len(uids))})",
                            [f["id"], *uids],
                        )
                added.append(f)
            for f in added:
                if f.get("superseded_by"):
                    c.execute("UPDATE facts SET superseded_by = ? WHERE id = ? AND EXISTS (SELECT 1 FROM facts WHERE id = ?)",
                              (f["superseded_by"], f["id"], f["superseded_by"]))
            for f in added:
                if f["valid_to"] is None and is_single_valued(f["category"], f["attribute"]):
                    self._close_older_rival(f)
        return len(added)

    def _close_older_rival(self, f: dict[str, Any]) -> None:
        """A restored current fact and a current one here on the same single-valued attribute: the older ends."""
        for rival in self.conn.execute(
            "SELECT id, valid_from FROM facts WHERE category = ? AND attribute = ? AND valid_to IS NULL AND id != ?",
            (f["category"], f["attribute"], f["id"]),
        ).fetchall():
            older, newer = (rival["id"], f["id"]) if rival["valid_from"] <= f["valid_from"] else (f["id"], rival["id"])
            self.conn.execute(
                "UPDATE facts SET valid_to = (SELECT valid_from FROM facts WHERE id = ?), superseded_by = ? WHERE id = ?",
                (newer, newer, older),
            )

    def _tombstone(self, where: str, args: tuple[object, ...]) -> None:
        """Mark the source turns of the facts about to be forgotten, so a rebuild does not learn them again."""
        self.conn.execute(
            "INSERT OR IGNORE INTO fact_tombstones (turn_id, category, attribute) SELECT s.turn_id, f.category, f.attribute "
            f"FROM facts f JOIN fact_sources s ON s.fact_id = f.id WHERE {where}",
            args,
        )
