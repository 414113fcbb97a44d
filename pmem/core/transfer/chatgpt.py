"""ChatGPT's data export, ``conversations.json``: a list of conversations, each a tree of messages of which the
branch that ends at the current node is the conversation as the user last saw it."""

from __future__ import annotations

from typing import Any

from pmem.core.errors import InputError
from pmem.core.transfer.records import ImportSession, ImportTurn, timestamp

NAME = "chatgpt"


def claims(top: dict[str, Any] | None, item_keys: set[str]) -> bool:
    """A list whose first item has a message ``mapping``."""
    return top is None and "mapping" in item_keys


def session(conv: Any, i: int) -> ImportSession | None:
    """The conversation's current branch, user and assistant messages only; None when it has none."""
    if not isinstance(conv, dict):
        raise InputError(f"conversation {i} must be an object")
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise InputError(f"conversation {i} has no 'mapping'")
    started = timestamp(conv.get("create_time") or 0, f"conversation {i}.create_time")
    turns = [turn for node in _branch(mapping, conv.get("current_node")) if (turn := _turn(node, started)) is not None]
    if not turns:
        return None
    external = str(conv.get("id") or conv.get("conversation_id") or f"{started}:{conv.get('title', '')}")
    return ImportSession("chatgpt", external, str(conv.get("title") or ""), started, turns)


def _branch(mapping: dict[str, Any], node_id: Any) -> list[dict[str, Any]]:
    """The nodes from the root to ``node_id`` (or to the last leaf when that is not in the tree)."""
    if node_id not in mapping:
        leaves = [k for k, v in mapping.items() if isinstance(v, dict) and not v.get("children")]
        node_id = leaves[-1] if leaves else None
    chain: list[dict[str, Any]] = []
    seen = set()
    while node_id and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        chain.append(node)
        node_id = node.get("parent")
    chain.reverse()
    return chain


def _turn(node: dict[str, Any], started: str) -> ImportTurn | None:
    msg = node.get("message") or {}
    role = (msg.get("author") or {}).get("role")
    if role not in ("user", "assistant"):
        return None
    content = msg.get("content") or {}
    parts = content.get("parts") if isinstance(content, dict) else None
    text = "\n".join(p for p in (parts or []) if isinstance(p, str)).strip()
    if not text:
        return None
    created = timestamp(msg["create_time"], "message.create_time") if msg.get("create_time") else started
    return ImportTurn(role, text.replace("\x00", ""), created)
