"""Moving data in and out: an import of any format pmem reads (journaled, learned from and indexed), the whole
memory as pmem's export, one conversation as Markdown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.memory.service import Progress
    from pmem.core.transfer import ImportSummary


@dataclass(frozen=True)
class ImportResult:
    summary: ImportSummary
    facts_restored: int
    facts_learned: int

    def line(self) -> str:
        return (
            self.summary.line()
            + (f"; {self.facts_restored} profile fact(s) restored" if self.facts_restored else "")
            + (f"; learned {self.facts_learned} profile fact(s)" if self.facts_learned else "")
        )


class TransferActions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def export_all(self) -> dict[str, Any]:
        from pmem.core.transfer import export_all

        return export_all(self.runtime.journal.conn, embedder=self.runtime.settings.embedder.name)

    def export_session(self, session_id: str, target: Path) -> Path:
        from pmem.core.transfer import session_markdown

        target.write_text(session_markdown(self.runtime.journal, session_id), encoding="utf-8")
        return target

    def import_file(
        self, path: Path, *, progress: Callable[[str], Any] | None = None, notice: Callable[[str], None] | None = None,
    ) -> ImportResult:
        """Import a pmem export, a generic sessions file or a ChatGPT export: read and validated as a stream before
        anything is written; conversations journaled, the profile restored (a pmem export) or learned from them,
        and everything indexed. ``progress(stage)`` gives a progress callback for each stage."""
        from pmem.core.profile.store import ProfileStore
        from pmem.core.store.feedback import FeedbackStore
        from pmem.core.transfer import import_sessions, read_import

        source = read_import(path)
        rt = self.runtime
        rt.distill_on_close = True
        rt.backup_if_data("before-import")
        with _stage(progress, "Importing conversations") as update:
            summary = import_sessions(rt.journal, source.kind, source.sessions(), progress=update, total=source.sessions_total)
        restored = ProfileStore(rt.journal.conn).restore_facts(source.facts())
        FeedbackStore(rt.journal.conn).restore(source.feedback())
        learned: list[Any] = []
        if source.kind != "pmem" and summary.session_ids:  # a pmem export carries its profile; others teach it
            with _stage(progress, "Learning about you") as update:
                learned = rt.profile.learn_history(summary.session_ids, progress=update)
        memory = rt.memory
        memory.reconcile()
        if memory.notice and notice is not None:
            notice(memory.notice)
        with _stage(progress, "Indexing memories") as update:
            memory.index_pending(progress=update)
        return ImportResult(summary, restored, len(learned))


@contextmanager
def _stage(progress: Callable[[str], Any] | None, description: str) -> Iterator[Progress | None]:
    if progress is None:
        yield None
        return
    with progress(description) as update:
        yield update
