"""Reading an ``strace`` log for what left the process: connects to non-loopback addresses and DNS queries.

A Python audit hook sees only Python's own sockets; a native library's thread (ONNX Runtime's telemetry, say)
calls the C library directly, so the proof of "no network" traces system calls instead. What counts:
- ``connect`` to an ``AF_INET`` / ``AF_INET6`` address outside loopback (127.0.0.0/8, ::1);
- any datagram sent to port 53 (``sendto``/``sendmsg``/``sendmmsg``), and any ``connect`` to port 53 on any address,
  with the name it asks for.
A ``connect`` to nscd's local socket is not counted: the C library asks it for user and group names too (and it
reaches the network only through a DNS query, which is counted).
"""

from __future__ import annotations

import codecs
import ipaddress
import re
from dataclasses import dataclass

TRACED = "connect,sendto,sendmsg,sendmmsg"
"""The system calls to pass to ``strace -e trace=``."""

_INET = re.compile(r"sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\(\"([^\"]+)\"\)")
_INET6 = re.compile(r"sa_family=AF_INET6, sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, \"([^\"]+)\"")
_UNIX = re.compile(r"sa_family=AF_UNIX, sun_path=\"([^\"]+)\"")
_PAYLOAD = re.compile(r"^\d*\s*\w+\(\d+, (?:\[\{msg_hdr=\{[^\"]*?iov_base=)?\"((?:[^\"\\]|\\.)*)\"")


@dataclass(frozen=True)
class Leak:
    pid: str
    call: str
    destination: str
    name: str = ""

    def __str__(self) -> str:
        asked = f" asking for {self.name}" if self.name else ""
        return f"pid {self.pid}: {self.call} to {self.destination}{asked}"


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def dns_name(payload: bytes) -> str:
    """The first question's name in a DNS query (empty if ``payload`` is not one)."""
    labels, i = [], 12
    while i < len(payload):
        size = payload[i]
        if size == 0 or size > 63:
            break
        labels.append(payload[i + 1 : i + 1 + size].decode("ascii", "replace"))
        i += 1 + size
    return ".".join(labels)


def _payload(line: str) -> bytes:
    match = _PAYLOAD.search(line)
    if not match:
        return b""
    try:
        return codecs.escape_decode(match.group(1).encode("latin-1"))[0]  # type: ignore[no-any-return]
    except (ValueError, UnicodeEncodeError):
        return b""


def leaks(log: str) -> list[Leak]:
    """Every connection or lookup in ``log`` (``strace -f -s 256 -e trace=TRACED``) that is not loopback."""
    found: list[Leak] = []
    resolver: dict[tuple[str, str], int] = {}
    """(pid, fd) of a socket connected to port 53 -> its entry in ``found``, named by the first query sent on it."""
    for line in log.splitlines():
        call = next((c for c in TRACED.split(",") if f"{c}(" in line), "")
        if not call:
            continue
        pid = line.split(None, 1)[0] if line[:1].isdigit() else "?"
        fd = line.split(f"{call}(", 1)[1].split(",", 1)[0]
        if _UNIX.search(line):
            continue
        addressed = False
        for pattern in (_INET, _INET6):
            for port, address in pattern.findall(line):
                addressed = True
                if port == "53":
                    found.append(Leak(pid, call, f"{address}:53", dns_name(_payload(line))))
                    if call == "connect":
                        resolver[(pid, fd)] = len(found) - 1
                elif not _loopback(address):
                    found.append(Leak(pid, call, f"{address}:{port}"))
        if not addressed and call != "connect" and (pid, fd) in resolver:
            i = resolver[(pid, fd)]
            if not found[i].name:
                found[i] = Leak(found[i].pid, found[i].call, found[i].destination, dns_name(_payload(line)))
    return found
