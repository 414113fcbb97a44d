"""A local stand-in for the Hugging Face Hub's download endpoints, for ``pmem models pull`` tests.

It answers what huggingface_hub asks for, as the hub does: ``HEAD``/``GET /{repo}/resolve/{revision}/{file}`` with
``X-Repo-Commit``, ``X-Linked-Etag`` (the SHA-256) and ``X-Linked-Size``, byte ranges for resuming, and
``/api/models/{repo}/tree/{revision}`` for listing. Loopback only: no test reaches outside the machine."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFile:
    repo: str
    name: str
    path: Path
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            digest = hashlib.sha256()
            with self.path.open("rb") as handle:
                while chunk := handle.read(8 << 20):
                    digest.update(chunk)
            self.sha256 = digest.hexdigest()


@dataclass
class Hub:
    """What the server serves and how it misbehaves, changeable between requests."""

    files: list[HubFile] = field(default_factory=list)
    corrupt: bool = False
    """Serve other bytes than the checksum says (one byte flipped in the middle)."""
    advertised_size: int | None = None
    """Claim this size in the metadata (a file too big for the disk)."""
    slow: bool = False
    """Send slowly (1 MiB every 50 ms), so that a test can stop a pull half-way."""
    log: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, Range header) of each request."""

    def find(self, repo: str, name: str) -> HubFile | None:
        return next((f for f in self.files if f.repo == repo and f.name == name), None)


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _resolve(self) -> HubFile | None:
            m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+?)(\?.*)?$", self.path)
            return hub.find(m.group(1), m.group(3)) if m else None

        def _missing(self) -> None:
            body = b'{"error":"Entry not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _headers(self, f: HubFile, status: int, length: int, start: int = 0) -> None:
            size = f.path.stat().st_size
            self.send_response(status)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("X-Linked-Etag", f'"{f.sha256}"')
            self.send_header("ETag", f'"{f.sha256}"')
            self.send_header("X-Linked-Size", str(hub.advertised_size or size))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            hub.log.append(("HEAD", self.path, self.headers.get("Range", "")))
            f = self._resolve()
            if f is None:
                return self._missing()
            self._headers(f, 200, f.path.stat().st_size)

        def do_GET(self) -> None:  # noqa: N802
            hub.log.append(("GET", self.path, self.headers.get("Range", "")))
            tree = re.match(r"^/api/models/([^/]+/[^/?]+)/tree/[^?]+", self.path)
            if tree:
                listing = [{"type": "file", "path": f.name, "size": f.path.stat().st_size, "oid": f.sha256[:40]}
                           for f in hub.files if f.repo == tree.group(1)]
                body = json.dumps(listing).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            f = self._resolve()
            if f is None:
                return self._missing()
            size = f.path.stat().st_size
            start = 0
            if m := re.match(r"bytes=(\d+)-", self.headers.get("Range", "")):
                start = int(m.group(1))
            self._headers(f, 206 if start else 200, size - start, start)
            middle = size // 2
            try:
                with f.path.open("rb") as handle:
                    handle.seek(start)
                    at = start
                    while chunk := handle.read(1 << 20):
                        if hub.corrupt and at <= middle < at + len(chunk):
                            i = middle - at
                            chunk = chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1 :]
                        self.wfile.write(chunk)
                        at += len(chunk)
                        if hub.slow:
                            time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class HubServer:
    """``with HubServer(hub) as url:`` serves ``hub`` on a free loopback port."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
        self.server.daemon_threads = True

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
