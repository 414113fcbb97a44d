"""Plain data handed down to widgets (attributes down, messages up): widgets never touch the core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FactView:
    id: str
    key: str
    statement: str
    date: str


@dataclass(frozen=True)
class LearnedView:
    """A fact pmem has just learned (or that replaced an older one), for the one-line notice and its undo."""

    fact_id: str
    statement: str
    was: str = ""


def learned_views(changes: list[Any]) -> list[LearnedView]:
    """The core's consolidation changes that the user should hear about: new facts, replacements, and facts
    that ended without a successor ("Bento passed away"); a plan closed because it came true is said by its fact."""
    return [
        LearnedView(
            c.fact.id,
            c.fact.statement if c.action != "ended" else f"no longer: {c.fact.statement}",
            c.replaced.statement if c.replaced is not None else "",
        )
        for c in changes
        if c.action in ("added", "superseded") or (c.action == "ended" and c.fact.superseded_by is None)
    ]


@dataclass(frozen=True)
class MemoryView:
    id: str
    session_id: str
    date: str
    text: str


@dataclass(frozen=True)
class SessionView:
    id: str
    title: str
    started_at: str
    turns: int
    first_message: str


@dataclass(frozen=True)
class TurnView:
    role: str
    content: str
    cancelled: bool = False


@dataclass(frozen=True)
class Status:
    model: str = ""
    state: str = "loading"
    """loading | ready | generating | failed"""
    context_used: int = 0
    context_size: int = 0
    tokens_per_s: float = 0.0
    memories: int = 0
    background: str = ""
    adapter: bool = False
    """A distilled LoRA adapter is applied on top of the model."""
    private: bool = False
    """A ``--no-memory`` session: nothing is recalled or written."""
