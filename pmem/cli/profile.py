"""``pmem profile``: show, edit, forget and set what pmem knows about you."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Optional

import typer

from pmem.cli.common import assistant, console, runtime
from pmem.core.errors import InputError

app = typer.Typer(help="What pmem knows about you: show, edit, forget, set.", no_args_is_help=False, invoke_without_command=True)


@app.callback()
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        show(as_json=False, history=False, recent=False)  # called directly, Typer's option defaults are not applied


def _fact_dict(f) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": f.id, "key": f.key, "category": f.category, "attribute": f.attribute, "value": f.value,
        "statement": f.statement, "confidence": f.confidence, "origin": f.origin, "learned_at": f.learned_at,
        "valid_from": f.valid_from, "valid_to": f.valid_to, "superseded_by": f.superseded_by, "sources": list(f.sources),
        "ended_by": list(f.ended_by),
    }


@app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    history: bool = typer.Option(False, "--history", help="Include superseded facts, with dates and sources."),
    recent: bool = typer.Option(
        False, "--recent", help="What was learned or ended lately (newest first), with the turns it came from."
    ),
) -> None:
    """Show the profile."""
    with runtime() as rt:
        facts = assistant(rt).profile.facts("recent" if recent else "history" if history else "current")
    history = history or recent
    if as_json:
        typer.echo(json.dumps([_fact_dict(f) for f in facts], indent=2, ensure_ascii=False))
        return
    if not facts:
        typer.echo("pmem has not learned anything about you yet.")
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    if recent:
        table.add_column("change")
    table.add_column("key")
    table.add_column("fact")
    table.add_column("learned")
    if history:
        table.add_column("until")
    table.add_column("from", justify="right")
    for f in facts:
        row = [f.key, f.statement if f.current else f"[dim]{f.statement}[/]", f.valid_from[:10]]
        if history:
            row.append(f.valid_to[:10] if f.valid_to else "current")
        if recent and f.ended_by:  # the row is about the ending: the turn that said it
            row = ["ended", *row, ", ".join(f.ended_by)]
        else:
            row.append(", ".join(f.sources) if history else (f"{len(f.sources)} turn(s)" if f.sources else f.origin))
            row = ["learned", *row] if recent else row
        table.add_row(*row)
    console().print(table)


@app.command("set")
def set_(
    key: str = typer.Argument(..., help="category.attribute, e.g. location.city or preferences.likes"),
    value: str = typer.Argument(..., help="The value, e.g. Utrecht"),
) -> None:
    """Tell pmem a fact directly (a newer value replaces a single-valued one; the old one stays in history)."""
    with runtime() as rt:
        change = assistant(rt).profile.set(key, value)
    verb = {"added": "added", "superseded": "updated", "duplicate": "already known"}[change.action]
    suffix = f" (was: {change.replaced.statement})" if change.replaced else ""
    typer.echo(f"{verb}: {change.fact.key} = {change.fact.value}{suffix}")


@app.command("forget")
def forget(
    what: Optional[str] = typer.Argument(None, help="A key (location.city), a category (people) or words of the fact."),
    all_: bool = typer.Option(False, "--all", help="Forget the whole profile."),
    with_sources: bool = typer.Option(False, "--with-sources", help="Also forget the conversation turns the facts came from."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Forget facts, their history, and (with --with-sources) the turns they came from."""
    if bool(what) == all_:
        raise InputError("give what to forget (a key, a category or words), or --all")
    with runtime() as rt:
        rt.distill_on_close = True  # a retrain without what was forgotten, if an adapter learned it
        a = assistant(rt)
        facts = a.profile.facts() if all_ else a.profile.find(what or "")
        if not facts:
            raise InputError(f"no fact in the profile matches {what!r}; see 'pmem profile show'")
        if not yes:
            for f in facts:
                typer.echo(f"  {f.key}: {f.statement}")
            if not typer.confirm(f"Forget {len(facts)} fact(s)" + (" and the turns they came from" if with_sources else "") + "?"):
                raise typer.Exit(1)
        report = a.profile.forget_all(with_sources=with_sources) if all_ else a.profile.forget(facts, with_sources=with_sources)
    message = f"forgot {report.facts} fact(s)"
    if report.turns:
        message += f" and {report.turns} turn(s) they came from"
    typer.echo(message)


@app.command("edit")
def edit() -> None:
    """Open the profile in $VISUAL/$EDITOR; on save it is validated and applied as a diff (never half-applied)."""
    with runtime() as rt:
        a = assistant(rt)
        with a.profile.draft() as path:
            command = a.editor_command(path)
            while True:
                try:
                    code = subprocess.call(command)
                except OSError as exc:
                    raise InputError(f"cannot run the editor {command[0]!r}: {exc.strerror or exc}; set $EDITOR") from None
                if code != 0:
                    raise InputError(f"the editor exited with status {code}; the profile is unchanged")
                try:
                    line = a.profile.apply_draft(path)
                    break
                except InputError as exc:
                    if not sys.stdin.isatty():
                        raise InputError(f"{exc}; the profile is unchanged") from None
                    typer.echo(f"pmem: error: {exc}", err=True)
                    if not typer.confirm("Edit again?", default=True):
                        raise InputError("edit abandoned; the profile is unchanged") from None
    typer.echo(line)


@app.command("rebuild")
def rebuild(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
    model: Optional[bool] = typer.Option(
        None, "--model/--no-model",
        help="Let the extraction model read every message too (about a second each with the embedded model, more with a bigger one), or pmem's patterns "
        "alone. Default: as the live chat does (profile.use_model).",
    ),
) -> None:
    """Re-derive every learned fact from the journal, oldest conversation first. Facts you set or edited stay."""
    from pmem.cli.progress import progress_bar

    with runtime() as rt:
        reading = rt.profile.reads_with_model(model)
        if reading:
            name = rt.extraction_model or "the embedded model"
            console(stderr=True, markup=False).print(
                f"pmem: {name} reads each of your messages first; Ctrl+C stops it and changes nothing"
            )
        with progress_bar(f"Reading with {'the model' if reading else 'the patterns'}") as update:
            before, after = assistant(rt).profile.rebuild(dry_run=dry_run, progress=update, use_model=model)
    old = {(f.key, f.value) for f in before}
    new = {(f.key, f.value) for f in after}
    out = console(markup=False)
    for f in after:
        if (f.key, f.value) not in old:
            out.print(f"+ {f.key}: {f.statement}")
    for f in before:
        if (f.key, f.value) not in new:
            out.print(f"- {f.key}: {f.statement}")
    verb = "would have" if dry_run else "has"
    out.print(f"The profile {verb} {len(after)} current fact(s) ({len(new - old)} new, {len(old - new)} gone).")
