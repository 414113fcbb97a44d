"""A snapshot of every screen and modal (pytest-textual-snapshot). Deterministic: fixed size, fixed clock,
no cursor blink, and a scripted model reply (for the snapshots only; every other TUI test uses llama.cpp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmem.core.runtime import Runtime
from pmem.tui.app import PmemApp
from pmem.tui.screens.session_screen import SessionScreen
from pmem.tui.screens.text_prompt_screen import TextPromptScreen
from pmem.tui.views import TurnView
from tests.scripted_engine import ScriptedEngine
from tests.test_tui import _ready, _type, wait_until

SIZE = (110, 32)
FIXED_NOW = "2026-01-15T09:30:00+00:00"


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import pmem.core.profile.store as profile_store
    import pmem.core.store.journal as journal

    monkeypatch.setattr(journal, "now_iso", lambda: FIXED_NOW)
    monkeypatch.setattr(profile_store, "now_iso", lambda: FIXED_NOW)
    monkeypatch.setenv("PMEM_HOME", str(tmp_path / "home"))
    rt = Runtime.load(engine=ScriptedEngine())
    rt.settings.profile.extract = False
    application = PmemApp(rt)
    yield application
    rt.close()


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await _ready(pilot)
    app.query_one("#prompt").cursor_blink = False
    await wait_until(pilot, lambda: app.chat._bubble is None)
    layers = app.runtime._layers
    if layers is not None:  # background work shows in the status line: let it finish for a stable picture
        await wait_until(pilot, lambda: not layers.episodic.indexing and not layers.profile.pending)
        app.chat._tick()
    app.clear_notifications()
    await pilot.pause()


def test_welcome(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_streamed_reply_with_code(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await _type(pilot, "Show me some code")
        await wait_until(pilot, lambda: len(pilot.app.query("MessageBubble")) == 3)
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "HelpScreen")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_conversations_screen(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await _type(pilot, "First conversation")
        await wait_until(pilot, lambda: len(pilot.app.query("MessageBubble")) == 3 and pilot.app.chat._bubble is None)
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ConversationsScreen")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_forget_confirmation(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await _type(pilot, "/remember I live in Utrecht")
        await wait_until(pilot, lambda: any("Utrecht" in str(i.text) for i in pilot.app.query_one("#facts").children))
        facts = pilot.app.query_one("#facts")
        facts.focus()
        facts.index = 0
        await pilot.press("d")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ConfirmScreen")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_rename_prompt(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        pilot.app.push_screen(TextPromptScreen("New title for this conversation:", "Trip planning"))
        await pilot.pause()
        pilot.app.screen.query_one("Input").cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_source_conversation_screen(app, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        turns = [TurnView("user", "My sister Priya lives in Vancouver."), TurnView("assistant", "That's lovely!")]
        pilot.app.push_screen(SessionScreen("Family · 2026-01-10 18:02", turns))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PMEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PMEM_CONFIG", "/home/you/.config/pmem/config.toml")  # shown on screen: keep it fixed
    rt = Runtime.load()
    rt.model_override = "/models/missing.gguf"
    application = PmemApp(rt)
    try:
        assert snap_compare(application, terminal_size=SIZE, run_before=_settle)
    finally:
        rt.close()
