"""``pmem backup`` and ``pmem restore``: copies of the journal, the one store pmem cannot rebuild."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from pmem.cli.common import assistant, console, runtime
from pmem.core.errors import InputError


def backup_command(
    to: Optional[Path] = typer.Option(None, "--to", help="A folder (e.g. a synced one) or a .sqlite3 file to write the backup to."),
) -> None:
    """Back up the journal now (checked after it is written). pmem also does it daily, and before migrations,
    imports and profile rebuilds; `pmem restore` lists the backups."""
    with runtime() as rt:
        made = assistant(rt).backups.make(to)
    typer.echo(f"backed up the journal to {made.path} ({made.size / 1e6:.1f} MB, checked)")


def restore_command(
    backup: Optional[str] = typer.Argument(None, help="A backup's name from the list, or the path of a backup file."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before replacing the journal."),
) -> None:
    """List the journal's backups, or restore one: it is checked first, and the journal it replaces is kept aside."""
    from pmem.cli.progress import progress_bar

    with runtime() as rt:
        helper = assistant(rt)
        if backup is None:
            _list(helper.backups.checked())
            return
        if not yes:
            if not sys.stdin.isatty():
                raise InputError("restoring replaces the journal (it is kept aside): add --yes to confirm")
            if not typer.confirm(f"Replace the journal with {backup}? The current one is kept aside", default=False):
                raise typer.Exit(1)
        with progress_bar("Rebuilding the memory index") as update:
            source, aside, memories = helper.backups.restore(backup, progress=update)
    kept = f"; the journal it replaced is kept at {aside}" if aside else ""
    typer.echo(f"restored {source.name}: {memories} memories indexed{kept}")


def _list(backups: list) -> None:  # type: ignore[type-arg]
    if not backups:
        typer.echo("no backups yet (pmem makes one daily when used; `pmem backup` makes one now)")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("name", overflow="fold")
    for column in ("taken (UTC)", "reason", "size", "check"):
        table.add_column(column)
    for b, verdict in backups:
        table.add_row(b.name, f"{b.taken_at:%Y-%m-%d %H:%M}", b.reason, f"{b.size / 1e6:.1f} MB", verdict)
    console().print(table)
    typer.echo("restore one with: pmem restore NAME")
