"""The chat's slash commands, in one table: ``SlashCommands`` dispatches by it and the help screen lists it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError
from pmem.core.runtime import Runtime
from pmem.tui.reply_feedback import ReplyFeedback
from pmem.tui.texts import STILL_LOADING, STILL_REPLYING


@dataclass(frozen=True)
class Slash:
    name: str
    handler: str
    """The ``SlashCommands`` method that runs it, given the name typed and the argument (``""`` when none)."""
    usage: str = ""
    """How the help screen writes it; empty for the commands the key table already names."""
    does: str = ""
    needs_text: bool = False
    """Refused with a usage line when typed without an argument."""


COMMANDS: tuple[Slash, ...] = (
    Slash("/remember", "remember", "`/remember TEXT`", "store a fact about you now", needs_text=True),
    Slash("/forget", "forget", "`/forget TEXT`", "forget matching facts", needs_text=True),
    Slash("/profile", "profile", "`/profile`", "show what pmem knows about you"),
    Slash("/new", "new", "`/new`", "start a new conversation"),
    Slash("/model", "model", "`/model [NAME]`", "show the model and the others found; switch to NAME, keeping the conversation"),
    Slash("/export", "export", "`/export [FILE]`", "save this conversation as Markdown"),
    Slash("/help", "help", "`/help`", "this help"),
    Slash("/good", "feedback"),
    Slash("/bad", "feedback"),
    Slash("/edit", "feedback"),
    Slash("/retry", "feedback"),
)
BY_NAME = {c.name: c for c in COMMANDS}


def parse(text: str) -> tuple[Slash | None, str, str]:
    """``/name arg`` -> (its command or None, the name as typed in lower case, the argument)."""
    name, _, arg = text.partition(" ")
    name = name.lower()
    return BY_NAME.get(name), name, arg.strip()


def help_rows() -> str:
    """The Markdown rows of the help screen's slash-command table."""
    return "\n".join(f"| {c.usage} | {c.does} |" for c in COMMANDS if c.usage)


class SlashHost(Protocol):
    """What the commands need of the chat screen."""

    runtime: Runtime
    assistant: Assistant
    feedback: ReplyFeedback
    app: Any

    @property
    def replying(self) -> bool: ...
    @property
    def reading(self) -> bool: ...
    def ready(self, what: str = ...) -> bool: ...
    def switch_model(self, name: str) -> None: ...
    model_state: str
    async def say(self, text: str) -> None: ...
    def run_core(self, job: Callable[[], str]) -> Any: ...
    def action_export(self, path: str | None = None) -> None: ...
    async def action_new_conversation(self) -> None: ...
    def notify(self, message: str, *, severity: Any = "information", timeout: float | None = None) -> None: ...


class SlashCommands:
    def __init__(self, host: SlashHost) -> None:
        self.host = host

    async def run(self, text: str) -> None:
        command, name, arg = parse(text)
        if command is None:
            self.host.notify(f"Unknown command {name}; /help lists them.", severity="warning")
        elif command.needs_text and not arg:
            self.host.notify(f"Usage: {name} TEXT", severity="warning")
        else:
            handler: Callable[[str, str], Awaitable[None] | None] = getattr(self, command.handler)
            result = handler(name, arg)
            if result is not None:
                await result

    def help(self, _name: str, _arg: str) -> None:
        self.host.app.action_help()

    async def new(self, _name: str, _arg: str) -> None:
        await self.host.action_new_conversation()

    def model(self, _name: str, arg: str) -> None:
        if not arg:
            self.host.app.run_worker(self._list_models, thread=True, group="core", exit_on_error=False)
        elif self.host.replying:
            self.host.notify(STILL_REPLYING, severity="warning")
        elif self.host.ready():
            self.host.switch_model(arg)

    def _list_models(self) -> None:
        host = self.host
        engine = host.runtime.engine_open if host.model_state == "ready" else None
        lines = [f"Model: **{engine.model_name}** · context {engine.n_ctx} tokens" if engine else "Model: not loaded"]
        try:
            found = [m for m in host.assistant.models.found() if m.chat]
        except PmemError as exc:
            found, lines = [], [*lines, str(exc)]
        if found:
            lines.append("Found here: " + ", ".join(f"`{m.name}`" for m in found) + " · `/model NAME` switches")
        host.app.call_from_thread(host.say, "\n\n".join(lines))

    async def profile(self, _name: str, _arg: str) -> None:
        if not self.host.reading:
            self.host.notify(STILL_LOADING)
            return
        block = self.host.assistant.profile.text()
        await self.host.say("**What pmem knows about you**\n\n" + (block or "Nothing yet."))

    def _may_change_memory(self) -> bool:
        if not self.host.ready():
            return False
        if self.host.runtime.private:
            self.host.notify("Private session: nothing is remembered or forgotten.", severity="warning")
            return False
        return True

    def remember(self, _name: str, arg: str) -> None:
        if self._may_change_memory():
            self.host.run_core(lambda: self.host.assistant.profile.remember(arg))

    def forget(self, _name: str, arg: str) -> None:
        if self._may_change_memory():
            self.host.run_core(lambda: self.host.assistant.profile.forget_said(arg))

    def feedback(self, name: str, arg: str) -> None:
        self.host.feedback.command(name, arg)

    def export(self, _name: str, arg: str) -> None:
        self.host.action_export(arg or None)
