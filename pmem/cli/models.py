"""``pmem models``: the GGUF models found on this computer, and ``use`` to chat with one of them."""

from __future__ import annotations

import json

import typer

from pmem.cli.common import assistant, console, runtime

app = typer.Typer(help="The GGUF models on this computer (Ollama, LM Studio, Hugging Face, GPT4All, model.search_paths).")


def _count(parameters: int | None) -> str:
    if not parameters:
        return "?"
    return f"{parameters / 1e9:.1f}B" if parameters >= 1e9 else f"{parameters / 1e6:.0f}M"


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


@app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON, with paths and every field."),
) -> None:
    """List the models found (reading files only), the current chat model marked with *."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape
    from rich.table import Table

    from pmem.core.model_check import stored_for

    with runtime() as rt:
        a = assistant(rt)
        found = a.models.found()
        try:
            current = a.models.current().resolve()
        except Exception:  # noqa: BLE001 - a broken configured model is one of the rows, not a reason to fail
            current = None
        checks = {m.path: stored_for(rt.paths, rt.settings, m.path) for m in found if m.chat}
    if as_json:
        typer.echo(json.dumps([
            m.as_dict() | {"current": m.path.resolve() == current, "check": _check_dict(checks.get(m.path))} for m in found
        ], indent=2))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "name", "arch", "params", "quant", "context", "size", "from", "check", "notes"):
        table.add_column(column, overflow="fold", no_wrap=column == "check")
    for m in found:
        notes = [m.note] if m.note else []
        if m.chat and m.trainable:
            notes.append("adapters")
        mark = "*" if current is not None and m.chat and m.path.resolve() == current else ""
        style = "" if m.chat else "dim"
        table.add_row(
            mark, escape(m.name), m.architecture or "?", _count(m.parameters) if m.chat or m.parameters else "",
            m.quantization, str(m.context_length or ""), _size(m.size) if m.size else "", m.source,
            checks[m.path].short() if checks.get(m.path) else "", escape("; ".join(notes)), style=style,
        )
    console().print(table)
    typer.echo("pmem models use NAME   chat with one of them (pmem chat --model NAME: for one session)")
    typer.echo("pmem models check NAME how well it uses pmem's memory here (check: answers · don't-knows · speed)")
    typer.echo("pmem models pull       fetch a more capable model (pmem models recommend: which one fits this computer)")


def _check_dict(result: object) -> object:
    from dataclasses import asdict, is_dataclass

    if result is None or not is_dataclass(result):
        return None
    data = asdict(result)  # type: ignore[arg-type]
    data.pop("answers", None)
    return data


@app.command("use")
def use(name: str = typer.Argument(..., help="A name from 'pmem models', 'embedded', or a path to a GGUF file.")) -> None:
    """Make NAME the chat model (writes model.path in the config file)."""
    with runtime() as rt:
        change = assistant(rt).models.use(name)
    for line in change.lines():
        typer.echo(line)


@app.command("recommend")
def recommend() -> None:
    """The catalog model that fits this computer's memory and cores with room to spare."""
    from rich.table import Table

    from pmem.core.catalog import catalog, machine, recommend as pick

    ram, cores = machine()
    best = pick(ram, cores)
    here = f"{ram / 1e9:.0f} GB of RAM" if ram else "unknown RAM"
    here += f", {cores} cores" if cores else ""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "name", "params", "download", "needs RAM", "cores", "licence"):
        table.add_column(column, overflow="fold")
    for m in catalog():
        table.add_row("*" if best is not None and m.name == best.name else "", m.name, m.params, f"{m.size_gb:.1f} GB",
                      f"{m.ram_gb:.1f} GB", f"{m.min_cores}+", m.licence, style="" if m.fits(ram, cores) else "dim")
    console().print(table)
    if best is None:
        typer.echo(f"This computer ({here}) is best served by the embedded model: none of these fits with room to spare.")
        return
    typer.echo(f"For this computer ({here}): {best.name}. Get it with: pmem models pull {best.name}")


@app.command("pull")
def pull(
    name: str = typer.Argument("", help="A catalog name (pmem models recommend), or REPO/FILE.gguf on huggingface.co; none: the recommended one."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Download without asking."),
    use: bool = typer.Option(False, "--use", help="Make it the chat model when it is here."),
) -> None:
    """Download a chat model from the Hugging Face Hub: the only pmem command that uses the network."""
    from pmem.cli.common import stdin_is_piped
    from pmem.cli.progress import transfer_bar
    from pmem.core import pull as puller
    from pmem.core.catalog import machine, recommend as pick
    from pmem.core.errors import InputError

    if not name:
        best = pick(*machine())
        if best is None:
            raise InputError("no catalog model fits this computer with room to spare: name one (pmem models recommend)")
        name = best.name
        typer.echo(f"Recommended for this computer: {best.name}")
    source = puller.parse_spec(name)
    plan = puller.plan(source)
    for line in plan.lines(puller.endpoint()):
        typer.echo(line)
    if plan.present:
        typer.echo("It is already here; nothing to fetch.")
    else:
        if not yes:
            if stdin_is_piped():
                raise InputError("not downloading without --yes: stdin is not a terminal to ask on")
            if not typer.confirm(f"Download {plan.size / 1e9:.2f} GB now?", default=True):
                raise typer.Exit(1)
        puller.check_space(plan)
        with transfer_bar() as progress:
            path = puller.download(plan, progress)
        typer.echo(f"Fetched and checked: {path}")
    short = source.name or plan.pointer.stem
    if use:
        with runtime() as rt:
            change = assistant(rt).models.use(short)
        for line in change.lines():
            typer.echo(line)
    else:
        typer.echo(f"Chat with it: pmem models use {short}   (how well it uses your memory: pmem models check {short})")


@app.command("check")
def check(
    name: str = typer.Argument("", help="A name from 'pmem models', 'embedded', or a GGUF path; none: the current chat model."),
) -> None:
    """How well a model answers from pmem's memory on this computer (about a minute for a 3B model on a laptop).

    A frozen synthetic user is imported into a throwaway home: your own memory is neither read nor changed."""
    from pmem.cli.progress import progress_bar
    from pmem.core.model_check import run_check, save

    with runtime() as rt:
        chosen = name or rt.chosen_model or "embedded"
        with progress_bar(f"Checking {chosen}") as update:
            result = run_check(rt.settings, chosen, lambda stage, done, total: update(done, total))
        save(rt.paths, result)
    for answer in result.answers:
        mark = "ok  " if answer["right"] else "MISS"
        kind = "absent " if answer["absent"] else "present"
        typer.echo(f"{mark} {kind} {answer['question']} -> {' '.join(answer['reply'].split())[:120]}")
    typer.echo(f"{chosen}: {result.summary()} ({result.seconds:.0f} s)")
