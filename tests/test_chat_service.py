"""The chat service writes the user's turn durably before the model produces anything."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from pmem.core.chat import ChatService
from pmem.core.engine.base import GenerationParams
from pmem.core.config import Settings, resolve_paths
from pmem.core.store.db import connect
from pmem.core.store.journal import Journal

pytestmark = pytest.mark.slow


def _service(engine, home: Path) -> ChatService:  # type: ignore[no-untyped-def]
    paths = resolve_paths({"PMEM_HOME": str(home)})
    paths.ensure_data_dir()
    settings = Settings()
    settings.chat.temperature = 0.0
    settings.chat.max_tokens = 40
    return ChatService(settings=settings, paths=paths, engine=engine, journal=Journal(connect(paths.database)))


def test_user_turn_is_committed_before_the_first_token(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = _service(engine, tmp_path)
    reply = service.send("Tell me about owls.")
    first = next(reply)
    # A second, independent connection sees the committed user turn while the reply is still streaming.
    other = sqlite3.connect(tmp_path / "data" / "pmem.sqlite3")
    assert other.execute("SELECT role, content FROM turns").fetchall() == [("user", "Tell me about owls.")]
    rest = "".join(reply)
    rows = other.execute("SELECT role, content, status FROM turns ORDER BY id").fetchall()
    assert rows[1] == ("assistant", (first + rest).strip(), "complete")


def test_cancelled_reply_is_kept_and_marked(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = _service(engine, tmp_path)
    cancel = threading.Event()
    pieces = []
    for piece in service.send("Write a long poem about the sea.", cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()
    turns = service.journal.turns(service.session.id)  # type: ignore[union-attr]
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[1].status == "cancelled" and turns[1].content == "".join(pieces).strip()
    assert service.last.cancelled


def test_history_is_carried_between_turns(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = _service(engine, tmp_path)
    "".join(service.send("My name is Ada."))
    prompt = service.build("What is my name?")
    contents = [m["content"] for m in prompt.messages]
    assert contents[1] == "My name is Ada." and contents[-1] == "What is my name?"
    resumed = _service(engine, tmp_path)
    resumed.resume(service.session)  # type: ignore[arg-type]
    assert resumed.history == service.history


def test_saved_prefix_state_is_restored_in_a_new_process(tmp_path: Path, embedded_model) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.engine.llama import LlamaCppEngine

    system = "You are pmem. " + " ".join(f"The user owns item {i}." for i in range(120))
    cache = tmp_path / "kv"
    first = LlamaCppEngine(embedded_model, n_ctx=2048, n_threads=2)
    assert first.prime_prefix(system, cache) == "computed"
    assert first.prime_prefix(system, cache) == "cached"
    first.close()
    second = LlamaCppEngine(embedded_model, n_ctx=2048, n_threads=2)  # a fresh llama.cpp context, as after a restart
    assert second.prime_prefix(system, cache) == "restored"
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "Hi"}]
    "".join(second.stream(messages, GenerationParams(temperature=0.0, max_tokens=4)))  # type: ignore[arg-type]
    stats = second.last_stats
    assert stats.prompt_tokens > 700 and stats.prompt_eval_tokens < 20, stats
    # A different prefix (the profile changed) never loads the old state, and replaces it on disk.
    assert second.prime_prefix(system + " The user moved.", cache) == "computed"
    assert len(list(cache.glob("*.kv"))) == 1
    second.close()


def test_forgetting_the_open_conversation_leaves_the_chat_usable(engine, home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The defect: the service kept the forgotten turns in its history and the next message failed on a foreign
    key (its session was gone). Now a forget anywhere (this process or another) makes the chat re-read the journal."""
    from pmem.core.chat import ChatService

    home.settings.chat.temperature = 0.0
    home.settings.chat.max_tokens = 8
    service = ChatService(settings=home.settings, paths=home.paths, engine=engine, journal=home.journal, recall=home.memory)
    "".join(service.send("My locker code is QX-5512."))
    first = service.session
    assert first is not None
    home.forget.session(first.id)
    "".join(service.send("What is the capital of Peru?"))  # answered, not an IntegrityError
    assert service.session is not None and service.session.id != first.id
    assert all("QX-5512" not in m["content"] for m in service.history), "the live chat holds no forgotten text"
    rows = home.conn.execute("SELECT role, content FROM turns ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["user", "assistant"] and rows[0][1] == "What is the capital of Peru?"

    # Forgetting one exchange of the open conversation from another connection (another process, a face):
    "".join(service.send("My bike is a green Gazelle."))
    other = connect(home.paths.database)
    try:
        from pmem.core.forget import Forgetter
        from pmem.core.memory.service import MemoryService
        from pmem.core.store.journal import Journal

        elsewhere = MemoryService(home.settings, home.paths, other, embedder=home.memory.embedder)
        Forgetter(Journal(other), elsewhere, home.paths).matching("green Gazelle")
    finally:
        other.close()
    "".join(service.send("Thanks!"))
    # The forgotten turn is gone from what the chat sends. (`--match` forgets the turns that contain the text; the
    # model's reply to it stays unless it contains the text too, so the reply's wording is not asserted on.)
    assert all("green Gazelle" not in m["content"] for m in service.history), service.history
    assert all("green Gazelle" not in m["content"] for m in service.last.prompt.messages)  # type: ignore[union-attr]
    rows = home.conn.execute("SELECT role, content FROM turns ORDER BY id").fetchall()
    assert not any("green Gazelle" in r[1] for r in rows)
    assert tuple(rows[-2]) == ("user", "Thanks!") and rows[-1][0] == "assistant"
