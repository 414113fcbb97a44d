"""``pmem serve`` driven with the real ``openai`` client, and ``pmem mcp`` with the MCP SDK's stdio client; the
real embedded model, SQLite and Chroma behind both."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXPORTS, ROOT, assert_one_line_error, run_pmem
from tests.test_model_server import _free_port

pytestmark = pytest.mark.slow
STARTUP_LIMIT_S = 300  # an upper bound for a loaded machine; the fixture goes on as soon as the server answers


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env.update({"PMEM_HOME": str(home), EXPORTS: os.environ[EXPORTS], "PMEM_DISTILL_AUTO": "false", "PMEM_CHAT_TEMPERATURE": "0"})
    return env


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


class Served:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.token = run_pmem("serve", "--show-token", home=home).stdout.strip()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pmem", "serve", "--port", str(self.port)],
            cwd=str(ROOT), env=_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=(home.parent / "serve.log").open("wb"),
        )
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            assert self.proc.poll() is None, (home.parent / "serve.log").read_text()
            try:
                urllib.request.urlopen(f"{self.url}/models", timeout=5)
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and asking for the token
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "pmem serve did not start"
            time.sleep(0.2)

    def client(self, key: str | None = None):  # type: ignore[no-untyped-def]
        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key=key or self.token, max_retries=0, timeout=600)

    def post(self, body: bytes, token: str | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.url}/chat/completions", data=body, method="POST",
            headers={"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


@pytest.fixture()
def served(pmem_home: Path) -> Iterator[Served]:
    planted = run_pmem("chat", "--plain", home=pmem_home, input=b"My dog Biscuit loves swimming in the lake at Zandvoort.\n",
                       env={"PMEM_CHAT_TEMPERATURE": "0", "PMEM_CHAT_MAX_TOKENS": "8"})
    assert planted.returncode == 0, planted.stderr
    server = Served(pmem_home)
    yield server
    server.stop()


def test_the_openai_client_gets_answers_with_memory_and_the_exchange_is_remembered(served: Served) -> None:
    client = served.client()
    assert sorted(m.id for m in client.models.list().data) == ["pmem", "pmem-private"]
    reply = client.chat.completions.create(
        model="pmem", messages=[{"role": "user", "content": "Where does my dog Biscuit like to swim?"}], max_tokens=16, temperature=0
    )
    assert reply.choices[0].message.content and reply.choices[0].finish_reason in ("stop", "length")
    used = reply.model_extra["pmem"]  # type: ignore[index]
    assert used["memories"], "the planted memory should have been put into the prompt"
    assert reply.usage is not None and reply.usage.completion_tokens > 0

    pieces = list(client.chat.completions.create(
        model="pmem", stream=True, max_tokens=12, temperature=0, stop=["\n\n"],
        messages=[{"role": "system", "content": "Answer in one short sentence."},
                  {"role": "user", "content": "Please remember that my sister Ilse plays the cello."}],
    ))
    text = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
    assert text.strip() and pieces[-1].choices[0].finish_reason in ("stop", "length")
    streamed = pieces[-1].model_extra["pmem"]  # type: ignore[index]

    private = client.chat.completions.create(model="pmem-private", messages=[{"role": "user", "content": "A secret: my PIN is 4921."}], max_tokens=4)
    assert private.model_extra["pmem"]["session"] is None  # type: ignore[index]
    assert served.stop() == 0

    found = run_pmem("memory", "search", "--json", "sister Ilse cello", home=served.home)
    assert any("Ilse plays the cello" in hit["text"] for hit in json.loads(found.stdout))
    shown = run_pmem("profile", "show", "--json", home=served.home)
    assert "4921" not in shown.stdout and not _files_containing(served.home / "data", b"4921")
    forgot = run_pmem("memory", "forget", "--session", streamed["session"], "--yes", home=served.home)
    assert forgot.returncode == 0, forgot.stderr
    assert not _files_containing(served.home / "data", b"Ilse plays the cello")


def test_tokens_bodies_and_bad_requests_get_openai_style_errors(served: Served) -> None:
    from openai import AuthenticationError

    with pytest.raises(AuthenticationError):
        served.client("wrong-token").models.list()
    status, body = served.post(b'{"model": "pmem", "messages": [{"role": "user", "content": "hi"}]}', token="nope")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    request = urllib.request.Request(f"{served.url}/models")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=30)
    assert missing.value.code == 401

    status, body = served.post(b"x" * (10 * 1024 * 1024))
    assert status == 413 and "limit" in body["error"]["message"]
    status, body = served.post(b'{"model": "pmem", "messages": [')
    assert status == 400 and body["error"]["message"] == "the request body is not valid JSON"
    status, body = served.post(b'{"model": "pmem", "messages": [{"role": "user", "content": "hi"}], "temprature": 0}')
    assert status == 400 and body["error"]["message"] == "Unrecognized request argument supplied: temprature"
    status, body = served.post(b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}')
    assert status == 404 and body["error"]["code"] == "model_not_found"
    status, body = served.post(b'{"model": "pmem", "messages": [{"role": "user", "content": "hi"}], "temperature": 7}')
    assert status == 400 and body["error"]["param"] == "temperature"


def test_two_clients_at_once_both_get_complete_answers(served: Served) -> None:
    results: dict[int, tuple[str, str | None]] = {}

    def ask(n: int) -> None:
        chunks = list(served.client().chat.completions.create(
            model="pmem", stream=True, max_tokens=24, temperature=0, messages=[{"role": "user", "content": f"Count to {n + 5}."}]
        ))
        results[n] = ("".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1].choices[0].finish_reason)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert sorted(results) == [0, 1]
    assert all(text.strip() and finish in ("stop", "length") for text, finish in results.values())


def test_a_non_loopback_bind_is_refused_without_the_flag(pmem_home: Path) -> None:
    assert_one_line_error(run_pmem("serve", "--host", "0.0.0.0", home=pmem_home), "not a loopback address", "--allow-remote")
    assert_one_line_error(run_pmem("serve", "--host", "192.168.1.20", "--port", "1", home=pmem_home), "--allow-remote")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(run_pmem("serve", "--port", str(port), home=pmem_home), f"cannot listen on 127.0.0.1:{port}", "--port")


def test_mcp_remember_search_and_forget_through_the_sdk_client(pmem_home: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "pmem", "mcp"], env=_env(pmem_home), cwd=str(ROOT))

    async def session() -> dict[str, object]:
        out: dict[str, object] = {}
        async with Client(params) as client:
            out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
            out["remember"] = (await client.call_tool("remember", {"text": "I drink genmaicha tea every morning."})).content[0].text  # type: ignore[union-attr]
            out["search"] = (await client.call_tool("search_memory", {"query": "genmaicha tea", "k": 3})).content[0].text  # type: ignore[union-attr]
            out["profile"] = (await client.call_tool("profile", {})).content[0].text  # type: ignore[union-attr]
            out["ask"] = (await client.call_tool("forget", {"query_or_id": "genmaicha"})).content[0].text  # type: ignore[union-attr]
            out["forget"] = (await client.call_tool("forget", {"query_or_id": "genmaicha", "confirm": True})).content[0].text  # type: ignore[union-attr]
            out["after"] = (await client.call_tool("search_memory", {"query": "genmaicha tea"})).content[0].text  # type: ignore[union-attr]
        return out

    out = asyncio.run(session())
    assert out["tools"] == ["forget", "profile", "remember", "search_memory"]
    assert str(out["remember"]).startswith("remembered as turn t-")
    assert any("genmaicha" in hit["text"] for hit in json.loads(str(out["search"])))
    assert "1 turn(s)" in str(out["ask"]) and "confirm=true" in str(out["ask"])
    assert "forgot" in str(out["forget"]).lower() and json.loads(str(out["after"])) == []
    assert not _files_containing(pmem_home / "data", b"genmaicha")
    sessions = run_pmem("memory", "stats", "--json", home=pmem_home)
    assert sessions.returncode == 0
