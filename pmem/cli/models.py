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

    with runtime() as rt:
        a = assistant(rt)
        found = a.models()
        try:
            current = a.current_model().resolve()
        except Exception:  # noqa: BLE001 - a broken configured model is one of the rows, not a reason to fail
            current = None
    if as_json:
        typer.echo(json.dumps([m.as_dict() | {"current": m.path.resolve() == current} for m in found], indent=2))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "name", "arch", "params", "quant", "context", "size", "from", "notes"):
        table.add_column(column, overflow="fold")
    for m in found:
        notes = [m.note] if m.note else []
        if m.chat and m.trainable:
            notes.append("adapters")
        mark = "*" if current is not None and m.chat and m.path.resolve() == current else ""
        style = "" if m.chat else "dim"
        table.add_row(
            mark, escape(m.name), m.architecture or "?", _count(m.parameters) if m.chat or m.parameters else "",
            m.quantization, str(m.context_length or ""), _size(m.size) if m.size else "", m.source,
            escape("; ".join(notes)), style=style,
        )
    console().print(table)
    typer.echo("pmem models use NAME   chat with one of them (pmem chat --model NAME: for one session)")


@app.command("use")
def use(name: str = typer.Argument(..., help="A name from 'pmem models', 'embedded', or a path to a GGUF file.")) -> None:
    """Make NAME the chat model (writes model.path in the config file)."""
    with runtime() as rt:
        change = assistant(rt).use_model(name)
    for line in change.lines():
        typer.echo(line)
