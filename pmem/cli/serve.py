"""``pmem serve`` (an OpenAI-compatible API with memory) and ``pmem mcp`` (an MCP server over stdio)."""

from __future__ import annotations

import ipaddress
import sys
from typing import Optional

import typer

from pmem.cli.common import assistant, runtime
from pmem.core.errors import InputError


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port") from None


def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default serve.host: 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default serve.port: 8765)."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow a non-loopback --host (anyone with the token can read your memory)."),
    show_token: bool = typer.Option(False, "--show-token", help="Print the API token (made on first use) and exit."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="A model for this run: a name from 'pmem models' or a path."),
) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) with your memory, on loopback."""
    with runtime(model) as rt:
        a = assistant(rt)
        if show_token:
            typer.echo(a.api_token())
            return
        settings = rt.settings.serve
        bind = host or settings.host
        if not _loopback(bind):
            if not allow_remote:
                raise InputError(f"--host {bind} is not a loopback address; add --allow-remote to serve your memory to the network")
            sys.stderr.write(f"pmem: warning: serving on {bind}: anyone who can reach it and has the token can read your memory\n")
        _check_port(bind, port or settings.port)  # before the model loads: a taken port is a one-line error at once
        token = a.api_token()
        rt.distill_on_close = True
        import uvicorn

        from pmem.api.openai_app import create_app

        rt.engine.load()
        a.memories.warm()  # the embedder and the index, before the first request rather than during it
        app = create_app(a, token=token, max_body=settings.max_body_kb * 1024)
        url = f"http://{bind}:{port or settings.port}/v1"
        sys.stderr.write(f"pmem serve: {url} · model {rt.engine.model_name} · token: pmem serve --show-token · Ctrl+C stops\n")
        sys.stderr.flush()
        uvicorn.run(app, host=bind, port=port or settings.port, log_level="warning", access_log=False)


def mcp() -> None:
    """Serve your memory to MCP clients over stdio (search_memory, remember, forget, profile)."""
    from pmem.api.mcp_server import serve_stdio

    with runtime() as rt:
        rt.distill_on_close = True
        serve_stdio(assistant(rt))
