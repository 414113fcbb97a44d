"""What the user can do with their profile: read it, state, edit, undo, rebuild and forget facts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pmem.core.assistant.drafts import private_draft
from pmem.core.assistant.reader import Reader
from pmem.core.errors import InputError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.forget import ForgetReport
    from pmem.core.memory.service import Progress
    from pmem.core.profile.model import Change, Fact
    from pmem.core.profile.store import ProfileStore

FactView = Literal["current", "history", "recent"]


class ProfileActions:
    def __init__(self, runtime: Runtime, reader: Reader) -> None:
        self.runtime = runtime
        self.reader = reader

    def _store(self) -> ProfileStore:
        from pmem.core.profile.store import ProfileStore

        return ProfileStore(self.runtime.journal.conn)

    def text(self) -> str:
        """The profile as the user reads it (third person: "Lives in Utrecht"), empty when nothing is known."""
        from pmem.core.profile.service import render_block
        from pmem.core.profile.store import ProfileStore

        return render_block(ProfileStore(self.reader.journal().conn).current(), person="third")

    def facts(self, view: FactView = "current") -> list[Fact]:
        store = self._store()
        return store.recent() if view == "recent" else store.history() if view == "history" else store.current()

    def find(self, what: str) -> list[Fact]:
        """Current facts whose key, category or words match."""
        return self._store().find(what)

    def set(self, key: str, value: str) -> Change:
        """The user states a fact (a newer value replaces a single-valued one; the old one stays in history)."""
        from pmem.core.profile.model import CATEGORIES

        category, dot, attribute = key.partition(".")
        if not dot or not attribute or category not in CATEGORIES:
            raise InputError(f"key must be category.attribute with a category among: {', '.join(CATEGORIES)} (got {key!r})")
        if not value.strip():
            raise InputError("the value is empty")
        return self._store().set(key, value)

    def remember(self, text: str) -> str:
        """``/remember TEXT``: stored in the profile now, at full confidence."""
        changes = self.runtime.profile.remember(text)
        return "remembered: " + "; ".join(c.fact.statement for c in changes) if changes else "nothing to remember in that"

    def forget_said(self, text: str) -> str:
        """``/forget TEXT``: the profile facts the words name (or that the sentence would state) go."""
        facts = self.runtime.profile.matching(text)
        if not facts:
            return "nothing in the profile matched that"
        return "forgot: " + "; ".join(self.runtime.forget.facts(facts).fact_statements)

    def forget(self, facts: list[Fact], *, with_sources: bool = False) -> ForgetReport:
        """Facts and their history; with ``with_sources`` also the exchanges they came from."""
        return self.runtime.forget.facts(facts, with_sources=with_sources)

    def forget_ids(self, ids: list[str]) -> ForgetReport:
        store = self._store()
        return self.runtime.forget.facts([f for f in (store.get(i) for i in ids) if f is not None])

    def forget_all(self, *, with_sources: bool = False) -> ForgetReport:
        return self.runtime.forget.whole_profile(with_sources=with_sources)

    def undo_learned(self, fact_ids: list[str]) -> tuple[list[Fact], list[Fact]]:
        """Take back facts just learned; returns (the facts undone, the facts that are current again)."""
        store = self._store()
        undone = [f for f in (store.get(i) for i in fact_ids) if f is not None]
        restored = [f for f in (self.runtime.profile.undo(f.id) for f in undone) if f is not None]
        self.runtime.forget.purge()
        return undone, restored

    def rebuild(
        self, *, dry_run: bool = False, progress: Progress | None = None, use_model: bool | None = None
    ) -> tuple[list[Fact], list[Fact]]:
        """Re-derive every extracted fact from the journal (with the extraction model too: ``use_model``, default
        as configured); returns (before, after)."""
        if not dry_run:
            self.runtime.backup_if_data("before-rebuild")
        before, after = self.runtime.profile.rebuild(dry_run=dry_run, progress=progress, use_model=use_model)
        if not dry_run and {(f.key, f.value) for f in before} != {(f.key, f.value) for f in after}:
            self.runtime.forget.purge()
        return before, after

    @contextmanager
    def draft(self) -> Iterator[Path]:
        """The profile as an editable TOML file, deleted after."""
        from pmem.core.profile import document

        with private_draft(self.runtime.paths.cache_dir, "profile-", ".toml", document.render(self._store().current())) as path:
            yield path

    def apply_draft(self, path: Path) -> str:
        """Validate the edited file and apply it as a diff (never half-applied); raises ``InputError``."""
        from pmem.core.profile import document

        return document.apply(self._store(), path.read_text(encoding="utf-8")).line()
