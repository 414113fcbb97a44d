"""No network at run time: a socket audit hook records every AF_INET/AF_INET6 connect and DNS lookup."""

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
    if event == "socket.connect":
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
