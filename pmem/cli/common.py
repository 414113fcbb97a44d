"""Helpers shared by the CLI commands: the runtime, stdout/stderr consoles, stdin reading."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from pmem.core.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from pmem.core.assistant import Assistant
    from pmem.core.runtime import Runtime

MAX_STDIN_BYTES = 16 * 1024 * 1024


def runtime(
    model: str | None = None, chat_format: str | None = None, *, no_adapter: bool = False, private: bool = False
) -> Runtime:
    from pmem.core.config import with_overrides
    from pmem.core.runtime import Runtime

    rt = Runtime.load()  # the caller closes it: ``with runtime() as rt:``
    rt.use_adapter = not no_adapter
    rt.private = private
    if chat_format:
        rt.settings = with_overrides(rt.settings, model__chat_format=chat_format)
    rt.model_override = model
    return rt


def assistant(rt: Runtime) -> Assistant:
    from pmem.core.assistant import Assistant

    return Assistant(rt)


def console(stderr: bool = False, *, markup: bool = True) -> Console:
    """A Rich console; ``markup=False`` where printed text is the user's or a model's (brackets are literal)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, markup=markup)


def read_stdin_text() -> str:
    """All of stdin as text; binary data or invalid UTF-8 is refused with a one-line error."""
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise InputError(f"input on stdin is larger than {MAX_STDIN_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in data:
        raise InputError("input on stdin contains NUL bytes: it looks binary, pipe text instead")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input on stdin is not valid UTF-8 (byte {exc.start}); pipe UTF-8 text instead") from None


def stdin_is_piped() -> bool:
    try:
        return not sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
