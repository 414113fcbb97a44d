"""``pmem config``: show the effective settings and where they come from."""

from __future__ import annotations

import typer

app = typer.Typer(help="Show the configuration.", no_args_is_help=True)


@app.command("show")
def show() -> None:
    """Print the effective settings (defaults, config file, PMEM_* variables) as TOML."""
    from pmem.core.config import load_settings, resolve_paths, to_toml

    paths = resolve_paths()
    settings = load_settings(paths)
    state = "" if paths.config_file.exists() else " (not present; defaults shown)"
    typer.echo(f"# config file: {paths.config_file}{state}")
    typer.echo(to_toml(settings), nl=False)


@app.command("path")
def path() -> None:
    """Print the path of the config file."""
    from pmem.core.config import resolve_paths

    typer.echo(str(resolve_paths().config_file))
