"""``pmem mcp``: pmem's memory as an MCP server over stdio (the official ``mcp`` SDK), for desktop apps, editors
and agents. Tools search, remember and forget; the profile is a tool and a resource. What a client writes is
journaled (a conversation per day, source ``mcp``) and forgettable like a chat; forgetting by text needs a
second, confirming call, so a tool can never erase in bulk by accident."""

from __future__ import annotations

import json
import threading
from typing import Any

from pmem.core.assistant import Assistant
from pmem.core.errors import PmemError


def build_server(assistant: Assistant) -> Any:
    """The MCP server over ``assistant``; its tools run one at a time (one SQLite writer, one model)."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer(
        "pmem",
        instructions=(
            "pmem is the user's private, local memory: what they said in past conversations and the facts about them "
            "learned from it. Search it before answering questions about the user; remember what they ask you to."
        ),
    )
    lock = threading.Lock()

    def guarded(action: Any) -> str:
        with lock:
            try:
                return action()
            except PmemError as exc:
                return f"error: {exc}"

    @server.tool()
    def search_memory(query: str, k: int = 5) -> str:
        """Search what the user said in past conversations (meaning, words and recency, as pmem's chat does).
        Returns JSON: each memory's id, date, text and score."""

        def run() -> str:
            hits = assistant.memories.search(query, max(1, min(int(k), 50)))
            return json.dumps(assistant.memories.hit_dicts(hits), ensure_ascii=False)

        return guarded(run)

    @server.tool()
    def remember(text: str) -> str:
        """Remember something about the user, in their words (e.g. "I prefer tabs over spaces")."""
        return guarded(lambda: assistant.note(text))

    @server.tool()
    def forget(query_or_id: str, confirm: bool = False) -> str:
        """Forget a memory or turn by id, or everything containing some text. By text, the first call only says
        what matches; call again with confirm=true to forget it from every store."""
        return guarded(lambda: assistant.forget_what(query_or_id, confirm=confirm))

    @server.tool()
    def profile() -> str:
        """What pmem knows about the user: current facts, one per line."""
        return guarded(lambda: assistant.profile.text() or "nothing is known about the user yet")

    @server.resource("pmem://profile", name="profile", mime_type="text/plain")
    def profile_resource() -> str:
        """The user's profile: current facts, one per line."""
        return guarded(lambda: assistant.profile.text())

    return server


def serve_stdio(assistant: Assistant) -> None:
    build_server(assistant).run("stdio")
