"""LoCoMo retrieval benchmark: ingest each conversation through pmem's import path, then ask every question.

Reports, per official LoCoMo category id (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial),
turn-level Recall@5/@10 (a question counts only if *all* its evidence turns are inside the retrieved
memories) and session-level Recall@5 (all evidence sessions among the retrieved memories' sessions),
plus query latency. No LLM is involved: this measures retrieval alone.

A retrieved memory is one pmem episode (an exchange: a turn by speaker A and the reply by speaker B),
so @K means K episodes, which cover up to 2K LoCoMo turns.

    python bench/locomo_retrieval.py [--data PATH] [--out PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, SHARED, machine, percentile, write_json  # noqa: E402

DEFAULT_DATA = SHARED / "data" / "locomo" / "locomo10.json"
CATEGORIES = ["1", "2", "3", "4", "5"]


def parse_locomo_date(text: str) -> str:
    """'1:56 pm on 8 May, 2023' -> ISO 8601."""
    when = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    return when.isoformat() + "+00:00"


def to_generic(sample: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A LoCoMo conversation in pmem's generic import format, and the dia_id of each turn in import order."""
    conv = sample["conversation"]
    speaker_a = conv["speaker_a"]
    numbers = sorted(int(m.group(1)) for k in conv if (m := re.fullmatch(r"session_(\d+)", k)))
    sessions = []
    dia_ids: list[str] = []
    for n in numbers:
        turns = []
        for t in conv[f"session_{n}"]:
            text = t["text"]
            if t.get("blip_caption"):
                text += f" [shares a photo of {t['blip_caption']}]"
            role = "user" if t["speaker"] == speaker_a else "assistant"
            turns.append({"role": role, "content": f"{t['speaker']}: {text}"})
            dia_ids.append(t["dia_id"])
        sessions.append(
            {"id": f"{sample['sample_id']}-s{n}", "title": f"session {n}", "started_at": parse_locomo_date(conv[f"session_{n}_date_time"]), "turns": turns}
        )
    return {"sessions": sessions}, dia_ids


def evidence_ids(raw: list[Any], known: set[str]) -> tuple[list[str], int]:
    """Tolerant parse of evidence references; returns (valid ids, number skipped)."""
    ids: list[str] = []
    skipped = 0
    for item in raw:
        for part in re.split(r"[;,\s]+", str(item)):
            part = part.strip()
            if not part:
                continue
            if part in known:
                ids.append(part)
            else:
                skipped += 1
    return ids, skipped


def run(data_path: Path, limit: int | None = None, k_max: int = 10) -> dict[str, Any]:
    from pmem.core.config import Settings, resolve_paths
    from pmem.core.memory.service import MemoryService
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal
    from pmem.core.transfer import import_sessions, parse

    samples = json.loads(data_path.read_text())
    if limit:
        samples = samples[:limit]
    found: dict[str, dict[str, list[int]]] = {
        m: {c: [] for c in CATEGORIES} for m in ("turn@5", "turn@10", "session@5", "any@10")
    }
    latencies: list[float] = []
    skipped_total = 0
    import_turns = 0
    import_seconds = 0.0
    for sample in samples:
        generic, dia_order = to_generic(sample)
        with tempfile.TemporaryDirectory(prefix="pmem-locomo-") as home:
            paths = resolve_paths({"PMEM_HOME": home})
            paths.ensure_data_dir()
            conn = connect(paths.database)
            memory = MemoryService(Settings(), paths, conn)
            memory.embedder.load()
            started = time.perf_counter()
            kind, sessions = parse(generic)
            summary = import_sessions(Journal(conn), kind, sessions)
            memory.reconcile()
            memory.index_pending()
            import_seconds += time.perf_counter() - started
            import_turns += summary.turns_added
            uid_to_dia = {}
            # Turns are inserted in LoCoMo order, so insertion order (rowid) maps them back to dia ids.
            rows = conn.execute("SELECT uid FROM turns ORDER BY id").fetchall()
            for (uid,), dia in zip(rows, dia_order):
                uid_to_dia[uid] = dia
            known = set(dia_order)
            for qa in sample["qa"]:
                category = str(qa["category"])
                evidence, skipped = evidence_ids(qa.get("evidence", []), known)
                skipped_total += skipped
                if not evidence:
                    continue
                t0 = time.perf_counter()
                hits = memory.search(qa["question"], k_max)
                latencies.append((time.perf_counter() - t0) * 1000)
                need = set(evidence)
                need_sessions = {e.split(":")[0] for e in evidence}
                for k, key in ((5, "turn@5"), (10, "turn@10")):
                    got = {uid_to_dia.get(u) for h in hits[:k] for u in h.episode.turn_uids}
                    found[key][category].append(int(need <= got))
                got10 = {uid_to_dia.get(u) for h in hits[:10] for u in h.episode.turn_uids}
                found["any@10"][category].append(int(bool(need & got10)))
                got_sessions = {uid_to_dia.get(h.episode.turn_uids[0], "?").split(":")[0] for h in hits[:5]}
                found["session@5"][category].append(int(need_sessions <= got_sessions))
            memory.close()
            conn.close()

    def summarise(metric: str) -> dict[str, float]:
        out = {c: _mean(found[metric][c]) for c in CATEGORIES}
        out["1-4"] = _mean([x for c in "1234" for x in found[metric][c]])
        return out

    return {
        "turn_recall@5": summarise("turn@5"),
        "turn_recall@10": summarise("turn@10"),
        "session_recall@5": summarise("session@5"),
        "turn_recall_any@10": summarise("any@10"),
        "questions": {c: len(found["turn@5"][c]) for c in CATEGORIES},
        "query_latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
        "import_turns_per_s": import_turns / import_seconds if import_seconds else None,
        "skipped_evidence": skipped_total,
        "unit": "episode (one exchange: a speaker-A turn and the speaker-B reply)",
        "conversations": len(samples),
        "machine": machine(),
    }


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 4) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "locomo_retrieval.json")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N conversations (quick runs).")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"LoCoMo data not found at {args.data}; pass --data PATH")
    os.environ.setdefault("PMEM_HOME", tempfile.mkdtemp(prefix="pmem-bench-"))
    result = run(args.data, args.limit)
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("turn_recall@5", "turn_recall@10", "session_recall@5", "query_latency_ms", "skipped_evidence")}, indent=1))


if __name__ == "__main__":
    main()
