"""``pmem import`` and ``pmem export``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from pmem.cli.common import assistant, console, runtime


def import_command(file: Path = typer.Argument(..., help="A pmem export, a generic sessions file, or ChatGPT's conversations.json.")) -> None:
    """Import conversations into the journal and index them; importing the same file twice adds nothing."""
    from pmem.cli.progress import progress_bar

    with runtime() as rt:
        result = assistant(rt).transfer.import_file(
            file, progress=progress_bar, notice=lambda line: typer.echo(f"pmem: {line}", err=True)
        )
        if result.summary.session_ids and result.summary.format != "pmem" and rt.profile.reads_with_model():
            # Import learns by the patterns only (a model pass would take hours over a long history): say how to ask.
            console(stderr=True, markup=False).print(
                f"pmem: learned by pmem's patterns; `pmem profile rebuild` lets {rt.extraction_model} read these messages too"
            )
    typer.echo(result.line())


def export_command(file: Optional[Path] = typer.Argument(None, help="Write here instead of stdout.")) -> None:
    """Export everything pmem knows (journal, profile, memory metadata) as one JSON file."""
    with runtime() as rt:
        data = assistant(rt).transfer.export_all()
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
