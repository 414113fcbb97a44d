"""pmem's own export: every session with its turns' ids, the profile's facts with their history, the episodes and
the feedback on replies, so an export read back is the same memory."""

from __future__ import annotations

from typing import Any

from pmem.core.errors import InputError
from pmem.core.transfer.records import ROLES, ImportSession, ImportTurn

NAME = "pmem"
EXPORT_FORMAT = "pmem-export"
EXPORT_VERSION = 1


def claims(top: dict[str, Any] | None, item_keys: set[str]) -> bool:
    """An object that says it is a pmem export (of a version this pmem reads: another is refused)."""
    if top is None or top.get("format") != EXPORT_FORMAT:
        return False
    if top.get("version") != EXPORT_VERSION:
        raise InputError(f"this pmem export has version {top.get('version')!r}; this pmem reads version {EXPORT_VERSION}")
    return True


def session(s: Any, i: int) -> ImportSession:
    try:
        turns = [
            ImportTurn(t["role"], t["content"], t["created_at"], t["uid"], t.get("model", ""), t.get("status", "complete"))
            for t in s["turns"]
        ]
        if any(t.role not in ROLES or not isinstance(t.content, str) for t in turns):
            raise InputError(f"sessions[{i}] has a turn with an invalid role or content")
        return ImportSession(s["source"], s.get("external_id") or "", s.get("title", ""), s["started_at"], turns, s["id"])
    except (KeyError, TypeError, AttributeError):
        raise InputError(f"sessions[{i}] of the pmem export is incomplete") from None
