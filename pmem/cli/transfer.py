"""``pmem import`` and ``pmem export``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from pmem.cli.common import console, runtime


def import_command(file: Path = typer.Argument(..., help="A pmem export, a generic sessions file, or ChatGPT's conversations.json.")) -> None:
    """Import conversations into the journal and index them; importing the same file twice adds nothing."""
    from pmem.cli.progress import progress_bar
    from pmem.core.transfer import import_facts, import_sessions, read_import

    source = read_import(file)  # read as a stream and validated completely before anything is written
    rt = runtime()
    rt.distill_on_close = True
    with progress_bar("Importing conversations") as update:
        summary = import_sessions(rt.journal, source.kind, source.sessions(), progress=update, total=source.sessions_total)
    facts = import_facts(rt.journal.conn, source.facts())
    learned = []
    if source.kind != "pmem" and summary.session_ids:  # a pmem export carries its profile; others teach it
        with progress_bar("Learning about you") as update:
            learned = rt.profile.learn_history(summary.session_ids, progress=update)
    memory = rt.memory
    memory.reconcile()
    if memory.notice:
        console(stderr=True).print(f"pmem: {memory.notice}")
    with progress_bar("Indexing memories") as update:
        memory.index_pending(progress=update)
    typer.echo(
        summary.line()
        + (f"; {facts} profile fact(s) restored" if facts else "")
        + (f"; learned {len(learned)} profile fact(s)" if learned else "")
    )
    rt.close()


def export_command(file: Optional[Path] = typer.Argument(None, help="Write here instead of stdout.")) -> None:
    """Export everything pmem knows (journal, profile, memory metadata) as one JSON file."""
    from pmem.core.transfer import export_all

    rt = runtime()
    data = export_all(rt.journal.conn, embedder=rt.settings.embedder.name)
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if file is None:
        sys.stdout.write(text + "\n")
        return
    # Atomic: a crash mid-write never leaves a half-written export where a good one was.
    fd, tmp = tempfile.mkstemp(prefix=".pmem-export-", dir=str(file.parent.absolute()))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.replace(tmp, file)
    console(stderr=True).print(f"exported {len(data['sessions'])} session(s) to {file}")
