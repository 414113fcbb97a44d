"""``pmem feedback``: the preference pairs learned from your feedback on replies (/good, /bad, /edit, /retry)."""

from __future__ import annotations

import json
from typing import Optional

import typer

from pmem.cli.common import assistant, runtime
from pmem.core.errors import InputError

app = typer.Typer(help="See and forget what pmem learned from your feedback on its replies.", no_args_is_help=True)


def _line(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON, with the turns each pair came from.")) -> None:
    """Preference pairs: for a message, the reply you preferred and the one you did not."""
    with runtime() as rt:
        pairs = assistant(rt).feedback.pairs()
    if as_json:
        typer.echo(json.dumps([p.as_dict() for p in pairs], indent=2, ensure_ascii=False))
        return
    if not pairs:
        typer.echo("No preferences yet: /good, /bad, /edit and /retry in a chat teach them.")
        return
    for p in pairs:
        typer.echo(f"{p.id}  {p.kind:<5}  {_line(p.prompt, 40)}\n    preferred: {_line(p.chosen)}\n    over:      {_line(p.rejected)}")


@app.command("forget")
def forget(
    pair_id: Optional[str] = typer.Argument(None, help="The pair to forget (an id from 'pmem feedback list')."),
    all_: bool = typer.Option(False, "--all", help="Forget every pair, with the thumbs and edits they came from."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Forget one preference pair, or all of them."""
    if bool(pair_id) == all_:
        raise InputError("give one pair id, or --all")
    with runtime() as rt:
        a = assistant(rt)
        if pair_id:
            a.feedback.forget_pair(pair_id)
            typer.echo(f"forgot pair {pair_id}")
            return
        if not yes and not typer.confirm("Forget every preference pair and the feedback they came from?"):
            raise typer.Abort()
        typer.echo(f"forgot {a.feedback.forget_all_pairs()} pair(s)")
