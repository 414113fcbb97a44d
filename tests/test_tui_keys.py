"""Every key the help screen advertises works where the user's focus is: in the message box and in the memory panel.

The test walks ``pmem.tui.keys.KEYS``, the same table the help screen renders and the app binds, so a key cannot
be advertised untested: a key with no effect check below fails the test.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pmem.tui.app import PmemApp
from pmem.tui.keys import KEYS, Key
from pmem.tui.screens.conversations_screen import ConversationsScreen
from pmem.tui.screens.help_screen import HelpScreen
from pmem.tui.widgets.chat_view import ChatView
from pmem.tui.widgets.memory_panel import MemoryPanel
from pmem.tui.widgets.message_bubble import MessageBubble
from pmem.tui.widgets.prompt_input import PromptInput
from tests.test_tui import SIZE, _ready, _runtime, wait_until

pytestmark = pytest.mark.slow

# A real editor stand-in: it edits the profile file it is given (sets the city, Oslo then Bergen), or rewrites a
# reply it is given.
EDITOR = r"""
import pathlib, re, sys
path = pathlib.Path(sys.argv[1])
if path.suffix == ".md":
    path.write_text("The reply I wanted, written in the test editor.\n")
    sys.exit(0)
text = path.read_text()
city = "Bergen" if 'city = "Oslo"' in text else "Oslo"
if "[location]" in text:
    text = re.sub(r'city = ".*"', f'city = "{city}"', text)
else:
    text += f'\n[location]\ncity = "{city}"\n'
path.write_text(text)
"""

FOCUS = ("prompt", "memory panel")


def _focus(app: PmemApp, where: str) -> None:
    if where == "prompt":
        app.query_one(PromptInput).focus()
    else:
        app.query_one("#facts").focus()


async def _send(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    prompt = app.query_one(PromptInput)
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


def _city(app: PmemApp) -> str | None:
    facts = [f for f in app.runtime.layers.profile.store.current() if f.attribute == "city"]
    return facts[0].value if facts else None


async def _check(pilot, key: Key, where: str) -> None:  # type: ignore[no-untyped-def]
    """Press ``key`` with the focus at ``where`` and assert its effect."""
    app: PmemApp = pilot.app
    press = key.keys.split(",")[0]
    if not key.typing and where == "prompt":
        prompt = app.query_one(PromptInput)
        prompt.value = ""
        _focus(app, where)
        await pilot.press(press)
        typed = {"question_mark": "?", "plus": "+", "minus": "-"}.get(press, press)
        assert not isinstance(app.screen, HelpScreen) and prompt.value == typed, f"{press} types a character in the message box"
        prompt.value = ""
        return
    effects: dict[str, Callable[[], Awaitable[None]]] = {}

    async def cancel() -> None:
        await _send(pilot, "Write a very long story about a lighthouse keeper.")
        await wait_until(pilot, lambda: len(app.chat._reply_text) >= 2)
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: app.chat._bubble is None)
        await app.workers.wait_for_complete()
        assert app.query(MessageBubble).last().cancelled

    async def new_conversation() -> None:
        await _send(pilot, "Hello there.")
        await wait_until(pilot, lambda: app.chat._bubble is None and app.chat.service.session is not None)
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: len(app.query_one(ChatView).children) == 0)
        assert app.chat.service.session is None

    async def opens(screen: type) -> None:
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: isinstance(app.screen, screen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, screen))

    async def conversations() -> None:
        await opens(ConversationsScreen)

    async def toggle_memory() -> None:
        panel = app.query_one(MemoryPanel)
        hidden = panel.has_class("-hidden")
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: panel.has_class("-hidden") != hidden)
        if panel.has_class("-hidden"):
            await pilot.press(press)  # show it again: the next check focuses it
            await wait_until(pilot, lambda: not panel.has_class("-hidden"))

    async def edit_profile() -> None:
        before = _city(app)
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: _city(app) not in (None, before))
        assert _city(app) in ("Oslo", "Bergen")

    async def help_() -> None:
        await opens(HelpScreen)

    async def undo_learned() -> None:
        name = "Ines" if where == "prompt" else "Marta"
        await _send(pilot, f"My sister is called {name}.")
        await wait_until(pilot, lambda: any(name in v.statement for v in app.chat._learned))
        assert any(name in str(n.message) and "Ctrl+Z undo" in str(n.message) for n in app._notifications), "the notice says so"
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: not any(f.value == name for f in app.runtime.layers.profile.store.current()))

    def feedback_on(turn_id: int) -> list[tuple[str, str]]:
        rows = app.runtime.journal.conn.execute("SELECT kind, text FROM feedback WHERE turn_id = ? ORDER BY id", (turn_id,))
        return [(r[0], r[1]) for r in rows]

    async def a_reply() -> int:
        if app.chat.service.last.assistant_turn is None or app.chat.service.session is None:
            await _send(pilot, "Tell me something about the sea.")
            await wait_until(pilot, lambda: app.chat._bubble is None and app.chat.service.last.assistant_turn is not None)
        return app.chat.service.last.assistant_turn.id

    async def regenerate() -> None:
        old = await a_reply()
        bubbles = len(app.query(MessageBubble))
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: app.chat._bubble is None and app.chat.service.last.assistant_turn.id != old)
        assert ("retry", "") in feedback_on(old) and len(app.query(MessageBubble)) == bubbles

    async def thumb(kind: str, mark: str) -> None:
        reply = await a_reply()
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: (kind, "") in feedback_on(reply))
        await wait_until(pilot, lambda: mark in str(app.query(MessageBubble).last().query_one(".who").render()))

    async def thumb_up() -> None:
        await thumb("up", "👍")

    async def thumb_down() -> None:
        await thumb("down", "👎")

    async def edit_reply() -> None:
        reply = await a_reply()
        _focus(app, where)
        await pilot.press(press)
        await wait_until(pilot, lambda: ("edit", "The reply I wanted, written in the test editor.") in feedback_on(reply))

    effects.update(
        regenerate=regenerate, thumb_up=thumb_up, thumb_down=thumb_down, edit_reply=edit_reply,
        undo_learned=undo_learned,
        cancel=cancel, new_conversation=new_conversation, conversations=conversations, toggle_memory=toggle_memory,
        edit_profile=edit_profile, help=help_,
    )
    assert key.action in effects, f"key {key.shown_as} ({key.action}) is advertised but has no effect check here"
    await effects[key.action]()


async def test_every_advertised_key_works_with_focus_in_the_prompt_and_in_the_memory_panel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    rt = _runtime(tmp_path, max_tokens=300, long_replies=True)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        for key in KEYS:
            if key.action == "quit":
                continue  # below, one app per focus
            for where in FOCUS:
                await _check(pilot, key, where)
        assert _city(app) == "Bergen", "the editor ran twice, once from each focus"
    rt.close()
    for where in FOCUS:
        rt = _runtime(tmp_path / where.replace(" ", "-"))
        app = PmemApp(rt)
        async with app.run_test(size=SIZE) as pilot:
            _focus(app, where)
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: not app.is_running)
        rt.close()
