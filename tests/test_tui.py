"""The Textual app driven through Pilot, with the real embedded model, real SQLite and Chroma."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pmem.core.runtime import Runtime
from pmem.tui.app import PmemApp
from pmem.tui.widgets.message_bubble import MessageBubble

pytestmark = pytest.mark.slow
SIZE = (110, 32)


def _runtime(home: Path, max_tokens: int = 24, *, long_replies: bool = False) -> Runtime:
    """``long_replies``: a reply long enough to cancel half-way. The bare embedded model writes one; with the
    grounding adapter it may answer in a sentence once memories are in the prompt, and finish first."""
    import os

    os.environ["PMEM_HOME"] = str(home)
    rt = Runtime.load()
    rt.settings.chat.temperature = 0.0
    rt.settings.chat.max_tokens = max_tokens
    if long_replies:
        rt.settings.model.grounding_adapter = False
    return rt


async def wait_until(pilot, predicate: Callable[[], bool], limit: int = 20_000) -> None:  # type: ignore[no-untyped-def]
    """Yield to the app until ``predicate`` holds (no fixed sleeps); fail after ``limit`` turns of the loop."""
    for _ in range(limit):
        if predicate():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    prompt = app.query_one("#prompt")
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: pilot.app.chat.model_state in ("ready", "failed"))


def _facts(app: PmemApp) -> list[str]:
    return [str(item.text) for item in app.query_one("#facts").children]


async def test_first_paint_comes_before_the_model_loads(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.timeline[:3] == ["first_paint", "model_loading", "model_ready"]
        assert "Welcome to pmem" in app.query(MessageBubble).first().text
    rt.close()


async def test_a_message_gets_a_streamed_reply_that_is_journaled(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, "What is the capital of France?")  # typed while the model may still be loading
        await _ready(pilot)
        await wait_until(pilot, lambda: len(app.query(MessageBubble)) == 3 and app.chat._bubble is None)
        await app.workers.wait_for_complete()
        reply = app.query(MessageBubble).last()
        shown = reply.body.source.strip()
        assert reply.role == "assistant" and shown
        rows = rt.journal.conn.execute("SELECT role, content, status FROM turns ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [("user", "What is the capital of France?", "complete"), ("assistant", shown, "complete")]
        assert app.chat._status.tokens_per_s > 0 and app.chat._status.context_used > 0
    rt.close()


async def test_escape_cancels_and_keeps_the_partial_reply(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, max_tokens=400, long_replies=True)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _type(pilot, "Write a very long story about a dragon who learns to bake bread.")
        await wait_until(pilot, lambda: len(app.chat._reply_text) >= 3)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat._bubble is None)
        await app.workers.wait_for_complete()
        bubble = app.query(MessageBubble).last()
        assert bubble.cancelled and "cancelled" in str(bubble.query_one(".who").render())
        row = rt.journal.conn.execute("SELECT content, status FROM turns WHERE role = 'assistant'").fetchone()
        assert row["status"] == "cancelled" and row["content"] == bubble.body.source.strip()
        assert rt.engine.last_stats.completion_tokens < 400
    rt.close()


async def test_a_fact_from_one_conversation_shows_in_the_next_and_can_be_forgotten(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, max_tokens=8)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _type(pilot, "Hi! My name is Ada and I live in Utrecht.")
        await wait_until(pilot, lambda: any("lives in Utrecht" in f for f in _facts(app)))
        await pilot.press("ctrl+n")
        await _type(pilot, "Good morning.")
        await wait_until(pilot, lambda: app.chat._bubble is None and len(app.query(MessageBubble)) == 2)
        assert any("lives in Utrecht" in f for f in _facts(app))
        # Forget it from the panel, with confirmation.
        facts = app.query_one("#facts")
        facts.focus()
        index = next(i for i, f in enumerate(_facts(app)) if "Utrecht" in f)
        facts.index = index
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        await pilot.click("#yes")
        await wait_until(pilot, lambda: not any("Utrecht" in f for f in _facts(app)))
        current = [f.statement for f in rt.layers.profile.store.current()]
        assert "lives in Utrecht" not in current and "is called Ada" in current
    rt.close()


async def test_slash_commands_and_conversation_list(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, max_tokens=6)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _type(pilot, "/remember I have a cat called Miso")
        await wait_until(pilot, lambda: any("cat called Miso" in f for f in _facts(app)))
        await _type(pilot, "/profile")
        await wait_until(pilot, lambda: "has a cat called Miso" in app.query(MessageBubble).last().text)
        await _type(pilot, "Tell me a joke.")
        await wait_until(pilot, lambda: app.chat._bubble is None and app.query(MessageBubble).last().role == "assistant")
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConversationsScreen")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ != "ConversationsScreen" and len(app.query(MessageBubble)) == 2)
        assert [b.role for b in app.query(MessageBubble)] == ["user", "assistant"]
        assert app.chat.service.session is not None and app.query(MessageBubble).first().text == "Tell me a joke."
    rt.close()


async def test_no_model_explains_what_to_do(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    rt.model_override = str(tmp_path / "missing.gguf")
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.chat.model_state == "failed"
        text = app.query(MessageBubble).last().text
        assert "could not load a chat model" in text and "missing.gguf" in text and "pmem doctor" in text
    rt.close()


async def test_theme_choice_persists_in_the_config_file(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        app.theme = "textual-light"
        config = rt.paths.config_file
        await wait_until(pilot, lambda: config.exists() and 'theme = "textual-light"' in config.read_text())
    rt.close()
    from pmem.core.config import load_settings

    assert load_settings(rt.paths).ui.theme == "textual-light"
    again = PmemApp(rt)
    assert again.theme == "textual-light"


async def test_a_private_session_shows_it_and_writes_nothing(tmp_path: Path) -> None:
    from pmem.tui.widgets.status_bar import StatusBar

    rt = _runtime(tmp_path)
    rt.private = True
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _type(pilot, "My name is Ada and I live in Utrecht.")
        await wait_until(pilot, lambda: len(app.query(MessageBubble)) == 3 and app.chat._bubble is None)
        await app.workers.wait_for_complete()
        assert "private" in str(app.query_one(StatusBar).render()).split(" · ")
        assert app.query(MessageBubble).last().body.source.strip()
    rt.close()
    import sqlite3

    conn = sqlite3.connect(tmp_path / "data" / "pmem.sqlite3")
    assert conn.execute("SELECT count(*) FROM turns").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM facts").fetchone()[0] == 0
    conn.close()


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_deleting_the_open_conversation_leaves_the_chat_usable(tmp_path: Path) -> None:
    """Ctrl+O → d on the conversation that is open: the view is cleared, the next message is answered in a new
    conversation (no foreign-key error from a session that is gone), and no file keeps the forgotten words."""
    rt = _runtime(tmp_path, max_tokens=6)
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _type(pilot, "My locker code is QX-5512.")
        await wait_until(pilot, lambda: app.chat._bubble is None and app.query(MessageBubble).last().role == "assistant")
        first = app.chat.service.session
        assert first is not None and _files_containing(tmp_path, b"QX-5512"), "stored before (so the scan below means something)"
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConversationsScreen")
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        await pilot.press("y")
        await wait_until(pilot, lambda: rt.journal.session(first.id) is None and len(app.query(MessageBubble)) == 0)
        await _type(pilot, "What is the capital of Peru?")
        await wait_until(pilot, lambda: app.chat._bubble is None and len(app.query(MessageBubble)) == 2)
        assert app.query(MessageBubble).last().role == "assistant"
        rows = rt.journal.conn.execute("SELECT role, content FROM turns ORDER BY id").fetchall()
        assert [r[0] for r in rows] == ["user", "assistant"] and rows[0][1] == "What is the capital of Peru?" and rows[1][1]
        assert app.chat.service.session is not None and app.chat.service.session.id != first.id
        assert all("QX-5512" not in m["content"] for m in app.chat.service.history)
    rt.close()
    assert _files_containing(tmp_path, b"QX-5512") == [], "no file pmem keeps holds the forgotten conversation"


async def test_model_switch_keeps_the_conversation(tmp_path: Path, embedded_model: Path) -> None:
    from tests.test_models import _copy_named

    copy = _copy_named(embedded_model, tmp_path / "models" / "switched-copy.gguf", "Switched copy")
    rt = _runtime(tmp_path / "home", max_tokens=6)
    rt.settings.model.search_paths = [str(copy.parent)]
    app = PmemApp(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _type(pilot, "Hello there.")
        await wait_until(pilot, lambda: app.chat._bubble is None and len(app.query(MessageBubble)) == 3)
        await _type(pilot, "/model switched-copy")
        await wait_until(pilot, lambda: app.chat.model_state == "ready" and "Now chatting with" in app.query(MessageBubble).last().text)
        assert app.chat._status.model.rstrip(".") == "Switched copy"
        await _type(pilot, "And again.")
        await wait_until(pilot, lambda: app.chat._bubble is None and len(app.query(MessageBubble)) == 6)
        await _type(pilot, "/model nothing-here")
        await wait_until(pilot, lambda: app.chat.model_state == "ready" and any("no model named" in str(n.message) for n in app._notifications))
        assert app.chat._status.model.rstrip(".") == "Switched copy"
        assert [b.role for b in app.query(MessageBubble)][1:] == ["user", "assistant", "system", "user", "assistant"]
        rows = rt.journal.conn.execute("SELECT session_id, role, model FROM turns ORDER BY id").fetchall()
        assert len({r[0] for r in rows}) == 1
        assert [r[2].rstrip(".") for r in rows if r[1] == "assistant"][1:] == ["Switched copy"]
    rt.close()
