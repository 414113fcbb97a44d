"""The profile as the chat sees it: learn from exchanges (in the background), honour explicit requests,
and render the compact block that sits in the system prompt.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from itertools import groupby
from dataclasses import dataclass

from pmem.core.engine.base import ChatEngine
from pmem.core.profile.extract import explicit_candidates, model_candidates, rule_candidates
from pmem.core.profile.model import Candidate, Fact, second_person
from pmem.core.profile.store import Change, ProfileStore
from pmem.core.words import stems
from pmem.core.store.db import connect
from pmem.core.store.journal import Turn

#: Order of categories in the prompt block (most identifying first).
BLOCK_ORDER = ("identity", "location", "work", "people", "pets", "health", "preferences", "goals", "projects", "style", "other")


def render_block(facts: list[Fact], limit: int = 40, person: str | None = None) -> str:
    """One line per current fact, grouped by category, oldest first within a category (a stable order, the same
    on every run).
    ``person``: ``second`` says each fact to the user ("- You live in Utrecht"), ``third`` labels it with its
    category ("- (location) lives in Utrecht"); default: the prompt's framing."""
    from pmem.core.prompt import DEFAULT_FRAMING

    person = person or DEFAULT_FRAMING.profile_person
    # Ties (facts learned in the same second) keep the store's order (attribute, then insertion), not the random
    # ids', so the same profile always reads the same: the prompt, and what a small model answers from it, repeat.
    ordered = sorted(facts, key=lambda f: (BLOCK_ORDER.index(f.category) if f.category in BLOCK_ORDER else 99, f.valid_from))
    if person == "second":
        lines = [f"- {second_person(f.statement, f.category, f.attribute)}" for f in ordered[:limit]]
    else:
        lines = [f"- {f.statement}" if f.attribute == "note" else f"- ({f.category}) {f.statement}" for f in ordered[:limit]]
    return "\n".join(lines)


@dataclass
class Learned:
    changes: list[Change]
    turn: Turn


class ProfileService:
    def __init__(self, conn, engine_factory: Callable[[], ChatEngine] | None = None, *, use_model: bool = True, database=None) -> None:  # type: ignore[no-untyped-def]
        """``engine_factory`` builds the extraction engine on first use (a separate llama.cpp context, so
        extraction never disturbs the chat's KV cache); ``None`` means rules only."""
        self.conn = conn
        self.store = ProfileStore(conn)
        self.engine_factory = engine_factory
        self.use_model = use_model and engine_factory is not None
        self.database = database
        self._engine: ChatEngine | None = None
        self._block_version: str | None = None
        self._block = ""
        self._worker: _ExtractionWorker | None = None
        self.on_change: Callable[[list[Change]], None] | None = None

    # ------------------------------------------------------------------ prompt block

    def changed_since(self, turn_ids: list[int]) -> dict[int, str]:
        """For memories whose turns taught a fact that has since changed: what holds now, as said to the user
        ("since 15 Sep 2024: You work as librarian"), for the prompt to quote beside the old memory."""
        from pmem.core.prompt import long_date

        return {
            turn: f"since {long_date(fact.valid_from)}, " + _lower_first(second_person(fact.statement, fact.category, fact.attribute))
            for turn, fact in self.store.successors(turn_ids).items()
        }

    def block(self) -> str:
        version = self.store.version()
        if version != self._block_version:
            self._block = render_block(self.store.current())
            self._block_version = version
        return self._block

    # ------------------------------------------------------------------ learning

    @property
    def engine(self) -> ChatEngine | None:
        if self._engine is None and self.engine_factory is not None:
            self._engine = self.engine_factory()
        return self._engine

    def learn(self, user: Turn, *, cancel: threading.Event | None = None, use_model: bool | None = None, conn=None) -> list[Change]:  # type: ignore[no-untyped-def]
        """Extract and consolidate facts from one user turn (the assistant's words are never used)."""
        store = ProfileStore(conn) if conn is not None else self.store
        candidates = self.candidates(user.content, use_model=use_model, cancel=cancel)
        changes = store.consolidate(candidates, [user.id], when=user.created_at) if candidates else []
        if changes and self.on_change is not None:
            self.on_change(changes)
        return changes

    def reads_with_model(self, use_model: bool | None = None) -> bool:
        """Whether the model pass runs: as asked (``use_model``), else as configured; never without an engine."""
        return (self.use_model if use_model is None else use_model) and self.engine_factory is not None

    def candidates(self, text: str, *, use_model: bool | None = None, cancel: threading.Event | None = None) -> list[Candidate]:
        """What one user message says about the user: the patterns', and the model's where the model pass is on
        (``use_model``; default: as configured)."""
        candidates = rule_candidates(text)
        if self.reads_with_model(use_model) and self.engine is not None:
            model = model_candidates(self.engine, text, cancel=cancel)
            if cancel is not None and cancel.is_set():
                raise _Preempted
            # The patterns' endings and plans win: "I quit Foster" is not "works at Foster" to the model's reading.
            candidates += [c for c in model if not any(c.value.lower() == r.value.lower() for r in candidates)
                           and not any(r.kind != "fact" and r.value != "*" and stems(r.value) & stems(c.value) for r in candidates)]
        return candidates

    def learn_history(
        self, session_ids: list[str] | None = None, progress: Callable[[int, int], None] | None = None, *, use_model: bool = False
    ) -> list[Change]:
        """Learn from the user turns of these sessions (all sessions: ``None``), oldest first, so that a later
        statement supersedes an earlier one; one transaction per session. Patterns only unless ``use_model``:
        a model pass over a whole imported history takes a second or more a turn, so it is asked for (``pmem
        profile rebuild``), never paid on import. ``progress(done, total)`` counts user turns."""
        turns = self._oldest_first(session_ids)
        read = self._read(turns, use_model, progress)
        changes: list[Change] = []
        for _, session in groupby(turns, key=lambda t: t.session_id):
            with self.store.transaction():
                for turn in session:
                    if read[turn.id]:
                        changes += self.store.consolidate(read[turn.id], [turn.id], when=turn.created_at)
        return [c for c in changes if c.action in ("added", "superseded", "history")]

    def _read(self, turns: list[Turn], use_model: bool, progress: Callable[[int, int], None] | None) -> dict[int, list[Candidate]]:
        """Each turn's candidates, read with no transaction open: a slow model never holds the write lock (the
        chat's journal waits on it)."""
        read: dict[int, list[Candidate]] = {}
        for turn in turns:
            read[turn.id] = self.candidates(turn.content, use_model=use_model)
            if progress is not None:
                progress(len(read), len(turns))
        return read

    def _oldest_first(self, session_ids: list[str] | None = None) -> list[Turn]:
        """The user turns of these sessions (all: ``None``), sessions by start, turns in order."""
        if session_ids is None:
            session_ids = [r[0] for r in self.conn.execute("SELECT id FROM sessions ORDER BY started_at, rowid")]
        order = sorted(
            session_ids,
            key=lambda sid: (self.conn.execute("SELECT started_at FROM sessions WHERE id = ?", (sid,)).fetchone() or [""])[0],
        )
        return [
            Turn.from_row(row)
            for sid in order
            for row in self.conn.execute("SELECT * FROM turns WHERE session_id = ? AND role = 'user' ORDER BY created_at, id", (sid,))
        ]

    def rebuild(
        self, *, dry_run: bool = False, progress: Callable[[int, int], None] | None = None, use_model: bool | None = None
    ) -> tuple[list[Fact], list[Fact]]:
        """Re-derive every extracted fact from the journal; facts the user set or edited stay and win.
        ``use_model``: let the extraction model read every turn too (default: as configured for the live chat,
        so a rebuild re-derives what the chat would learn). Every turn is read first, with no lock held; the
        profile is then rewritten in one short transaction, from the turns that still exist (a turn forgotten
        meanwhile teaches nothing; one written meanwhile is read then).
        Returns (current facts before, current facts after); with ``dry_run`` nothing changes."""
        use_model = self.reads_with_model(use_model)
        read = self._read(self._oldest_first(), use_model, progress)
        before = self.store.current()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.store.delete_extracted()
            for turn in self._oldest_first():
                candidates = read[turn.id] if turn.id in read else self.candidates(turn.content, use_model=use_model)
                if candidates:
                    self.store.consolidate(candidates, [turn.id], when=turn.created_at)
            after = self.store.current()
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("ROLLBACK" if dry_run else "COMMIT")
        return before, after

    def undo(self, fact_id: str) -> Fact | None:
        """Take back a fact pmem just learned: it goes (and is not learned again from the same words), and the
        fact it had replaced, if any, is current again. Returns that restored fact."""
        fact = self.store.get(fact_id)
        if fact is None:
            return None
        if not fact.current and fact.superseded_by is None:
            # An ending taken back ("Bento passed away" misread): the fact is current again, and stays so when the
            # profile is rebuilt from the journal.
            self.store.reopen([fact_id], refuse=True)
            return self.store.get(fact_id)
        restored = self.conn.execute("SELECT id FROM facts WHERE superseded_by = ?", (fact_id,)).fetchone()
        self.store.delete([fact_id], with_history=False)
        return self.store.get(restored[0]) if restored else None

    def remember(self, what: str, turn_ids: list[int] | None = None) -> list[Change]:
        """An explicit "remember that …": stored directly, at full confidence."""
        return self.store.consolidate(explicit_candidates(what), turn_ids or [])

    def matching(self, what: str) -> list[Fact]:
        """The current facts an explicit "forget that …" means: those whose key or words match, or else those
        the sentence itself would state ("forget that I live in Utrecht"). Forgetting them is ``pmem.core.forget``."""
        facts = self.store.find(what)
        if not facts:
            wanted = {(c.category, c.attribute, c.value.lower()) for c in rule_candidates(what, origin="explicit")}
            facts = [f for f in self.store.current() if (f.category, f.attribute, f.value.lower()) in wanted]
        return facts

    # ------------------------------------------------------------------ background

    def learn_in_background(self, user: Turn) -> None:
        if self._worker is None:
            self._worker = _ExtractionWorker(self)
        self._worker.submit(user)

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.resume()

    def flush(self, timeout: float | None = None) -> None:
        if self._worker is not None:
            self._worker.flush(timeout)

    @property
    def pending(self) -> int:
        return self._worker.pending if self._worker is not None else 0

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None


class _Preempted(Exception):
    """An interactive turn started while the model was extracting; the turn is retried later."""


class _ExtractionWorker:
    """One thread, one queue; a new prompt cancels the extraction in flight, which is retried afterwards."""

    def __init__(self, profile: ProfileService) -> None:
        self.profile = profile
        self.queue: queue.Queue[Turn | None] = queue.Queue()
        self.cancel = threading.Event()
        self.resumed = threading.Event()
        self.resumed.set()
        self._lock = threading.Lock()
        self._unfinished = 0
        self._idle = threading.Condition(self._lock)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="pmem-profile", daemon=True)
        self.thread.start()

    @property
    def pending(self) -> int:
        return self._unfinished

    def submit(self, turn: Turn) -> None:
        with self._lock:
            self._unfinished += 1
        self.queue.put(turn)

    def pause(self) -> None:
        self.resumed.clear()
        self.cancel.set()

    def resume(self) -> None:
        self.cancel.clear()
        self.resumed.set()

    def flush(self, timeout: float | None = None) -> None:
        self.resume()
        with self._idle:
            self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def stop(self) -> None:
        self.resume()
        self.queue.put(None)
        self.thread.join(timeout=60)

    def _run(self) -> None:
        conn = connect(self.profile.database) if self.profile.database is not None else None
        try:
            while True:
                turn = self.queue.get()
                if turn is None:
                    return
                while True:
                    self.resumed.wait()
                    try:
                        self.profile.learn(turn, cancel=self.cancel, conn=conn)
                        break
                    except _Preempted:
                        continue
                    except Exception as exc:  # noqa: BLE001 - surfaced via .error; chat goes on
                        self.error = exc
                        break
                with self._idle:
                    self._unfinished -= 1
                    self._idle.notify_all()
        finally:
            if conn is not None:
                conn.close()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text.startswith(("You ", "Your ")) else text
