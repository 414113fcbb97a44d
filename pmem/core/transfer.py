"""Import and export: pmem's own lossless export, a documented generic format, and ChatGPT's data export.

Every import is parsed and validated completely before anything is written, then written in one
transaction: a bad file changes nothing. Files are read as a stream of sessions (ijson), twice: once to
validate, once to write, so memory stays bounded whatever the file's size. Imports are idempotent: a session already imported (same
source and id) is skipped, so importing a file twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pmem import __version__
from pmem.core.errors import InputError
from pmem.core.profile.store import FACT_COLUMNS, ProfileStore
from pmem.core.store.journal import Journal, now_iso

EXPORT_FORMAT = "pmem-export"
EXPORT_VERSION = 1
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


# ---------------------------------------------------------------- reading


UNKNOWN_FORMAT = (
    "unrecognised import format: expected a pmem export, the generic format "
    "({\"sessions\": [{\"started_at\", \"turns\": [{\"role\", \"content\"}]}]}) or ChatGPT's conversations.json"
)


def classify(top: dict[str, Any] | None, item_keys: set[str]) -> str:
    """The one format detector. ``top``: a top-level object's scalar fields and the names of its keys
    (None when the file is an array); ``item_keys``: the keys of the first item of the array. Both the
    in-memory ``parse`` and the streaming ``read_import`` describe what they saw this way."""
    if top is not None:
        if top.get("format") == EXPORT_FORMAT:
            _check_pmem_version(top.get("version"))
            return "pmem"
        if "sessions" in top:
            return "generic"
    elif "mapping" in item_keys:
        return "chatgpt"
    elif "turns" in item_keys:
        return "generic"
    raise InputError(UNKNOWN_FORMAT)


def detect(data: Any) -> str:
    if isinstance(data, dict):
        top = {k: v for k, v in data.items() if k in ("format", "version")}
        if isinstance(data.get("sessions"), list):
            top["sessions"] = True
        return classify(top, set())
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return classify(None, set(data[0]))
    raise InputError(UNKNOWN_FORMAT)


def parse(data: Any) -> tuple[str, list[ImportSession]]:
    kind = detect(data)
    if kind == "pmem":
        return kind, _parse_pmem(data)
    if kind == "chatgpt":
        return kind, _parse_chatgpt(data)
    return kind, _parse_generic(data["sessions"] if isinstance(data, dict) else data)


def _timestamp(value: Any, where: str) -> str:
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


def _parse_generic(sessions: Any) -> list[ImportSession]:
    if not isinstance(sessions, list):
        raise InputError("'sessions' must be a list")
    return [_generic_session(raw, i) for i, raw in enumerate(sessions)]


def _generic_session(raw: Any, i: int) -> ImportSession:
    where = f"sessions[{i}]"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be an object")
    started = _timestamp(raw.get("started_at"), f"{where}.started_at")
    turns_raw = raw.get("turns")
    if not isinstance(turns_raw, list):
        raise InputError(f"{where}.turns must be a list")
    turns = []
    for j, t in enumerate(turns_raw):
        tw = f"{where}.turns[{j}]"
        if not isinstance(t, dict):
            raise InputError(f"{tw} must be an object")
        role = t.get("role")
        if role not in ROLES:
            raise InputError(f"{tw}.role must be 'user', 'assistant' or 'system', got {role!r}")
        content = t.get("content")
        if not isinstance(content, str):
            raise InputError(f"{tw}.content must be a string")
        if "\x00" in content:
            raise InputError(f"{tw}.content contains a NUL byte")
        created = _timestamp(t["created_at"], f"{tw}.created_at") if t.get("created_at") is not None else started
        turns.append(ImportTurn(role, content, created))
    title = raw.get("title") or ""
    if not isinstance(title, str):
        raise InputError(f"{where}.title must be a string")
    external = raw.get("id")
    if external is None:
        digest = hashlib.sha256(json.dumps([started, [(t.role, t.content) for t in turns]]).encode()).hexdigest()
        external = "h" + digest[:24]
    return ImportSession("import", str(external), title, started, turns)


def _parse_chatgpt(conversations: list[dict]) -> list[ImportSession]:
    return [s for i, conv in enumerate(conversations) if (s := _chatgpt_conversation(conv, i)) is not None]


def _chatgpt_conversation(conv: Any, i: int) -> ImportSession | None:
    if not isinstance(conv, dict):
        raise InputError(f"conversation {i} must be an object")
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise InputError(f"conversation {i} has no 'mapping'")
    node_id = conv.get("current_node")
    if node_id not in mapping:  # fall back to the last leaf
        leaves = [k for k, v in mapping.items() if isinstance(v, dict) and not v.get("children")]
        node_id = leaves[-1] if leaves else None
    chain = []
    seen = set()
    while node_id and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        chain.append(node)
        node_id = node.get("parent")
    chain.reverse()
    started = _timestamp(conv.get("create_time") or 0, f"conversation {i}.create_time")
    turns = []
    for node in chain:
        msg = node.get("message") or {}
        role = (msg.get("author") or {}).get("role")
        if role not in ("user", "assistant"):
            continue
        content = msg.get("content") or {}
        parts = content.get("parts") if isinstance(content, dict) else None
        text = "\n".join(p for p in (parts or []) if isinstance(p, str)).strip()
        if not text:
            continue
        created = _timestamp(msg["create_time"], "message.create_time") if msg.get("create_time") else started
        turns.append(ImportTurn(role, text.replace("\x00", ""), created))
    if not turns:
        return None
    external = str(conv.get("id") or conv.get("conversation_id") or f"{started}:{conv.get('title', '')}")
    return ImportSession("chatgpt", external, str(conv.get("title") or ""), started, turns)


def _parse_pmem(data: dict) -> list[ImportSession]:
    _check_pmem_version(data.get("version"))
    return [_pmem_session(s, i) for i, s in enumerate(data.get("sessions") or [])]


def _check_pmem_version(version: Any) -> None:
    if version != EXPORT_VERSION:
        raise InputError(f"this pmem export has version {version!r}; this pmem reads version {EXPORT_VERSION}")


def _pmem_session(s: Any, i: int) -> ImportSession:
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


# ---------------------------------------------------------------- reading a file as a stream


@dataclass
class StreamedImport:
    """An import file read as a stream of sessions: memory stays bounded by the largest session, not the file.

    ``validate()`` reads the whole file once and raises on the first problem, before anything is written;
    ``sessions()`` reads it again and yields sessions for writing."""

    path: Path
    kind: str
    prefix: str
    """The ijson path of the session objects: ``sessions.item`` or ``item``."""
    sessions_total: int = 0

    def sessions(self):  # type: ignore[no-untyped-def]
        import ijson

        parse_one = {"pmem": _pmem_session, "chatgpt": _chatgpt_conversation}.get(self.kind, _generic_session)
        with self.path.open("rb") as handle:
            try:
                for i, raw in enumerate(ijson.items(handle, self.prefix, use_float=True)):
                    session = parse_one(raw, i)
                    if session is not None:
                        yield session
            except ijson.JSONError as exc:
                raise InputError(f"{self.path} is not valid JSON ({_json_error(self.path, exc)})") from None
            except UnicodeDecodeError:
                raise InputError(f"{self.path} is not UTF-8 text") from None

    def facts(self):  # type: ignore[no-untyped-def]
        """The profile facts of a pmem export (none for other formats)."""
        if self.kind != "pmem":
            return
        import ijson

        with self.path.open("rb") as handle:
            try:
                yield from ijson.items(handle, "profile.facts.item", use_float=True)
            except ijson.JSONError as exc:
                raise InputError(f"{self.path} is not valid JSON ({_json_error(self.path, exc)})") from None

    def feedback(self):  # type: ignore[no-untyped-def]
        """The feedback on replies of a pmem export (none for other formats)."""
        if self.kind != "pmem":
            return
        import ijson

        with self.path.open("rb") as handle:
            try:
                yield from ijson.items(handle, "feedback.item", use_float=True)
            except ijson.JSONError as exc:
                raise InputError(f"{self.path} is not valid JSON ({_json_error(self.path, exc)})") from None

    def validate(self) -> StreamedImport:
        self.sessions_total = sum(1 for _ in self.sessions())
        for i, item in enumerate(self.feedback()):
            if not isinstance(item, dict) or item.get("kind") not in ("up", "down", "edit", "retry") or not isinstance(item.get("turn"), str):
                raise InputError(f"feedback[{i}] of the pmem export is incomplete")
        for i, fact in enumerate(self.facts()):
            if not isinstance(fact, dict) or any(c not in fact for c in FACT_COLUMNS):
                raise InputError(f"profile.facts[{i}] of the pmem export is incomplete")
        return self


def read_import(path: Path) -> StreamedImport:
    """Recognise an import file's format from its first bytes, then validate all of it as a stream."""
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a JSON file")
    import ijson

    try:
        with path.open("rb") as handle:
            kind, prefix = _sniff(ijson.parse(handle, use_float=True), path)
    except ijson.JSONError as exc:
        raise InputError(f"{path} is not valid JSON ({_json_error(path, exc)})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return StreamedImport(path, kind, prefix).validate()


def _sniff(events, path: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The format (by ``classify``) and where the sessions are, from the top-level keys of an object or the
    first item's keys of an array, reading no further than that."""
    first = next(events, None)
    if first is None:
        raise InputError(f"{path} is empty")
    _, event, _ = first
    if event == "start_map":
        top: dict[str, Any] = {}
        for prefix, event, value in events:
            if prefix in ("format", "version") and event in ("string", "number"):
                top[prefix] = value
            elif prefix == "sessions" and event == "start_array":
                top["sessions"] = True
                break
            elif prefix == "" and event == "end_map":
                break
        return classify(top, set()), "sessions.item"
    if event == "start_array":
        keys: set[str] = set()
        for prefix, event, value in events:
            if prefix == "item" and event == "map_key":
                keys.add(value)
                if value in ("mapping", "turns"):
                    break
            elif (prefix == "item" and event == "end_map") or (prefix == "" and event == "end_array"):
                break
        return classify(None, keys), "item"
    raise InputError(UNKNOWN_FORMAT)


def _json_error(path: Path, exc: Exception) -> str:
    """Where the JSON breaks: line and column from the stdlib parser for a file small enough to re-read,
    otherwise the streaming parser's own description."""
    if path.stat().st_size <= 32 << 20:
        try:
            with path.open("rb") as handle:
                json.load(handle)
        except json.JSONDecodeError as precise:
            return f"line {precise.lineno}, column {precise.colno}: {precise.msg}"
        except (UnicodeDecodeError, OSError, ValueError):
            pass
    text = " ".join(str(exc).split())
    return text.split(" (right here)")[0][:120] or type(exc).__name__


# ---------------------------------------------------------------- writing


def import_sessions(
    journal: Journal,
    kind: str,
    sessions: Iterable[ImportSession],
    progress: Callable[[int, int], None] | None = None,
    total: int | None = None,
) -> ImportSummary:
    """Write parsed sessions in one transaction; sessions already present are skipped."""
    if total is None and isinstance(sessions, list):
        total = len(sessions)
    summary = ImportSummary(kind)
    with journal.transaction():
        for n, s in enumerate(sessions, 1):
            sid = journal.add_imported_session(
                s.session_id, s.title, s.started_at, s.source, s.external_id,
                [(t.uid, t.role, t.content, t.created_at, t.model, t.status) for t in s.turns],
            )
            if sid is None:
                summary.sessions_skipped += 1
                continue
            summary.sessions_added += 1
            summary.turns_added += len(s.turns)
            summary.session_ids.append(sid)
            if progress is not None:
                progress(n, total or n)
    return summary


def export_all(conn: sqlite3.Connection, *, embedder: str = "") -> dict[str, Any]:
    sessions = []
    for s in conn.execute("SELECT * FROM sessions ORDER BY started_at, rowid"):
        turns = [
            {
                "uid": t["uid"],
                "role": t["role"],
                "content": t["content"],
                "created_at": t["created_at"],
                "model": t["model"],
                "status": t["status"],
            }
            for t in conn.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY id", (s["id"],))
        ]
        sessions.append(
            {
                "id": s["id"],
                "title": s["title"],
                "started_at": s["started_at"],
                "source": s["source"],
                "external_id": s["external_id"],
                "turns": turns,
            }
        )
    episodes = [
        {"id": r["id"], "session": r["session_id"], "first_turn": r["fu"], "last_turn": r["lu"], "indexed": bool(r["indexed"])}
        for r in conn.execute(
            "SELECT e.id, e.session_id, e.indexed, f.uid AS fu, l.uid AS lu FROM episodes e "
            "JOIN turns f ON f.id = e.first_turn_id JOIN turns l ON l.id = e.last_turn_id ORDER BY e.id"
        )
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now_iso(),
        "pmem_version": __version__,
        "sessions": sessions,
        "profile": {"facts": ProfileStore(conn).export_facts()},
        "memory": {"embedder": embedder, "episodes": episodes},
        "feedback": [
            {"turn": r["uid"], "kind": r["kind"], "text": r["text"], "created_at": r["created_at"]}
            for r in conn.execute("SELECT t.uid, f.kind, f.text, f.created_at FROM feedback f JOIN turns t ON t.id = f.turn_id ORDER BY f.id")
        ],
    }


def session_markdown(journal: Journal, session_id: str) -> str:
    """One conversation as a Markdown document (for ``/export`` in the chat)."""
    session = journal.session(session_id)
    if session is None:
        raise InputError(f"no session with id {session_id}")
    lines = [f"# {session.title or 'Conversation'}", "", f"*{session.started_at[:16].replace('T', ' ')} · {session.id}*", ""]
    for turn in journal.turns(session_id):
        who = {"user": "You", "assistant": "pmem", "system": "System"}[turn.role]
        mark = " *(cancelled)*" if turn.status == "cancelled" else ""
        lines += [f"**{who}**{mark}:", "", turn.content, ""]
    return "\n".join(lines)
