"""LoCoMo retrieval benchmark: ingest each conversation through pmem's import path, then ask every question.

No LLM is involved: this measures retrieval alone, through the same ``MemoryService.search`` the chat, ``pmem ask``
and ``pmem memory search`` use. Per official LoCoMo category id (1 multi-hop, 2 temporal, 3 open-domain,
4 single-hop, 5 adversarial), and separately for conversations 0–4 (the only ones any weight was tuned on) and
5–9 (held out):

- ``strict@10`` (pmem's unit): a question counts only if *all* its evidence turns are inside the 10 retrieved
  memories. A memory is one pmem episode (an exchange: a speaker-A turn and the speaker-B reply), so this allows
  up to ~20 LoCoMo turns; ``strict@5`` likewise with 5.
- ``any@10``: at least one evidence turn inside the 10 memories. ``session@5``: all evidence sessions among the
  sessions of the top 5 memories.
- ``strict_turns@10``: a true 10-turn budget: the 10 best-scored *turns* of the ranking behind the search.
  ``strict_turns_expanded@10``: the memories in rank order, expanded into their turns, cut at 10 turns.
- ``published@10``: the LoCoMo paper's dialog-level measure: the top 10 turns, fractional recall (share of a
  question's evidence turns retrieved), averaged over questions of all five categories. The paper's RAG baseline
  with DRAGON over dialog turns reports R@10 = 67.5 on this scale.

``--ablation`` measures each step of the fusion by switching it off (same run, same index); ``--grid`` searches the
fusion weights on conversations 0–4 only and prints the best (it never looks at 5–9).

    python -m bench.locomo_retrieval [--ablation] [--grid] [--limit N] [--data PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from bench.harness import RESULTS, SHARED, bench_settings, machine, percentile, write_json

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


TUNE = range(0, 5)  # conversations any weight may be tuned on
HELD_OUT = range(5, 10)


def ablation_configs() -> dict[str, Any]:
    from dataclasses import replace

    from pmem.core.memory.retrieval import WEIGHTS_TUNED, Weights

    # Every row searches the same index, made by the tuned embedder pmem ships (tuning.py), at its dense weight;
    # what the tuning itself gives, against the model as shipped before, is bench/locomo_embedder_tuning.py's.
    plain: dict[str, Any] = {"dense": WEIGHTS_TUNED.dense, "lexical": WEIGHTS_TUNED.lexical, "query_adapter": False}
    return {
        "final": None,
        "rrf fusion (turn vectors, no neighbour BM25, no session prior)": Weights(fusion="rrf", neighbour_lexical=0, session_prior=0, date=0, speaker=0, **plain),
        "score fusion only": Weights(neighbour_lexical=0, session_prior=0, date=0, speaker=0, **plain),
        "+ neighbour BM25": Weights(session_prior=0, date=0, speaker=0, **plain),
        "+ session prior": Weights(date=0, speaker=0, **plain),
        "+ times named in the question": Weights(speaker=0, **plain),
        "+ the speaker the question is about (100 candidates from each retriever)": Weights(**plain),
        "with MMR-like session diversity 0.05 (not kept)": replace(WEIGHTS_TUNED, diversity=0.05),
        "dense only (final weights otherwise)": replace(WEIGHTS_TUNED, lexical=0.0, neighbour_lexical=0.0),
        "lexical only (final weights otherwise)": replace(WEIGHTS_TUNED, dense=0.0),
    }


def grid_configs() -> dict[str, Any]:
    from pmem.core.memory.retrieval import Weights

    out = {}
    for dense in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
        for session in (0.25, 0.5, 1.0):
            for neighbour in (0.25, 0.5, 1.0):
                out[f"d{dense} s{session} n{neighbour}"] = Weights(
                    dense=dense, lexical=round(1 - dense, 2), session_prior=session, neighbour_lexical=neighbour
                )
    return out


def date_configs() -> dict[str, Any]:
    """The weight of a time the question names, on top of the final weights (tuned on conversations 0-4 only)."""
    from dataclasses import replace

    from pmem.core.memory.retrieval import WEIGHTS_TUNED

    return {f"date {x}": replace(WEIGHTS_TUNED, date=x) for x in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)}


def cached(retriever: Any) -> None:
    """Candidates do not depend on the fusion weights: fetch them once per question for every config."""
    dense, lexical = retriever.dense, retriever.lexical
    memo: dict[tuple, Any] = {}

    def cached_dense(text: str, n: int, exclude_session: str | None = None) -> Any:
        key = ("d", text, n, exclude_session, retriever.weights.query_adapter)
        if key not in memo:
            memo[key] = dense(text, n, exclude_session)
        return memo[key]

    def cached_lexical(text: str, n: int, exclude_session: str | None = None) -> Any:
        key = ("l", text, n, exclude_session)
        if key not in memo:
            memo[key] = lexical(text, n, exclude_session)
        return memo[key]

    retriever.dense, retriever.lexical = cached_dense, cached_lexical


class Indexed:
    """One LoCoMo conversation imported as ``pmem import`` does and indexed, in its own home; its questions."""

    def __init__(self, sample: dict[str, Any], home: str, settings: Any = None, embedder: Any = None) -> None:
        from pmem.core.config import resolve_paths
        from pmem.core.memory.service import MemoryService
        from pmem.core.store.db import connect
        from pmem.core.store.journal import Journal
        from pmem.core.transfer import import_sessions, parse

        generic, dia_order = to_generic(sample)
        paths = resolve_paths({"PMEM_HOME": home})
        paths.ensure_data_dir()
        self.conn = connect(paths.database)
        self.memory = MemoryService(settings or bench_settings(), paths, self.conn, embedder=embedder)
        self.memory.embedder.load()
        started = time.perf_counter()
        kind, sessions = parse(generic)
        self.turns_added = import_sessions(Journal(self.conn), kind, sessions).turns_added
        self.memory.reconcile()
        self.memory.index_pending()
        self.import_seconds = time.perf_counter() - started
        # Turns are inserted in LoCoMo order, so insertion order (rowid) maps them back to dia ids.
        rows = self.conn.execute("SELECT id, uid FROM turns ORDER BY id").fetchall()
        self.id_to_dia: dict[int, str] = {tid: dia for (tid, _), dia in zip(rows, dia_order)}
        self.uid_to_dia: dict[str, str] = {uid: dia for (_, uid), dia in zip(rows, dia_order)}
        # The questions are asked after the conversation: "last year" is read from its last session's date.
        self.asked_at = max(datetime.fromisoformat(s["started_at"]) for s in generic["sessions"]) + timedelta(days=1)
        known = set(dia_order)
        self.questions: list[tuple[str, str, set[str]]] = []
        self.skipped = 0
        for qa in sample["qa"]:
            evidence, skipped = evidence_ids(qa.get("evidence", []), known)
            self.skipped += skipped
            if evidence:
                self.questions.append((str(qa["category"]), qa["question"], set(evidence)))

    def close(self) -> None:
        self.memory.close()
        self.conn.close()


def run(data_path: Path, limit: int | None = None, configs: dict[str, Any] | None = None, only: range | None = None) -> dict[str, Any]:
    configs = configs or {"final": None}  # None: the weights pmem itself sets for its embedder
    samples = json.loads(data_path.read_text())
    if limit:
        samples = samples[:limit]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    latencies: list[float] = []
    skipped_total = 0
    import_turns = 0
    import_seconds = 0.0
    for index, sample in enumerate(samples):
        if only is not None and index not in only:
            continue
        with tempfile.TemporaryDirectory(prefix="pmem-locomo-") as home:
            conv = Indexed(sample, home)
            memory, retriever, asked_at, questions = conv.memory, conv.memory.retriever, conv.asked_at, conv.questions
            id_to_dia, uid_to_dia = conv.id_to_dia, conv.uid_to_dia
            import_seconds += conv.import_seconds
            import_turns += conv.turns_added
            skipped_total += conv.skipped
            # Latency of the final configuration, uncached.
            default = retriever.weights
            retriever.weights = configs.get("final") or default
            for _, question, _ in questions:
                t0 = time.perf_counter()
                memory.search(question, 10, now=asked_at)
                latencies.append((time.perf_counter() - t0) * 1000)
            cached(retriever)
            for name, weights in configs.items():
                retriever.weights = weights or default
                for category, question, need in questions:
                    hits = memory.search(question, 10, now=asked_at)
                    turn_rank = [id_to_dia.get(t) for t, _ in retriever.last_turns]
                    rows[name].append(judge(index, category, need, hits, turn_rank, uid_to_dia))
            conv.close()
    result: dict[str, Any] = {"configs": {name: summarise(r) for name, r in rows.items()}}
    result.update(
        {
            "questions": {c: sum(1 for r in rows[next(iter(rows))] if r["category"] == c) for c in CATEGORIES},
            "query_latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
            "import_turns_per_s": import_turns / import_seconds if import_seconds else None,
            "skipped_evidence": skipped_total,
            "unit": "episode (one exchange: a speaker-A turn and the speaker-B reply); *_turns metrics count turns",
            "conversations": len(samples) if only is None else len([i for i in range(len(samples)) if i in only]),
            "tuned_on": "conversations 0-4 (weights in pmem/core/memory/weights.py; the embedder's tuning, tuning.py)",
            "machine": machine(),
        }
    )
    return result


def judge(conv: int, category: str, need: set[str], hits: list[Any], turn_rank: list[str | None], uid_to_dia: dict[str, str]) -> dict[str, Any]:
    def dias(hs: list[Any]) -> set[str | None]:
        return {uid_to_dia.get(u) for h in hs for u in h.episode.turn_uids}

    expanded: list[str | None] = []
    for h in hits:
        for u in h.episode.turn_uids:
            if len(expanded) < 10:
                expanded.append(uid_to_dia.get(u))
    top_turns = set(turn_rank[:10])
    need_sessions = {e.split(":")[0] for e in need}
    return {
        "conv": conv,
        "category": category,
        "strict@5": int(need <= dias(hits[:5])),
        "strict@10": int(need <= dias(hits[:10])),
        "any@10": int(bool(need & dias(hits[:10]))),
        "session@5": int(need_sessions <= {uid_to_dia.get(h.episode.turn_uids[0], "?").split(":")[0] for h in hits[:5]}),
        "strict_turns@10": int(need <= top_turns),
        "strict_turns_expanded@10": int(need <= set(expanded)),
        "published@10": len(need & top_turns) / len(need),
    }


METRICS = ["strict@10", "strict@5", "any@10", "session@5", "strict_turns@10", "strict_turns_expanded@10"]


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split, convs in (("all", range(0, 100)), ("0-4", TUNE), ("5-9", HELD_OUT)):
        part = [r for r in rows if r["conv"] in convs]
        if not part:
            continue
        core = [r for r in part if r["category"] in "1234"]
        block: dict[str, Any] = {m: _mean([r[m] for r in core]) for m in METRICS}
        block["published@10"] = _mean([r["published@10"] for r in part])
        block["strict@10_by_category"] = {c: _mean([r["strict@10"] for r in part if r["category"] == c]) for c in CATEGORIES}
        out[split] = block
    return out


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 4) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N conversations (quick runs).")
    parser.add_argument("--ablation", action="store_true", help="Also measure each fusion step switched off.")
    parser.add_argument("--grid", action="store_true", help="Search the weights on conversations 0-4 only.")
    parser.add_argument("--dates", action="store_true", help="Search the weight of times named in questions, on 0-4 only.")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"LoCoMo data not found at {args.data}; pass --data PATH")
    os.environ.setdefault("PMEM_HOME", tempfile.mkdtemp(prefix="pmem-bench-"))
    if args.grid or args.dates:
        result = run(args.data, args.limit, date_configs() if args.dates else grid_configs(), only=TUNE)
        ranked = sorted(result["configs"].items(), key=lambda kv: -kv[1]["0-4"]["strict@10"])
        for name, block in ranked[:15]:
            print(f"{name:28} strict@10 {block['0-4']['strict@10']:.4f}  turns@10 {block['0-4']['strict_turns@10']:.4f}  published {block['0-4']['published@10']:.4f}")
        write_json(args.out or RESULTS / ("locomo_dates.json" if args.dates else "locomo_grid.json"), {"ranked": [[n, b["0-4"]] for n, b in ranked], "machine": result["machine"]})
        return
    configs = ablation_configs() if args.ablation else None
    result = run(args.data, args.limit, configs)
    write_json(args.out or RESULTS / "locomo_retrieval.json", result)
    for name, block in result["configs"].items():
        summary = {split: {k: v for k, v in b.items() if k != "strict@10_by_category"} for split, b in block.items()}
        print(name, json.dumps(summary))
    print(json.dumps({k: result[k] for k in ("questions", "query_latency_ms", "import_turns_per_s", "skipped_evidence")}))


if __name__ == "__main__":
    main()
