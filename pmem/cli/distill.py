"""``pmem distill``: train the profile and memories into a LoRA adapter, or see and switch adapters."""

from __future__ import annotations

import os
import sys

import typer

from pmem.cli.common import console, runtime


def distill(
    status: bool = typer.Option(False, "--status", help="Show the adapters, which one is live, and what is new since."),
    off: bool = typer.Option(False, "--off", help="Stop using adapters (kept on disk; --on turns them back on)."),
    on: bool = typer.Option(False, "--on", help="Use the newest adapter again."),
    clear: bool = typer.Option(False, "--clear", help="Delete every adapter."),
    background: bool = typer.Option(False, "--background", help="Train in a low-priority background process and return."),
    epochs: int = typer.Option(0, "--epochs", min=0, help="Passes over the examples (0: distill.epochs)."),
    background_run: bool = typer.Option(False, "--background-run", hidden=True),
) -> None:
    """Distill what pmem knows about you into a small LoRA adapter that the model loads on top of its weights."""
    if sum([status, off, on, clear, background]) > 1:
        from pmem.core.errors import InputError

        raise InputError("use one of --status, --off, --on, --clear, --background at a time")
    with runtime() as rt:
        _distill(rt, status=status, off=off, on=on, clear=clear, background=background, epochs=epochs, background_run=background_run)


def _distill(rt, *, status: bool, off: bool, on: bool, clear: bool, background: bool, epochs: int, background_run: bool) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.config import save_setting

    out = console(markup=False)
    if off or on:
        save_setting(rt.paths, "distill.use_adapter", on)
        out.print("Adapters are on: chats load the newest one." if on else "Adapters are off: chats use the base model alone.")
        return
    if status:
        _status(rt)
        return
    if clear:
        count = rt.distill.store.clear()
        removed = rt.distill.store.sweep()
        out.print(f"Cleared {count} adapter{'s' if count != 1 else ''} ({len(removed)} file{'s' if len(removed) != 1 else ''} deleted).")
        return
    rt.distill.require_extra()
    if background:
        started = rt.distill.start_background()
        out.print("Distilling in the background; `pmem distill --status` shows when it is done." if started else "A distillation is already running.")
        return
    if background_run:
        _run_in_background(rt, epochs)
        return
    _run(rt, epochs)


def _run(rt, epochs: int) -> None:  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out = console(markup=False)
    err = console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(), console=err, disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=None, loss="")

        def show(p) -> None:  # type: ignore[no-untyped-def]  # the core's distill.service.Progress
            bar.update(
                task, description=p.stage, completed=p.done, total=p.total or None,
                loss=f"loss {p.loss:.3f}" if p.loss is not None else "",
            )

        if rt.distill.running():
            # Another process (a background run) is training for this data dir: wait for it, showing its progress.
            err.print("A distillation is already running for this data dir; waiting for it (Ctrl+C stops waiting, not the run).", soft_wrap=True)
            try:
                made = rt.distill.wait_for_running(on_progress=show)
            except KeyboardInterrupt:
                bar.stop()
                out.print("Stopped waiting; the distillation in progress goes on (`pmem distill --status`).")
                raise typer.Exit(130) from None
            bar.stop()
            if made is None:
                out.print("The distillation in progress made no new adapter.")
            else:
                out.print(f"Trained {rt.distill.describe(made)} (by the run that was in progress).")
            return
        report = rt.distill.run(on_progress=show, epochs=epochs or None)
    if report.adapter is None:
        out.print(report.skipped)
        if report.skipped.startswith("discarded"):
            raise typer.Exit(1)
        return
    out.print(f"Trained {report.summary()}.")
    out.print("pmem applies it from the next chat or question (`pmem distill --off` to stop).")


def _run_in_background(rt, epochs: int) -> None:  # type: ignore[no-untyped-def]
    """The child process ``--background`` starts: lowest priority, pauses while a chat turn is answered, and
    logs one line without personal data."""
    import time

    _lowest_priority()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    report = rt.distill.run_queued(epochs=epochs or None)
    sys.stdout.write(f"{started} distill: {report.summary() if report.adapter else report.skipped}\n")


def _lowest_priority() -> None:
    """CPU niceness 19 and the idle I/O class: a background run takes only what nothing else wants."""
    try:
        os.nice(19 - os.nice(0))
    except OSError:
        pass
    try:
        import psutil

        psutil.Process().ionice(psutil.IOPRIO_CLASS_IDLE)
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # psutil absent or not Linux: CPU niceness alone


def _status(rt) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    out = console(markup=False)
    d = rt.distill
    live = d.active()
    adapters = d.store.all()
    out.print(f"Adapters: {'on' if rt.settings.distill.use_adapter else 'off'} · base model {d.model_path.name} ({d.fingerprint[:12]})")
    if live is not None:
        out.print(f"Live: {live.id}, made {live.created_at[:19].replace('T', ' ')} from {live.facts} facts and {live.episodes} memories")
    else:
        out.print("Live: none")
    for other in d.foreign():
        out.print(f"Not used: {other.id} was trained on another model ({other.base_name})")
    changes = d.changes()
    out.print(
        f"New since the last adapter: {'a forgotten source' if changes >= 1 << 30 else changes} "
        f"(automatic retrain at {rt.settings.distill.min_new}, {'on' if rt.settings.distill.auto else 'off'})"
    )
    if d.running():
        out.print("A distillation is running now.")
    elif (waiting := d.queued()) is not None:
        out.print(f"Queued since {waiting['since'].replace('T', ' ')}: waiting because {waiting['reason']}.")
    if d.missing_extra():
        out.print(f"Training needs the distill extra: {d.install_hint}")
    if adapters:
        table = Table(box=None)
        for column in ("id", "made", "status", "facts", "memories", "examples", "loss", "MB"):
            table.add_column(column, no_wrap=column in ("id", "made"))
        for a in adapters[:10]:
            loss = f"{a.final_loss:.2f}" if a.final_loss is not None else ""
            state = f"stale: {a.reason}" if a.status == "stale" and a.reason else a.status
            table.add_row(a.id, a.created_at[:16].replace("T", " "), state, str(a.facts), str(a.episodes), str(a.examples), loss, f"{a.bytes / 1e6:.1f}")
        out.print(table)
