"""LongMemEval-S retrieval (issue #40): does pmem's recall find the sessions that hold an answer, and for a
knowledge-update question, does it rank the session with the newest value above the sessions with older ones?

Data: the development subset in ``../shared/data/longmemeval`` (124 questions: 64 knowledge-update, 30
temporal-reasoning, 30 multi-session). Each question's haystack (~47 sessions) is imported through pmem's own import
into its own fresh home and searched as ``pmem memory search`` searches, at the question's date; each memory found is
mapped to its session, and the sessions are ranked by their best memory (of 50).

Measures, per question type:
- session R@5: any evidence session among the first 5 sessions (LongMemEval's recall_any@5; the paper's unit is
  a whole session of user turns, pmem's an exchange).
- knowledge-update: the newest evidence session in the top 5, and ranked above every older evidence session
  (an older one not in the 50 memories counts as below).

Split: questions are assigned to *tune* or *held out* by a hash of their id's first seven characters (so the few
pairs of questions over one haystack, ``07741c44``/``07741c45``, fall on one side). Weights are chosen on tune;
held out is the figure to read.

``python -m bench.longmemeval_retrieval [--homes DIR] [--config NAME ...] [--limit N]``
→ ``results/longmemeval_retrieval.json``. ``--homes`` keeps the imported homes there (and reuses them: the import is
most of the ~20 minutes).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.currency_retrieval import SUBJECT_GRID
from bench.harness import RESULTS, SHARED, imported_home, machine, percentile, write_json

DATA = SHARED / "data" / "longmemeval" / "lme_s_dev.json.gz"
MEMORIES = 50
"""Memories read per question before they are mapped to sessions."""

CONFIGS: dict[str, dict[str, Any]] = {
    "off": {"current": 0.0, "superseded": 0.0, "later": 0.0},
    "links_and_now": {"later": 0.0},
    "later_only": {"current": 0.0, "superseded": 0.0},
    "pmem": {},
}
"""Retrieval without its currency step; with only its profile links and "now" ordering; with only "the later of
one subject first"; and as pmem runs it (both). Each home is imported once and searched each way."""


def split(qid: str) -> str:
    """"tune" or "held out", fixed by the id (the same on every machine and run)."""
    return "tune" if int(hashlib.sha256(qid[:7].encode()).hexdigest(), 16) % 2 == 0 else "held out"


def _session_order(runtime: Any, question: str, now: datetime, external: dict[str, str]) -> tuple[list[str], float]:
    """The sessions in the order of their best memory, and the search's milliseconds."""
    order: list[str] = []
    started = time.perf_counter()
    hits = runtime.memory.search(question, MEMORIES, now=now)
    ms = (time.perf_counter() - started) * 1000
    for hit in hits:
        session = external.get(hit.episode.session_id, hit.episode.session_id)
        if session not in order:
            order.append(session)
    return order, ms


def _row(q: dict[str, Any], order: list[str], dates: dict[str, str]) -> dict[str, Any]:
    evidence = list(q["evidence_session_ids"])
    rank = {s: n for n, s in enumerate(order, 1)}
    row: dict[str, Any] = {
        "qid": q["qid"], "type": q["type"], "split": split(q["qid"]),
        "session_r5": any(rank.get(e, 10**6) <= 5 for e in evidence),
        "evidence_ranks": [rank.get(e) for e in sorted(evidence, key=lambda e: dates.get(e, ""))],
    }
    if q["type"] == "knowledge-update":
        newest = max(evidence, key=lambda e: dates.get(e, ""))
        older = [e for e in evidence if e != newest]
        row["newest_in_top5"] = rank.get(newest, 10**6) <= 5
        row["newest_above_older"] = newest in rank and all(rank[newest] < rank.get(o, 10**6) for o in older)
    return row


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in sorted({r["type"] for r in rows}):
        for part in ("tune", "held out", "all"):
            chosen = [r for r in rows if r["type"] == kind and part in ("all", r["split"])]
            n = len(chosen)
            entry: dict[str, Any] = {"n": n, "session_r5": round(sum(r["session_r5"] for r in chosen) / n, 3)}
            if kind == "knowledge-update":
                for measure in ("newest_in_top5", "newest_above_older"):
                    entry[measure] = round(sum(r[measure] for r in chosen) / n, 3)
            out.setdefault(kind, {})[part] = entry
    return out


def run(configs: dict[str, dict[str, Any]], homes: Path | None, limit: int | None = None, only: str | None = None) -> dict[str, Any]:
    data = json.loads(gzip.open(DATA).read())
    questions = [q for q in data["questions"] if only is None or q["type"] == only][:limit]
    keep = homes is not None
    root = homes or Path(tempfile.mkdtemp(prefix="pmem-lme-"))
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    started = time.perf_counter()
    try:
        for i, q in enumerate(questions):
            home = root / q["qid"]
            done = home / ".imported"
            haystack = data["haystacks"][q["qid"]]
            if not done.exists():
                shutil.rmtree(home, ignore_errors=True)
                home.mkdir(parents=True)
            runtime = imported_home(home, None if done.exists() else haystack)
            done.touch()
            with runtime:
                dates = {s["id"]: s["started_at"] for s in haystack["sessions"]}
                external = {r[0]: r[1] for r in runtime.journal.conn.execute("SELECT id, external_id FROM sessions")}
                now = datetime.fromisoformat(q["question_date"].replace("Z", "+00:00"))
                retriever = runtime.memory.retriever
                base = retriever.weights
                runtime.memory.search(q["question"], MEMORIES, now=now)  # warm: the first search opens the stores
                for name, weights in configs.items():
                    retriever.weights = replace(base, **weights)
                    order, ms = _session_order(runtime, q["question"], now, external)
                    rows[name].append({**_row(q, order, dates), "search_ms": round(ms, 2)})
                retriever.weights = base
            if not keep:
                shutil.rmtree(home, ignore_errors=True)
            print(f"\rlongmemeval: {i + 1}/{len(questions)} ({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr, flush=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    print(file=sys.stderr)
    return {
        "seconds": round(time.perf_counter() - started),
        "configs": {name: {"weights": configs[name], "summary": _summary(r), "search_ms_median": round(percentile([x["search_ms"] for x in r], 50), 2),
                           "rows": r} for name, r in rows.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homes", type=Path, default=None, help="keep the imported homes here, and reuse those there")
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS), help="only these configurations")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE[,NAME=VALUE]",
                        help="one more configuration: retrieval weights changed from pmem's (e.g. same_subject=0.4)")
    parser.add_argument("--grid", action="store_true", help="Weights.same_subject on each value of SUBJECT_GRID "
                        "(-> results/longmemeval_grid.json)")
    parser.add_argument("--type", default=None, help="only questions of this type (e.g. knowledge-update)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--out", type=Path, default=RESULTS / "longmemeval_retrieval.json")
    args = parser.parse_args()
    configs = {name: CONFIGS[name] for name in (args.config or CONFIGS)}
    if args.grid:
        configs = {"off": CONFIGS["off"], **{f"same_subject={v}": {"same_subject": v} for v in SUBJECT_GRID}}
        args.out = RESULTS / "longmemeval_grid.json"
    for item in args.set:
        configs[item] = {k: float(v) for k, v in (pair.split("=", 1) for pair in item.split(","))}
    result = {"machine": machine(), **run(configs, args.homes, args.limit, args.type)}
    for name, config in result["configs"].items():
        print(name, json.dumps(config["summary"]), f"search {config['search_ms_median']} ms (median)")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
