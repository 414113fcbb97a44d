"""``pmem models check``: how well a chat model uses pmem's memory, measured on this computer.

A frozen synthetic user (``models_data/check_set.json``) is imported into a throwaway home through pmem's own import,
and each question goes through the same chat service, recall and prompt builder a real chat uses, greedy, in a
fresh conversation. What a user needs to choose a model: does it answer from the memory, does it say it does not know
instead of inventing, and how fast it is here. Results are kept per model file, so ``pmem models`` can show them."""

from __future__ import annotations

import copy
import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pmem.core.config import Paths, Settings
from pmem.core.words import says_dont_know

CHECK_SET = Path(__file__).with_name("models_data") / "check_set.json"
MAX_TOKENS = 64
"""Enough for a one-sentence answer; a model that rambles past it is judged on its start."""

def mentions(reply: str, answers: list[str]) -> bool:
    """Whether one of ``answers`` starts a word of the reply, ignoring case ("walnut" finds "walnuts")."""
    return any(re.search(r"\b" + re.escape(a), reply, re.IGNORECASE) for a in answers)


@dataclass
class CheckResult:
    model: str
    path: str
    fingerprint: str
    version: int
    present: int
    present_right: int
    absent: int
    absent_right: int
    tokens_per_s: float
    seconds: float
    measured_at: str
    grounding: bool = False
    """Measured with the grounding adapter applied (the embedded model, ``model.grounding_adapter`` on)."""
    answers: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"answers from memory {self.present_right}/{self.present}, says it does not know {self.absent_right}/{self.absent}, "
            f"{self.tokens_per_s:.1f} tokens/s"
        )

    def short(self) -> str:
        """For a table column: answers / don't-knows right, and speed."""
        return f"{self.present_right}/{self.present} · {self.absent_right}/{self.absent} · {self.tokens_per_s:.0f} t/s"


def check_set() -> dict[str, Any]:
    return json.loads(CHECK_SET.read_text(encoding="utf-8"))


def run_check(settings: Settings, model: str, progress: Callable[[str, int, int], None] | None = None) -> CheckResult:
    """Measure ``model`` (a name from ``pmem models``, ``embedded`` or a path) on the check set, in a throwaway home:
    the user's own memory is neither read nor written."""
    from pmem.core.assistant import Assistant
    from pmem.core.chat import ChatService
    from pmem.core.config import resolve_paths
    from pmem.core.discovery import resolve_model
    from pmem.core.models import model_fingerprint
    from pmem.core.runtime import Runtime

    path = resolve_model(model, settings.model.search_paths)
    data = check_set()
    started = time.perf_counter()
    answers: list[dict[str, Any]] = []
    generated, gen_s = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="pmem-check-") as tmp:
        home = Path(tmp)
        paths = resolve_paths({"PMEM_HOME": str(home / "home")})
        paths.ensure_data_dir()
        local = copy.deepcopy(settings)
        local.distill.auto = False
        local.backup.enabled = False
        sessions = home / "sessions.json"
        sessions.write_text(json.dumps({"sessions": data["sessions"]}), encoding="utf-8")
        with Runtime(local, paths, model_override=str(path), use_adapter=False) as rt:
            total = len(data["questions"])
            if progress is not None:
                progress("import", 0, total)
            Assistant(rt).transfer.import_file(sessions)
            engine = rt.engine
            engine.load()
            for i, item in enumerate(data["questions"]):
                service = ChatService(settings=rt.settings, paths=rt.paths, engine=engine, journal=None, recall=rt.layers)
                reply = "".join(service.send(item["q"], temperature=0.0, seed=0, max_tokens=MAX_TOKENS)).strip()
                stats = engine.last_stats
                generated += max(0, stats.completion_tokens - 1)
                gen_s += stats.gen_s
                absent = bool(item.get("absent"))
                right = says_dont_know(reply) if absent else mentions(reply, item["answers"]) and not says_dont_know(reply)
                answers.append({"question": item["q"], "absent": absent, "reply": reply, "right": right})
                if progress is not None:
                    progress("ask", i + 1, total)
    present = [a for a in answers if not a["absent"]]
    absent = [a for a in answers if a["absent"]]
    return CheckResult(
        model=model, path=str(path), fingerprint=model_fingerprint(path), version=int(data["version"]), grounding=_grounded(settings, path),
        present=len(present), present_right=sum(a["right"] for a in present),
        absent=len(absent), absent_right=sum(a["right"] for a in absent),
        tokens_per_s=round(generated / gen_s, 1) if gen_s > 0 else 0.0, seconds=round(time.perf_counter() - started, 1),
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), answers=answers,
    )


def save(paths: Paths, result: CheckResult) -> None:
    """Keep the result beside the user's data, replacing an earlier one for the same file."""
    import os

    results = load(paths)
    results[_key(result.fingerprint, result.grounding)] = asdict(result)
    paths.ensure_data_dir()
    staging = paths.model_checks.with_suffix(".tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(results, indent=1, ensure_ascii=False))
    os.replace(staging, paths.model_checks)


def load(paths: Paths) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(paths.model_checks.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _grounded(settings: Settings, path: Path) -> bool:
    from pmem.core.engine.grounding import grounding_for

    return settings.model.grounding_adapter and grounding_for(path) is not None


def _key(fingerprint: str, grounding: bool) -> str:
    return fingerprint + ("+grounding" if grounding else "")


def stored_for(paths: Paths, settings: Settings, model_path: Path) -> CheckResult | None:
    """The latest check of this exact file, as the settings would run it, on the current check set."""
    from pmem.core.models import model_fingerprint

    try:
        entry = load(paths).get(_key(model_fingerprint(model_path), _grounded(settings, model_path)))
        if not entry or entry.get("version") != check_set()["version"]:
            return None
        return CheckResult(**entry)
    except (OSError, TypeError):
        return None
