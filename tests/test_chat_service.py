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
