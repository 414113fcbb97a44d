"""``pmem ask``: one question, answer streamed to stdout."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional

import typer

from pmem.cli.common import assistant, read_stdin_text, runtime, stdin_is_piped
from pmem.core.errors import InputError, Interrupted

if TYPE_CHECKING:
    from pmem.core.runtime import Runtime


def ask(
    question: Optional[list[str]] = typer.Argument(None, help="The question. Text piped on stdin is appended."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="A model for this run: a name from 'pmem models' or a path to a GGUF file."),
    chat_format: Optional[str] = typer.Option(None, "--chat-format", help="Chat template for a GGUF without one (chatml, llama-3, …)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Longest reply, in tokens."),
    temperature: Optional[float] = typer.Option(None, "--temperature", "-t", min=0.0, help="0 gives reproducible answers."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed."),
    no_memory: bool = typer.Option(False, "--no-memory", help="Private one-off question: no memory used, nothing written."),
    no_adapter: bool = typer.Option(False, "--no-adapter", help="Answer with the base model alone, without the distilled adapter."),
    stats: bool = typer.Option(False, "--stats", help="Print token counts and speed on stderr afterwards."),
) -> None:
    """Ask one question and stream the answer."""
    text = " ".join(question or []).strip()
    if stdin_is_piped():
        piped = read_stdin_text().strip()
        text = f"{text}\n\n{piped}".strip() if text else piped
    if not text:
        raise InputError("empty question: give a question as an argument or pipe text on stdin")

    with runtime(model, chat_format, no_adapter=no_adapter, private=no_memory) as rt:
        _answer(rt, text, max_tokens=max_tokens, temperature=temperature, seed=seed, stats=stats)


def _answer(rt: Runtime, text: str, *, max_tokens: int | None, temperature: float | None, seed: int | None, stats: bool) -> None:
    service = assistant(rt).open_chat()
    if not rt.private:
        service.new_session(title=text[:60])
        service.warm()
    reply = service.send(text, max_tokens=max_tokens, temperature=temperature, seed=seed)  # type: ignore[arg-type]
    out = sys.stdout
    try:
        for piece in reply:
            out.write(piece)
            out.flush()
    except KeyboardInterrupt:
        raise Interrupted() from None  # the partial reply is journaled, marked cancelled (closing the reply below)
    finally:
        reply.close()
    out.write("\n")
    out.flush()
    info = service.last
    for note in (rt.adapter_note, getattr(rt.engine, "adapter_error", "")):
        if note:
            sys.stderr.write(f"pmem: note: {note}\n")
    if info.note:
        sys.stderr.write(f"pmem: {info.note}\n")
    if not rt.private and (note := assistant(rt).memories.notice()):
        sys.stderr.write(f"pmem: {note}\n")
    if info.prompt is not None and info.prompt.truncated_input:
        sys.stderr.write("pmem: note: the question was longer than the context window; its middle was left out\n")
    if stats:
        s = info.stats
        sys.stderr.write(
            f"prompt {s.prompt_tokens} tokens ({s.prompt_eval_tokens} evaluated), reply {s.completion_tokens} tokens, "
            f"first token {s.ttft_s:.2f}s, {s.tokens_per_s:.1f} tokens/s\n"
        )
