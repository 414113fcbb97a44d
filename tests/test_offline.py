"""No network at run time: a socket audit hook records every AF_INET/AF_INET6 connect and bind, and every DNS lookup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

AUDIT = r"""
import json, socket, sys
events = []
def hook(event, args):
    if event in ("socket.connect", "socket.bind"):
        sock, address = args[0], args[1]
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            events.append([event, repr(address)])
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        events.append([event, repr(args[0])])
sys.addaudithook(hook)
PROBE = {probe!r}
if PROBE:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.2)
    try:
        s.connect(("127.0.0.1", 9))
    except OSError:
        pass
from pmem.cli.main import main
try:
    main({argv!r})
except SystemExit:
    pass
sys.stderr.write("\nSOCKETS=" + json.dumps(events) + "\n")
"""


def _audited(argv: list[str], probe: bool = False) -> list[str]:
    return [sys.executable, "-c", AUDIT.format(argv=argv, probe=probe)]


def _socket_events(argv: list[str], home: Path, probe: bool = False) -> tuple[list, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env["PMEM_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT.format(argv=argv, probe=probe)], capture_output=True, text=True, env=env, timeout=300
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("SOCKETS=")]
    assert line, proc.stderr
    return json.loads(line[-1][len("SOCKETS="):]), proc.stdout


def test_the_audit_hook_sees_a_connect(tmp_path: Path) -> None:
    events, _ = _socket_events(["--version"], tmp_path, probe=True)
    assert events and events[0][0] == "socket.connect"


@pytest.mark.slow
def test_ask_opens_no_socket(tmp_path: Path) -> None:
    events, stdout = _socket_events(["ask", "--temperature", "0", "--max-tokens", "8", "Hello"], tmp_path)
    assert stdout.strip(), "pmem ask should have answered"
    assert events == []


@pytest.mark.slow
def test_serve_binds_loopback_only_and_opens_no_other_socket(tmp_path: Path) -> None:
    """``pmem serve`` listens on 127.0.0.1 and answers a client; nothing else: no connect, no lookup, no other bind."""
    import signal
    import time
    import urllib.error
    import urllib.request

    from tests.conftest import EXPORTS
    from tests.test_model_server import _free_port

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env.update({"PMEM_HOME": str(tmp_path), "PMEM_DISTILL_AUTO": "false", EXPORTS: os.environ[EXPORTS]})
    token = subprocess.run([sys.executable, "-m", "pmem", "serve", "--show-token"], env=env, capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.Popen(_audited(["serve", "--port", str(port)]), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", method="POST",
        data=json.dumps({"model": "pmem", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4}).encode(),
        headers={"Authorization": f"Bearer {token}"},
    )
    deadline = time.monotonic() + 300
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else "no answer"  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                assert json.loads(response.read())["choices"][0]["message"]["content"] is not None
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    line = [ln for ln in stderr.splitlines() if ln.startswith("SOCKETS=")]
    assert line, stderr
    events = json.loads(line[-1][len("SOCKETS="):])
    # Binds to the loopback port only (a probe that the port is free, then the server's own socket); nothing else.
    assert events and all(event == ["socket.bind", repr(("127.0.0.1", port))] for event in events), events
