"""What an import reads, whatever its format: sessions of turns, and what writing them added."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pmem.core.errors import InputError

ROLES = ("user", "assistant", "system")


@dataclass
class ImportTurn:
    role: str
    content: str
    created_at: str
    uid: str | None = None
    model: str = ""
    status: str = "complete"


@dataclass
class ImportSession:
    source: str
    external_id: str
    title: str
    started_at: str
    turns: list[ImportTurn] = field(default_factory=list)
    session_id: str | None = None  # kept from a pmem export, so round trips are lossless


@dataclass
class ImportSummary:
    format: str
    sessions_added: int = 0
    sessions_skipped: int = 0
    turns_added: int = 0
    session_ids: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"imported {self.sessions_added} session(s) with {self.turns_added} turn(s) from a {self.format} file"
            + (f"; {self.sessions_skipped} already present, skipped" if self.sessions_skipped else "")
        )


def timestamp(value: Any, where: str) -> str:
    """An ISO 8601 date-time or a Unix time, as UTC ISO 8601 to the second; naive times are taken as UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), timezone.utc).isoformat(timespec="seconds")
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where} must be an ISO 8601 date-time string")
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where} is not an ISO 8601 date-time: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")
