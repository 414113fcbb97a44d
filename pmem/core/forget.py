"""Forgetting, in one place: every erasure (a turn, a memory, a conversation, matching text, profile facts with or
without the turns they came from, the whole profile) and the purge that makes it unrecoverable from the files.

Why one module: forgetting crosses every layer (the journal, the profile, the episodes and their vectors, saved
KV states, adapters trained on what is forgotten), and a face that forgets must not have to know that. Each layer
deletes from its own tables through its own methods; this module orders them inside one transaction and decides,
once, what the purge afterwards must do. Every forget bumps the journal's forget generation in that transaction,
so a chat open anywhere (this process, another face, another process) re-reads its history before its next turn
and never sends forgotten text to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pmem.core import failpoints
from pmem.core.config import Paths
from pmem.core.distill.store import AdapterStore
from pmem.core.memory.service import MemoryService
from pmem.core.profile.model import Fact
from pmem.core.profile.store import ProfileStore
from pmem.core.store import backup
from pmem.core.store.db import transaction
from pmem.core.store.journal import Journal


@dataclass
class ForgetReport:
    turns: int = 0
    sessions: int = 0
    episodes: int = 0
    vectors: int = 0
    facts: int = 0
    fact_statements: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.turns and self.facts:
            return f"forgot {self.facts} fact(s)"
        return (
            f"forgot {self.turns} turn(s), {self.episodes} memory(ies) and {self.vectors} vector(s)"
            + (f", {self.facts} profile fact(s) learned from them" if self.facts else "")
            + (f", removed {self.sessions} session(s)" if self.sessions else "")
        )


class Forgetter:
    """Erasures over one data dir's stores. ``memory`` is the episodic layer already open in this process."""

    def __init__(self, journal: Journal, memory: MemoryService, paths: Paths) -> None:
        self.journal = journal
        self.memory = memory
        self.paths = paths
        self.profile = ProfileStore(journal.conn)

    # ------------------------------------------------------------------ conversation turns

    def turns(self, turn_ids: list[int]) -> ForgetReport:
        """Remove turns from the journal, the lexical index, the episodes, the vector store, and the profile facts
        learned only from them (facts those had superseded become current again)."""
        if not turn_ids:
            return ForgetReport()
        with self.memory.indexing_held():
            return self._turns(turn_ids)

    def _turns(self, turn_ids: list[int]) -> ForgetReport:
        report = ForgetReport()
        episodes = self.memory.episodes
        affected = episodes.containing_turns(turn_ids)
        # Vectors of the episodes next to these embed their edge turns as context: re-made without them.
        beside = episodes.neighbours(affected)
        embedded = self.memory.vectors.existing(self.journal.turn_uids(turn_ids)) if affected else set()
        with self.memory.write_lock, transaction(self.journal.conn):
            facts = self.profile.derived_only_from(turn_ids)
            report.facts = self.profile.delete(facts, with_history=False)[0] if facts else 0
            # What these turns ended is forgotten with them: those facts are current again, as a rebuild would find.
            self.profile.reopen(self.profile.ended_only_by(turn_ids))
            report.turns, remaining, removed = self.journal.delete_turns(turn_ids)
            report.sessions = len(removed)
            episodes.sync_sessions(remaining)
            episodes.mark_unindexed(beside)
            self.journal.bump_forget_generation()
            failpoints.reach("forget.commit")
        known = episodes.all_ids()
        report.episodes = len(affected)
        report.details["episodes_removed"] = len([e for e in affected if e not in known])
        # Every vector of an affected episode goes (what remains of it is embedded again); the report counts the
        # vectors of the forgotten turns themselves.
        deleted = self.memory.vectors.delete_episodes(affected) if affected else 0
        self.memory.vectors.delete_episodes([e for e in beside if e in known])
        report.vectors = len(embedded)
        self.purge(vectors=bool(deleted))
        self.memory.indexer.wake()
        return report

    def exchanges(self, turn_ids: list[int]) -> ForgetReport:
        """Whole exchanges: these turns and the turns they were exchanged with (a reply that echoed them)."""
        loaded = self.memory.episodes.load(self.memory.episodes.containing_turns(turn_ids))
        return self.turns(sorted({t.id for e in loaded.values() for t in e.turns} | set(turn_ids)))

    def episode(self, episode_id: str) -> ForgetReport:
        episode = self.memory.get(episode_id)
        return self.turns([t.id for t in episode.turns]) if episode else ForgetReport()

    def session(self, session_id: str) -> ForgetReport:
        ids = self.journal.turn_ids_of_session(session_id)
        report = self.turns(ids)
        if not ids:  # an empty conversation: only its row
            with self.memory.write_lock, transaction(self.journal.conn):
                if self.journal.delete_session(session_id):
                    report.sessions = 1
                    self.journal.bump_forget_generation()
        return report

    def matching(self, text: str) -> ForgetReport:
        """Every turn containing ``text`` (ignoring case)."""
        return self.turns(self.journal.turn_ids_containing(text))

    # ------------------------------------------------------------------ the profile

    def facts(self, facts: list[Fact], *, with_sources: bool = False, history: bool = True) -> ForgetReport:
        """Profile facts (with the older versions they replaced unless ``history`` is off); with ``with_sources``
        also the exchanges they were learned from."""
        count, turn_ids = self.profile.delete([f.id for f in facts], with_history=history)
        if with_sources and turn_ids:
            report = self.exchanges(turn_ids)
            report.facts += count
        else:
            report = ForgetReport(facts=count)
            self.purge()
        report.fact_statements = [f.statement for f in facts]
        return report

    def whole_profile(self, *, with_sources: bool = False) -> ForgetReport:
        return self.facts(self.profile.history(), with_sources=with_sources)

    # ------------------------------------------------------------------ the purge

    def purge(self, *, vectors: bool = False) -> None:
        """Make what was deleted unrecoverable from the files: merge the full-text index, checkpoint the WAL,
        drop saved KV states (they hold the profile block's tokens), delete adapters trained on what was
        forgotten (the deletion marked them stale), when vectors were deleted compact the vector store, and
        replace the journal's backups with one fresh copy.
        Also called after a profile edit or undo, whose old profile the saved KV states still hold."""
        with self.memory.write_lock:
            self.journal.optimize_index()
            self.journal.checkpoint()
        if self.paths.kv_dir.exists():
            for state in self.paths.kv_dir.glob("*.kv"):
                state.unlink(missing_ok=True)
        AdapterStore(self.journal.conn, self.paths.adapters_dir).sweep()
        if vectors:
            self.memory.vectors.compact()
        # Last, from the purged journal: older backups still hold what was forgotten, so they go, and one fresh
        # copy takes their place.
        backup.after_forget(self.paths.database, self.paths.backups_dir)


__all__ = ["ForgetReport", "Forgetter"]
