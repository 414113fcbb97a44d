"""The documented generic format: ``{"sessions": [{"started_at", "turns": [{"role", "content"}]}]}``, or the list
of sessions alone."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pmem.core.errors import InputError
from pmem.core.transfer.records import ROLES, ImportSession, ImportTurn, timestamp

NAME = "generic"


def claims(top: dict[str, Any] | None, item_keys: set[str]) -> bool:
    """An object with a list of sessions, or a list whose first item has turns."""
    return "sessions" in top if top is not None else "turns" in item_keys


def session(raw: Any, i: int) -> ImportSession:
    where = f"sessions[{i}]"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be an object")
    started = timestamp(raw.get("started_at"), f"{where}.started_at")
    turns_raw = raw.get("turns")
    if not isinstance(turns_raw, list):
        raise InputError(f"{where}.turns must be a list")
    turns = [_turn(t, f"{where}.turns[{j}]", started) for j, t in enumerate(turns_raw)]
    title = raw.get("title") or ""
    if not isinstance(title, str):
        raise InputError(f"{where}.title must be a string")
    external = raw.get("id")
    if external is None:  # the same session imported twice is found again by its content
        digest = hashlib.sha256(json.dumps([started, [(t.role, t.content) for t in turns]]).encode()).hexdigest()
        external = "h" + digest[:24]
    return ImportSession("import", str(external), title, started, turns)


def _turn(t: Any, where: str, started: str) -> ImportTurn:
    if not isinstance(t, dict):
        raise InputError(f"{where} must be an object")
    role = t.get("role")
    if role not in ROLES:
        raise InputError(f"{where}.role must be 'user', 'assistant' or 'system', got {role!r}")
    content = t.get("content")
    if not isinstance(content, str):
        raise InputError(f"{where}.content must be a string")
    if "\x00" in content:
        raise InputError(f"{where}.content contains a NUL byte")
    created = timestamp(t["created_at"], f"{where}.created_at") if t.get("created_at") is not None else started
    return ImportTurn(role, content, created)
