"""No byte leaves, even on a busy machine: every command that starts a model or the embedder, traced with strace.

A native library's background thread (ONNX Runtime's telemetry was one) calls the C library directly, so the
audit hook of ``test_offline.py`` cannot see it, and on a quiet machine the process often exits before that thread
runs. Here each command runs under ``strace -f`` with CPU-bound processes beside it, and lingers a few seconds after
its work is done (in the same process), so that any thread that wants to send has its chance. Any connect to a
non-loopback address and any DNS query fails the test, naming the destination and the name asked for.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import EXPORTS, ROOT, share_dense
from tests.net_trace import TRACED, Leak, dns_name, leaks

LINGER_S = 4.0
"""How long each command's process stays alive after its work: a background thread's time to send."""

RUN = (
    "import sys, time\n"
    "from pmem.cli.entry import main\n"
    "code = 0\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    f"time.sleep({LINGER_S})\n"
    "sys.exit(code)\n"
)
SPIN = "import time\nend = time.monotonic() + 900\nwhile time.monotonic() < end:\n    sum(range(10_000))\n"

HISTORY = {"sessions": [
    {"id": "trace-1", "started_at": "2025-03-02T09:00:00Z", "turns": [
        {"role": "user", "content": "I live in Oslo and I work as a nurse at the university hospital."},
        {"role": "assistant", "content": "Oslo is a lovely city."},
        {"role": "user", "content": "My dog is a border collie called Pepper."},
        {"role": "assistant", "content": "Pepper sounds like a clever dog."}]},
    {"id": "trace-2", "started_at": "2025-04-11T18:30:00Z", "turns": [
        {"role": "user", "content": "I started learning the cello this spring."},
        {"role": "assistant", "content": "The cello is a wonderful instrument."}]},
]}


def _strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("strace is missing: .ci/run installs it so that this test never skips in CI")
        pytest.skip("strace is not installed (apt-get install strace)")
    return found


@contextmanager
def _busy(n: int = 2) -> Iterator[None]:
    """CPU-bound processes beside the traced command, as on a laptop that is compiling something."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env.update({"PMEM_HOME": str(home), EXPORTS: os.environ[EXPORTS], "PMEM_DISTILL_AUTO": "false", "COLUMNS": "200"})
    return env


def _traced(strace: str, log: Path, args: list[str]) -> list[str]:
    # --seccomp-bpf: only the traced calls stop the process (ptrace on every futex made the model crawl).
    return [strace, "-f", "--seccomp-bpf", "-qq", "-s", "256", "-e", f"trace={TRACED}", "-o", str(log), sys.executable, "-c", RUN, *args]


def _run(strace: str, log: Path, home: Path, args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        _traced(strace, log, args), input=stdin, capture_output=True, text=True, env={**_env(home), **(env or {})},
        timeout=900, cwd=str(ROOT),
    )
    assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.stdout


def _serve(strace: str, log: Path, home: Path) -> None:
    """``pmem serve`` answering one request from a client on loopback (the client is not traced: it is this test)."""
    from tests.test_model_server import _free_port

    env = _env(home)
    token = subprocess.run([sys.executable, "-m", "pmem", "serve", "--show-token"], env=env, capture_output=True, text=True, check=True).stdout.strip()
    port = _free_port()
    # Its own process group: Ctrl+C reaches pmem itself, not only strace (which would detach and leave it running).
    proc = subprocess.Popen(_traced(strace, log, ["serve", "--port", str(port)]), env=env, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", method="POST",
        data=json.dumps({"model": "pmem", "messages": [{"role": "user", "content": "Where do I live?"}], "max_tokens": 8}).encode(),
        headers={"Authorization": f"Bearer {token}"},
    )
    deadline = time.monotonic() + 600
    try:
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "pmem serve never answered"
            try:
                with urllib.request.urlopen(request, timeout=300) as response:
                    assert json.loads(response.read())["choices"][0]["message"]["content"] is not None
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        time.sleep(LINGER_S)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=300)


def _mcp(strace: str, log: Path, home: Path) -> None:
    """``pmem mcp`` driven by the MCP SDK's stdio client: remember, then search."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    command = _traced(strace, log, ["mcp"])
    params = StdioServerParameters(command=command[0], args=command[1:], env=_env(home), cwd=str(ROOT))

    async def session() -> str:
        async with Client(params) as client:
            await client.call_tool("remember", {"text": "I keep bees on the roof of my building."})
            found = (await client.call_tool("search_memory", {"query": "bees", "k": 3})).content[0].text  # type: ignore[union-attr]
            await asyncio.sleep(LINGER_S)
            return str(found)

    assert "bees" in asyncio.run(session())


def test_the_trace_reader_finds_a_lookup_and_a_connection() -> None:
    """The reader itself, on lines as strace writes them: a DNS query (with its name), a remote connect; loopback passes."""
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06mobile\x06events\x04data\x09microsoft\x03com\x00\x00\x01\x00\x01"
    escaped = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\{b:03o}" for b in query)  # as strace: 3 digits
    log = "\n".join([
        '101 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = 0',
        '101 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4653, si_uid=0, si_status=0} ---',
        f'101 sendto(5, "{escaped}", {len(query)}, MSG_NOSIGNAL, NULL, 0) = {len(query)}',
        '102 connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2603:1030::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
        '103 connect(8, {sa_family=AF_INET, sin_port=htons(8765), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '104 connect(9, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '105 connect(3, {sa_family=AF_UNIX, sun_path="/tmp/x.sock"}, 110) = 0',
    ])
    assert dns_name(query) == "mobile.events.data.microsoft.com"
    assert leaks(log) == [
        Leak("101", "connect", "10.0.0.2:53", "mobile.events.data.microsoft.com"),
        Leak("102", "connect", "2603:1030::1:443"),
    ]


@pytest.mark.slow
def test_no_command_reaches_the_network_on_a_busy_machine(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The import first (the others read what it stored), then every other command at once, each on its own copy
    of the imported home: the machine is busier still, and the test takes the time of the slowest command rather
    than of all of them in turn."""
    strace = _strace()
    history = tmp_path / "history.json"
    history.write_text(json.dumps(HISTORY))
    logs = tmp_path / "traces"
    logs.mkdir()
    imported = tmp_path / "imported"
    dense = request.getfixturevalue("dense_cache") if importlib.util.find_spec("peft") is not None else None

    def step(name: str, run: object) -> tuple[str, list[Leak]]:
        log = logs / f"{name.replace(' ', '-')}.log"
        home = tmp_path / f"home-{name.replace(' ', '-')}"
        if name != "import":
            shutil.copytree(imported, home)
        if name == "distill" and dense is not None:
            share_dense(dense, home)  # the dense base as an earlier run left it: what is traced is the training stack
        started = time.monotonic()
        run(log, home)  # type: ignore[operator]
        print(f"{name}: {time.monotonic() - started:.1f} s under strace and load")
        assert log.is_file(), f"{name}: strace wrote no log"
        return name, leaks(log.read_text(errors="replace"))

    steps = {
        "memory search": lambda log, home: _run(strace, log, home, ["memory", "search", "Oslo", "--json"]),
        "memory reindex": lambda log, home: _run(strace, log, home, ["memory", "reindex"]),
        "profile rebuild": lambda log, home: _run(strace, log, home, ["profile", "rebuild", "--no-model"]),
        "ask": lambda log, home: _run(strace, log, home, ["ask", "--temperature", "0", "--max-tokens", "12", "What is my dog called?"]),
        "chat --plain": lambda log, home: _run(
            strace, log, home, ["chat", "--plain"],
            stdin="Hello!\nWhere do I live?\nWhat instrument am I learning?\n",
            env={"PMEM_CHAT_MAX_TOKENS": "12", "PMEM_CHAT_TEMPERATURE": "0"},
        ),
        # What reaches the network, if anything, is in loading the training stack, not in how long it trains.
        "distill": lambda log, home: _run(strace, log, home, ["distill"], env={
            "PMEM_DISTILL_EPOCHS": "1", "PMEM_DISTILL_MAX_EXAMPLES": "2", "PMEM_DISTILL_THREADS": "1", "PMEM_DISTILL_LOW_MEMORY": "false"}),
        "serve": lambda log, home: _serve(strace, log, home),
        "mcp": lambda log, home: _mcp(strace, log, home),
    }
    from concurrent.futures import ThreadPoolExecutor

    with _busy():
        found = dict([step("import", lambda log, home: _run(strace, log, home, ["import", str(history)]))])
        shutil.copytree(tmp_path / "home-import", imported)
        with ThreadPoolExecutor(len(steps)) as pool:
            found.update(pool.map(lambda item: step(*item), steps.items()))
    report = "; ".join(f"{name}: " + ", ".join(map(str, bad)) for name, bad in found.items() if bad)
    assert set(found) == {"import", *steps}
    assert not report, f"network use: {report}"
