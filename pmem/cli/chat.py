"""``pmem chat``: the conversation. ``--plain`` is a line-based REPL for terminals where a TUI is unwanted."""

from __future__ import annotations

import sys
from typing import Optional

from typing import TYPE_CHECKING, Any

import typer

from pmem.cli.common import assistant, runtime

if TYPE_CHECKING:
    from pmem.core.assistant import Assistant
    from pmem.core.runtime import Runtime

HELP = """Commands:
  /remember TEXT   store a fact about you in the profile, now
  /forget TEXT     forget matching profile facts
  /profile         show what pmem knows about you
  /new     start a new conversation
  /model [NAME]    show the model (and the others found); switch to NAME, keeping the conversation
  /good, /bad      tell pmem the last reply was good or bad (it learns how you like answers)
  /edit TEXT       the reply you wanted instead of the last one
  /retry           answer the last message again (the old reply is kept, marked regenerated)
  /help    show this help
  /quit    leave (Ctrl+D works too)
Ctrl+C while a reply streams cancels it; the partial reply is kept."""


def chat(
    plain: bool = typer.Option(False, "--plain", help="Line-based REPL instead of the full-screen app."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="A model for this run: a name from 'pmem models' or a path to a GGUF file."),
    chat_format: Optional[str] = typer.Option(None, "--chat-format", help="Chat template for a GGUF without one."),
    no_memory: bool = typer.Option(False, "--no-memory", help="Private session: no memory used, nothing written."),
    no_adapter: bool = typer.Option(False, "--no-adapter", help="Chat with the base model alone, without the distilled adapter."),
) -> None:
    """Chat with pmem (a full-screen app; --plain for a line-based REPL)."""
    with runtime(model, chat_format, no_adapter=no_adapter, private=no_memory) as rt:
        rt.distill_on_close = True
        if plain or not sys.stdout.isatty() or not sys.stdin.isatty():
            run_plain(rt)
            return
        from pmem.tui.app import run_app

        run_app(rt)


def _model_command(a: Assistant, service: Any, name: str) -> str:
    from pmem.core.errors import PmemError

    try:
        if name:
            return a.models.switch(service, name)
        engine = a.runtime.engine
        names = ", ".join(m.name for m in a.models.found() if m.chat)
        return f"model: {engine.model_name} (context {engine.n_ctx} tokens); found here: {names}; /model NAME switches"
    except PmemError as exc:
        return f"error: {exc}"


def _stream(out: Any, service: Any, reply: Any) -> None:
    """Print a reply as it streams; Ctrl+C cancels it (the partial reply is kept), an error is one line."""
    from pmem.core.errors import PmemError

    try:
        first = True
        for piece in reply:
            if first and service.last.note:
                out.write(f"({service.last.note})\n")
            first = False
            out.write(piece)
            out.flush()
        out.write("\n")
    except KeyboardInterrupt:
        reply.close()
        out.write(" [cancelled]\n")
    except PmemError as exc:
        reply.close()
        sys.stderr.write(f"pmem: error: {exc}\n")
    finally:
        reply.close()


def run_plain(rt: Runtime) -> None:
    """The line-based REPL; the caller closes the runtime."""
    from pmem.core.errors import PmemError

    a = assistant(rt)
    service = a.open_chat()
    out = sys.stdout
    interactive = sys.stdin.isatty()
    service.warm()
    mode = " · private: nothing is remembered" if rt.private else ""
    out.write(f"pmem · {rt.engine.model_name}{' + adapter' if rt.engine.adapter_id else ''}{mode} · /help for commands, Ctrl+D to quit\n")
    for note in (rt.adapter_note, getattr(rt.engine, "adapter_error", "")):
        if note:
            out.write(f"(note: {note})\n")
    out.flush()
    while True:
        try:
            line = input("› " if interactive else "")
        except EOFError:
            break
        except KeyboardInterrupt:
            out.write("\n")
            break
        except UnicodeDecodeError:
            sys.stderr.write("pmem: error: that line is not valid UTF-8; it was not sent\n")
            continue
        text = line.strip()
        if not text:
            continue
        if "\x00" in text:
            sys.stderr.write("pmem: error: that line contains NUL bytes; it was not sent\n")
            continue
        if text.startswith("/"):
            command = text.split()[0].lower()
            if command in ("/quit", "/exit", "/q"):
                break
            if command == "/new":
                service.new_session()
                out.write("(new conversation)\n")
            elif command == "/help":
                out.write(HELP + "\n")
            elif command in ("/remember", "/forget"):
                arg = text[len(command):].strip()
                if not arg:
                    out.write(f"usage: {command} TEXT\n")
                elif rt.private:
                    out.write("private session: nothing is remembered or forgotten\n")
                else:
                    out.write((a.profile.remember(arg) if command == "/remember" else a.profile.forget_said(arg)) + "\n")
            elif command == "/profile":
                out.write((a.profile.text() or "pmem has not learned anything about you yet.") + "\n")
            elif command == "/model":
                out.write(_model_command(a, service, text[len(command):].strip()) + "\n")
            elif command in ("/good", "/bad", "/edit"):
                kind = {"/good": "up", "/bad": "down", "/edit": "edit"}[command]
                try:
                    out.write(a.feedback.give(service, kind, text[len(command):].strip()) + "\n")  # type: ignore[arg-type]
                except PmemError as exc:
                    out.write(f"error: {exc}\n")
            elif command == "/retry":
                try:
                    _stream(out, service, a.feedback.regenerate(service))
                except PmemError as exc:
                    out.write(f"error: {exc}\n")
            else:
                out.write(f"unknown command {command}; /help lists them\n")
            out.flush()
            continue
        _stream(out, service, service.send(text))  # stops any anticipation still running, under the service's lock
        out.flush()
        # While the user reads and types, pre-load related memories into the KV cache.
        rt.in_background("pmem-anticipate", service.anticipate)
    service.stop_background()
