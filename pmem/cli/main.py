"""The ``pmem`` command: registers one sub-app or command per module and turns errors into one line."""

from __future__ import annotations

import os
import sys

import typer

from pmem import __version__
from pmem.cli import ask, backup, chat, config, distill, doctor, feedback, memory, models, paths, profile, serve, transfer
from pmem.core.errors import PmemError

app = typer.Typer(
    name="pmem",
    help="A terminal chat assistant with a local, lifelong memory. Run with no command to chat.",
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pmem {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True),
) -> None:
    """A terminal chat assistant with a local, lifelong memory. Run with no command to chat."""
    if ctx.invoked_subcommand is None:
        chat.chat(plain=False, model=None, chat_format=None, no_memory=False, no_adapter=False)


app.command("ask")(ask.ask)
app.command("chat")(chat.chat)
app.command("distill")(distill.distill)
app.command("doctor")(doctor.doctor)
app.command("serve")(serve.serve)
app.command("mcp")(serve.mcp)
app.command("paths")(paths.paths)
app.command("import")(transfer.import_command)
app.command("export")(transfer.export_command)
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)
app.add_typer(profile.app, name="profile")
app.add_typer(memory.app, name="memory")
app.add_typer(config.app, name="config")
app.add_typer(models.app, name="models")
app.add_typer(feedback.app, name="feedback")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; user errors are one line on stderr and a non-zero exit, never a traceback."""
    try:
        app(args=argv, prog_name="pmem")
    except PmemError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (e.g. `pmem ask … | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("PMEM_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set PMEM_DEBUG=1 to see the traceback)", 70)


def _fail(message: str, code: int) -> None:
    line = " ".join(message.split())
    sys.stderr.write(f"pmem: error: {line}\n")
    sys.stderr.flush()
    sys.exit(code)
