"""``pmem doctor``: check the model, the embedder, the data dir and versions; print a short table."""

from __future__ import annotations

import typer

from pmem.cli.common import console


def doctor() -> None:
    """Check that pmem can run here: model, embedder, data dir, config, versions."""
    from rich.table import Table

    from pmem.core.doctor import checks

    rows = checks()
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("check")
    table.add_column("")
    table.add_column("detail", overflow="fold")
    for name, ok, detail in rows:
        table.add_row(name, "[green]ok[/]" if ok else "[yellow]warn[/]" if ok is None else "[red]FAIL[/]", detail)
    console().print(table)
    if any(ok is False for _, ok, _ in rows):
        raise typer.Exit(1)
