"""``pmem ask`` and ``pmem chat --plain`` end to end against the real embedded model, and their bad-input errors."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, run_pmem

pytestmark = pytest.mark.slow


def _rows(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "data" / "pmem.sqlite3")
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_ask_answers_offline_reproducibly_and_journals_both_turns(pmem_home: Path) -> None:
    args = ("ask", "--temperature", "0", "--max-tokens", "24", "What is the capital of France?")
    first = run_pmem(*args, home=pmem_home)
    # The same question in a second new home: the same prompt, so greedy gives the same answer. (Asked again in
    # the first home, the first exchange is a memory in the prompt, and the answer may differ.)
    second = run_pmem(*args, home=pmem_home.parent / "a-second-home")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() and first.stderr == ""
    assert first.stdout == second.stdout
    rows = _rows(pmem_home, "SELECT role, content, status FROM turns ORDER BY id")
    assert [r[0] for r in rows] == ["user", "assistant"]
    assert rows[0][1] == "What is the capital of France?"
    assert rows[1][1] == first.stdout.strip() and rows[1][2] == "complete"


def test_ask_reads_a_piped_question(pmem_home: Path) -> None:
    proc = run_pmem("ask", "--temperature", "0", "--max-tokens", "8", home=pmem_home, input=b"Say hello.\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert _rows(pmem_home, "SELECT content FROM turns WHERE role = 'user'") == [("Say hello.",)]


def test_no_memory_writes_nothing(pmem_home: Path) -> None:
    proc = run_pmem("ask", "--no-memory", "--max-tokens", "4", "private question", home=pmem_home)
    assert proc.returncode == 0, proc.stderr
    assert not (pmem_home / "data" / "pmem.sqlite3").exists()


def test_plain_chat_transcript_and_journal(pmem_home: Path) -> None:
    script = b"Hello there.\n/help\n/new\nName a colour.\n/quit\n"
    proc = run_pmem("chat", "--plain", home=pmem_home, input=script, env={"PMEM_CHAT_TEMPERATURE": "0", "PMEM_CHAT_MAX_TOKENS": "12"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pmem · ")
    assert "/new     start a new conversation" in proc.stdout
    assert "(new conversation)" in proc.stdout
    sessions = _rows(pmem_home, "SELECT session_id, role, content FROM turns ORDER BY id")
    assert [(r[1], r[2]) for r in sessions if r[1] == "user"] == [("user", "Hello there."), ("user", "Name a colour.")]
    assert sessions[0][0] != sessions[2][0], "/new starts a new session"


def test_plain_chat_goes_on_after_its_open_conversation_is_forgotten(pmem_home: Path) -> None:
    """Another process forgets the conversation a ``--plain`` chat has open: the next message is answered (in a
    new conversation), and no file pmem keeps holds the forgotten words."""
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_") or k == "PMEM_EMBEDDER_EXPORT_DIR"}
    env.update(PMEM_HOME=str(pmem_home), PMEM_DISTILL_AUTO="false", PMEM_CHAT_TEMPERATURE="0", PMEM_CHAT_MAX_TOKENS="8")
    chat = subprocess.Popen([sys.executable, "-m", "pmem", "chat", "--plain"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=str(ROOT))
    assert chat.stdin is not None
    chat.stdin.write(b"My locker code is QX-5512.\n")
    chat.stdin.flush()
    database = pmem_home / "data" / "pmem.sqlite3"

    def replied() -> str | None:
        if not database.exists():
            return None
        try:
            with sqlite3.connect(database) as conn:
                row = conn.execute("SELECT session_id FROM turns WHERE role = 'assistant'").fetchone()
        except sqlite3.OperationalError:  # the file exists but its tables are not made yet
            return None
        return row[0] if row else None

    session = None
    for _ in range(3000):  # an upper bound, not a timing assumption: the loop ends as soon as the reply is stored
        if (session := replied()) is not None or chat.poll() is not None:
            break
        time.sleep(0.1)
    assert session is not None, chat.stderr.read() if chat.poll() is not None else "no reply stored"
    forgot = run_pmem("memory", "forget", "--session", session, "--yes", home=pmem_home)
    assert forgot.returncode == 0, forgot.stderr
    out, err = chat.communicate(b"What is the capital of Peru?\n", timeout=600)
    assert chat.returncode == 0, err.decode()
    assert "Error" not in err.decode() and "Traceback" not in err.decode()
    rows = _rows(pmem_home, "SELECT role, content FROM turns ORDER BY id")
    assert [r[0] for r in rows] == ["user", "assistant"] and rows[0][1] == "What is the capital of Peru?" and rows[1][1]
    leaks = [str(f) for f in pmem_home.rglob("*") if f.is_file() and b"QX-5512" in f.read_bytes()]
    assert leaks == [], "no file pmem keeps holds the forgotten conversation"


# ---------------------------------------------------------------- bad input


def test_missing_model_path(pmem_home: Path) -> None:
    proc = run_pmem("ask", "--model", "/nonexistent/model.gguf", "hi", home=pmem_home)
    assert_one_line_error(proc, "model file not found: /nonexistent/model.gguf")


def test_non_gguf_file(pmem_home: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("this is not a model\n" * 10)
    proc = run_pmem("ask", "--model", str(bogus), "hi", home=pmem_home)
    assert_one_line_error(proc, "is not a GGUF model file")


def test_truncated_gguf(pmem_home: Path, tmp_path: Path, embedded_model: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with embedded_model.open("rb") as src:
        cut.write_bytes(src.read(4096))
    proc = run_pmem("ask", "--model", str(cut), "hi", home=pmem_home)
    assert_one_line_error(proc, "truncated or corrupt")


def test_gguf_with_valid_metadata_but_missing_weights(pmem_home: Path, tmp_path: Path, embedded_model: Path) -> None:
    cut = tmp_path / "noweights.gguf"
    with embedded_model.open("rb") as src:
        cut.write_bytes(src.read(3_000_000))
    proc = run_pmem("ask", "--model", str(cut), "hi", home=pmem_home)
    assert_one_line_error(proc, "llama.cpp cannot load")


def test_model_path_is_a_directory(pmem_home: Path, tmp_path: Path) -> None:
    proc = run_pmem("ask", "--model", str(tmp_path), "hi", home=pmem_home)
    assert_one_line_error(proc, "is a directory")


def test_unwritable_data_dir(pmem_home: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits; a path under a regular file can never be created.
        blocker = pmem_home.parent / "blocker"
        blocker.write_text("")
        proc = run_pmem("ask", "hi", home=blocker / "home")
    else:
        pmem_home.mkdir()
        pmem_home.chmod(0o500)
        proc = run_pmem("ask", "hi", home=pmem_home)
    assert_one_line_error(proc, "cannot create data directory")


def test_empty_question(pmem_home: Path) -> None:
    assert_one_line_error(run_pmem("ask", home=pmem_home), "empty question")
    assert_one_line_error(run_pmem("ask", "   ", home=pmem_home, input=b"  \n"), "empty question")


def test_binary_pipe(pmem_home: Path) -> None:
    proc = run_pmem("ask", home=pmem_home, input=b"\x7fELF\x02\x01\x00\x00binary")
    assert_one_line_error(proc, "NUL bytes")
    assert proc.returncode == 2


def test_invalid_utf8_pipe(pmem_home: Path) -> None:
    proc = run_pmem("ask", home=pmem_home, input=b"caf\xe9 au lait")
    assert_one_line_error(proc, "not valid UTF-8")


def test_unknown_chat_format(pmem_home: Path) -> None:
    proc = run_pmem("ask", "--chat-format", "vicuna", "hi", home=pmem_home)
    assert_one_line_error(proc, "unknown chat format 'vicuna'")


def test_prompt_larger_than_the_context_is_truncated_and_the_user_told(pmem_home: Path) -> None:
    long_question = ("tell me about the weather " * 2000 + "What is 2+2?").encode()
    proc = run_pmem("ask", "--max-tokens", "4", home=pmem_home, input=long_question, env={"PMEM_MODEL_N_CTX": "1024"})
    assert proc.returncode == 0, proc.stderr
    assert "its middle was left out" in proc.stderr


def test_a_one_shot_chat_opens_its_memory_while_the_model_loads(pmem_home: Path) -> None:
    """``pmem ask`` and the plain chat send at once: the model, the embedder and the vector store start loading when
    the chat is opened, each on its own thread, while the memory layers are imported; the full-screen app does not
    (it paints first)."""
    import time

    from pmem.core.assistant import Assistant
    from pmem.core.runtime import Runtime

    rt = Runtime.load()
    try:
        Assistant(rt).open_chat()
        deadline = time.monotonic() + 120
        while (rt.memory.embedder._model is None or rt.memory.vectors._collection is None or not rt.engine.loaded) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.memory.embedder._model is not None and rt.memory.vectors._collection is not None
        assert rt.engine.loaded, "the model loaded on its own thread: nothing here asked for a reply"
        llama = rt.engine.llama
        rt.engine.load()
        assert rt.engine.llama is llama, "a later load() finds the model the thread loaded"
    finally:
        rt.close()
    rt = Runtime.load()
    try:
        Assistant(rt).open_chat(interactive=True)
        time.sleep(0.5)
        assert rt.memory.embedder._model is None, "the full-screen app warms its memory after the first paint"
        assert not rt.engine.loaded, "... and loads its model after the first paint"
    finally:
        rt.close()
