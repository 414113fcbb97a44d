"""Reading an import: which format a file is (one detector over the formats' own claims), and its sessions, read
as a stream (ijson) so memory stays bounded by the largest session, not the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pmem.core.errors import InputError
from pmem.core.profile.store import FACT_COLUMNS
from pmem.core.transfer import chatgpt, generic, pmem_export
from pmem.core.transfer.records import ImportSession

#: The formats, in the order they are asked whether a file is theirs.
FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (pmem_export, chatgpt, generic)}

UNKNOWN_FORMAT = (
    "unrecognised import format: expected a pmem export, the generic format "
    "({\"sessions\": [{\"started_at\", \"turns\": [{\"role\", \"content\"}]}]}) or ChatGPT's conversations.json"
)


def classify(top: dict[str, Any] | None, item_keys: set[str]) -> str:
    """The one format detector. ``top``: a top-level object's scalar fields and the names of its keys
    (None when the file is an array); ``item_keys``: the keys of the first item of the array. Both the
    in-memory ``parse`` and the streaming ``read_import`` describe what they saw this way."""
    for name, fmt in FORMATS.items():
        if fmt.claims(top, item_keys):
            return name
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
    """An import already in memory: its format and all its sessions, validated."""
    kind = detect(data)
    raws = (data.get("sessions") or []) if isinstance(data, dict) else data
    session = FORMATS[kind].session
    return kind, [s for i, raw in enumerate(raws) if (s := session(raw, i)) is not None]


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

    def _items(self, prefix: str) -> Iterator[Any]:
        import ijson

        with self.path.open("rb") as handle:
            try:
                yield from ijson.items(handle, prefix, use_float=True)
            except ijson.JSONError as exc:
                raise InputError(f"{self.path} is not valid JSON ({_json_error(self.path, exc)})") from None
            except UnicodeDecodeError:
                raise InputError(f"{self.path} is not UTF-8 text") from None

    def sessions(self) -> Iterator[ImportSession]:
        session = FORMATS[self.kind].session
        for i, raw in enumerate(self._items(self.prefix)):
            if (parsed := session(raw, i)) is not None:
                yield parsed

    def facts(self) -> Iterator[Any]:
        """The profile facts of a pmem export (none for other formats)."""
        if self.kind == pmem_export.NAME:
            yield from self._items("profile.facts.item")

    def feedback(self) -> Iterator[Any]:
        """The feedback on replies of a pmem export (none for other formats)."""
        if self.kind == pmem_export.NAME:
            yield from self._items("feedback.item")

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


def _sniff(events: Iterator[tuple[str, str, Any]], path: Path) -> tuple[str, str]:
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
