"""``pmem paths``: every location pmem reads or writes."""

from __future__ import annotations

import json

import typer


def paths(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Print every location pmem reads or writes."""
    from pmem.core.config import resolve_paths

    locations = resolve_paths().as_dict()
    if as_json:
        typer.echo(json.dumps({k: str(v) for k, v in locations.items()}, indent=2))
        return
    width = max(len(k) for k in locations)
    for name, path in locations.items():
        typer.echo(f"{name:<{width}}  {path}")
