"""Every slash command the chat knows does what the help says, typed in the real app with the embedded model.

The test walks ``pmem.tui.slash_commands.COMMANDS``, the table the screen dispatches by and the help screen
lists: a command with no effect check below fails the test.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pmem.tui.app import PmemApp
from pmem.tui.screens.help_screen import HelpScreen
from pmem.tui.slash_commands import COMMANDS, help_rows
from pmem.tui.widgets.chat_view import ChatView
from pmem.tui.widgets.message_bubble import MessageBubble
from tests.test_tui import SIZE, _ready, _runtime, _type, wait_until
from tests.test_tui_keys import EDITOR

pytestmark = pytest.mark.slow


def test_the_help_lists_each_command_with_usage() -> None:
    rows = help_rows().splitlines()
    assert [r.split("`")[1].split()[0] for r in rows] == [c.name for c in COMMANDS if c.usage]
    assert all(r.count("|") == 3 for r in rows)


async def test_every_slash_command_does_what_the_help_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    rt = _runtime(tmp_path)
    app = PmemApp(rt)
    chat = app.chat

    def facts() -> list[str]:
        return [f.value for f in rt.layers.profile.store.current()]

    def feedback() -> list[tuple[str, str]]:
        turn = chat.service.last.assistant_turn  # type: ignore[union-attr]
        rows = rt.journal.conn.execute("SELECT kind, text FROM feedback WHERE turn_id = ? ORDER BY id", (turn.id,))  # type: ignore[union-attr]
        return [(r[0], r[1]) for r in rows]

    def notified(text: str) -> bool:
        return any(text in str(n.message) for n in app._notifications)

    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)

        async def system_says(command: str, text: str) -> None:
            await _type(pilot, command)
            await wait_until(pilot, lambda: text in app.query(MessageBubble).last().text)

        async def remember() -> None:
            await _type(pilot, "/remember")
            await wait_until(pilot, lambda: notified("Usage: /remember TEXT"))
            await _type(pilot, "/remember I have a cat called Miso")
            await wait_until(pilot, lambda: "Miso" in facts())

        async def forget() -> None:
            await _type(pilot, "/forget Miso")
            await wait_until(pilot, lambda: "Miso" not in facts())

        async def profile() -> None:
            await _type(pilot, "/remember I live in Utrecht")
            await wait_until(pilot, lambda: "Utrecht" in facts())
            await system_says("/profile", "Utrecht")

        async def a_reply() -> None:
            await _type(pilot, "Tell me about the sea.")
            await wait_until(pilot, lambda: chat._bubble is None and chat.service.last.assistant_turn is not None)  # type: ignore[union-attr]

        async def new() -> None:
            await a_reply()
            await _type(pilot, "/new")
            await wait_until(pilot, lambda: len(app.query_one(ChatView).children) == 0)
            assert chat.service.session is None  # type: ignore[union-attr]

        async def model() -> None:
            await system_says("/model", "Model: **")

        async def export() -> None:
            await a_reply()
            target = tmp_path / "exported.md"
            await _type(pilot, f"/export {target}")
            await wait_until(pilot, target.exists)
            assert "Tell me about the sea." in target.read_text()

        async def help_() -> None:
            await _type(pilot, "/help")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))

        async def good() -> None:
            await a_reply()
            await _type(pilot, "/good")
            await wait_until(pilot, lambda: ("up", "") in feedback())

        async def bad() -> None:
            await _type(pilot, "/bad")
            await wait_until(pilot, lambda: ("down", "") in feedback())

        async def edit() -> None:
            await _type(pilot, "/edit The sea is salty.")
            await wait_until(pilot, lambda: ("edit", "The sea is salty.") in feedback())
            await _type(pilot, "/edit")  # no text: the reply opens in the editor
            await wait_until(pilot, lambda: ("edit", "The reply I wanted, written in the test editor.") in feedback())

        async def retry() -> None:
            old = chat.service.last.assistant_turn.id  # type: ignore[union-attr]
            await _type(pilot, "/retry")
            await wait_until(pilot, lambda: chat._bubble is None and chat.service.last.assistant_turn.id != old)  # type: ignore[union-attr]
            kinds = [r[0] for r in rt.journal.conn.execute("SELECT kind FROM feedback WHERE turn_id = ?", (old,))]
            assert "retry" in kinds

        effects: dict[str, Callable[[], Awaitable[None]]] = {
            "/remember": remember, "/forget": forget, "/profile": profile, "/new": new, "/model": model, "/export": export,
            "/help": help_, "/good": good, "/bad": bad, "/edit": edit, "/retry": retry,
        }
        for command in COMMANDS:
            assert command.name in effects, f"{command.name} is known to the chat but has no effect check here"
            await effects[command.name]()
        await _type(pilot, "/frobnicate now")
        await wait_until(pilot, lambda: notified("Unknown command /frobnicate; /help lists them."))
    rt.close()
