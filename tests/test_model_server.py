"""The OpenAI-compatible backend against a live server: llama-cpp-python's ``llama_cpp.server`` on 127.0.0.1
with the embedded GGUF, and pmem pointed at it with ``model.backend = "openai"`` (the path for a model that runs
on another machine's GPU). Asks, a plain chat with memory, streaming, cancelling, a server that dies in the middle
of a reply and one that is not running."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXPORTS, ROOT, assert_one_line_error, run_pmem

pytestmark = pytest.mark.slow
STARTUP_LIMIT_S = 300  # an upper bound for a loaded machine; the fixture returns as soon as the server answers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, model: Path, log: Path) -> None:
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.llama_server", "--model", str(model), "--model_alias", "smol-served",
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--n_threads", "2"],
            cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=log.open("wb"),  # a file: its log outgrows a pipe
        )
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"llama_cpp.server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("llama_cpp.server did not answer")
            time.sleep(0.2)

    def env(self, **more: str) -> dict[str, str]:
        return {"PMEM_MODEL_BACKEND": "openai", "PMEM_MODEL_BASE_URL": self.url, "PMEM_CHAT_TEMPERATURE": "0", **more}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture()
def server(embedded_model: Path, tmp_path: Path) -> Iterator[Server]:
    running = Server(embedded_model, tmp_path / "server.log")
    yield running
    running.stop()


def _turns(home: Path) -> list[tuple[str, str, str, str]]:
    conn = sqlite3.connect(home / "data" / "pmem.sqlite3")
    rows = conn.execute("SELECT role, content, model, status FROM turns ORDER BY id").fetchall()
    conn.close()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_ask_and_a_plain_chat_with_memory_through_the_server(pmem_home: Path, server: Server) -> None:
    asked = run_pmem("ask", "--max-tokens", "8", "What is the capital of France?", home=pmem_home, env=server.env())
    assert asked.returncode == 0 and asked.stdout.strip(), asked.stderr
    script = b"/remember I have a cat called Miso\nWhat is my cat called?\n"
    chat = run_pmem("chat", "--plain", home=pmem_home, input=script, env=server.env(PMEM_CHAT_MAX_TOKENS="12"))
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.splitlines()[0].startswith("pmem · smol-served")  # the name the server gives its model
    turns = _turns(pmem_home)
    assert [(t[0], t[2], t[3]) for t in turns] == [("user", "smol-served", "complete"), ("assistant", "smol-served", "complete")] * 2
    assert turns[1][1] == asked.stdout.strip() and turns[2][1] == "What is my cat called?"
    shown = run_pmem("profile", "show", home=pmem_home)
    assert "cat called Miso" in shown.stdout
    found = run_pmem("memory", "search", "capital of France", home=pmem_home)
    assert "capital of France" in found.stdout


def test_streaming_and_cancel_in_process(server: Server) -> None:
    from pmem.core.engine.base import GenerationParams
    from pmem.core.engine.openai_http import OpenAIEngine

    engine = OpenAIEngine(base_url=server.url, model="")
    engine.load()
    assert engine.model_name == "smol-served"
    messages = [{"role": "user", "content": "Count from one to twenty in words."}]
    pieces = list(engine.stream(messages, GenerationParams(max_tokens=40, temperature=0.0)))  # type: ignore[arg-type]
    assert len(pieces) > 5 and engine.last_stats.completion_tokens == len(pieces)
    cancel = threading.Event()
    got: list[str] = []
    for piece in engine.stream(messages, GenerationParams(max_tokens=200, temperature=0.0), cancel):  # type: ignore[arg-type]
        got.append(piece)
        cancel.set()
    assert len(got) == 1 and engine.last_stats.finish_reason == "cancelled"
    again = list(engine.stream(messages, GenerationParams(max_tokens=4, temperature=0.0)))  # type: ignore[arg-type]
    assert again  # the server is still serving after a cancelled stream


def test_a_server_that_dies_mid_reply_is_one_line_and_the_turn_is_kept(pmem_home: Path, server: Server) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env.update(server.env(PMEM_HOME=str(pmem_home), PMEM_DISTILL_AUTO="false", PMEM_CHAT_MAX_TOKENS="400"))
    env[EXPORTS] = os.environ[EXPORTS]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmem", "ask", "Write a long story about a lighthouse keeper."],
        cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.read(1)  # the reply has begun streaming
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    out, err = proc.communicate(timeout=120)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("pmem: error: the model server at "), err
    assert server.url in lines[0] and "Traceback" not in err.decode()
    turns = _turns(pmem_home)
    assert [(t[0], t[3]) for t in turns] == [("user", "complete"), ("assistant", "cancelled")]
    assert turns[0][1] == "Write a long story about a lighthouse keeper."


def test_a_server_that_is_not_running_is_one_line_naming_the_url(pmem_home: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    env = {"PMEM_MODEL_BACKEND": "openai", "PMEM_MODEL_BASE_URL": url}
    assert_one_line_error(run_pmem("ask", "hello", home=pmem_home, env=env), f"cannot reach the model server at {url}")
    assert_one_line_error(run_pmem("chat", "--plain", home=pmem_home, input=b"hello\n", env=env), f"cannot reach the model server at {url}")
    listed = json.loads(run_pmem("memory", "list", "--json", home=pmem_home).stdout or "[]")
    assert listed == []
