"""A Rich progress bar on stderr, as a ``(done, total)`` callback for the core's long operations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from pmem.cli.common import console

    err = console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, transient=False, disable=not err.is_terminal,  # no bar in logs and pipes: only the outcome
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def transfer_bar() -> Iterator[Callable[[str, int, int], None]]:
    """Bytes, speed and time left for a download, then a second bar for checking it: ``(stage, done, total)``."""
    from rich.progress import (
        BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn, TransferSpeedColumn,
    )

    from pmem.cli.common import console

    err = console(stderr=True)
    labels = {"download": "Downloading", "check": "Checking sha-256"}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
        console=err, transient=False, disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total, completed=done)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
