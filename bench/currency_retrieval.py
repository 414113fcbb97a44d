"""Recall that knows what is current (issue #40): on the frozen currency set (``data/currency_set.json``) and, with
``--longmemeval``, on LongMemEval-S's development subset (``../shared/data/longmemeval``), does pmem's retrieval rank
the memory of the current fact above the memory of the fact it replaced?

Each user (each LongMemEval haystack) is imported through pmem's own import into a fresh home, then searched as
``pmem memory search`` searches (k = 10).

- Currency set: the rank of the first memory holding the current answer's marker and of the first holding a stale
  one; "current above stale" when the current one ranks first (or the stale one is not in the top 10), and "current in
  the top 5". Users 0-2 may be tuned on, 3-5 are held out.
- LongMemEval: session R@5 (any evidence session in the top 5 sessions, as published), and for knowledge-update
  questions whether the newest evidence session is in the top 5 and ranked above every older evidence session.

``python -m bench.currency_retrieval [--longmemeval] [--limit N] [--out PATH]`` → ``results/currency_retrieval.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from bench.harness import BENCH, RESULTS, SHARED, machine, write_json

CURRENCY = BENCH / "data" / "currency_set.json"
LONGMEMEVAL = SHARED / "data" / "longmemeval" / "lme_s_dev.json.gz"
K = 10


_EMBEDDER: Any = None


def _home(root: Path, sessions: dict[str, Any]) -> Any:
    """A fresh data dir with ``sessions`` imported through pmem's import path; returns the open runtime. One embedder
    serves every home, and Chroma's per-path client cache is emptied between homes (124 haystacks would otherwise
    keep 124 ONNX sessions and Chroma systems: 9 GB by the 50th)."""
    import gc

    from chromadb.api.client import SharedSystemClient

    from pmem.core.assistant import Assistant
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.memory.embedder import embedder_from_settings
    from pmem.core.memory.service import MemoryService
    from pmem.core.runtime import Runtime

    global _EMBEDDER
    SharedSystemClient.clear_system_cache()
    gc.collect()
    env = {"PMEM_HOME": str(root), "PMEM_DISTILL_AUTO": "false", "PMEM_BACKUP_ENABLED": "false"}
    paths = resolve_paths(env)
    paths.ensure_data_dir()
    runtime = Runtime(load_settings(paths, env), paths)
    if _EMBEDDER is None:
        _EMBEDDER = embedder_from_settings(runtime.settings, paths)
    runtime._memory = MemoryService(runtime.settings, paths, runtime.journal.conn, embedder=_EMBEDDER)
    source = root / "import.json"
    source.write_text(json.dumps(sessions), encoding="utf-8")
    Assistant(runtime).transfer.import_file(source)
    return runtime


def _rank(hits: list[Any], markers: list[str]) -> int | None:
    for i, hit in enumerate(hits, 1):
        if any(m.lower() in hit.episode.text().lower() for m in markers):
            return i
    return None


def currency(limit: int | None = None, weights: dict[str, float] | None = None) -> dict[str, Any]:
    data = json.loads(CURRENCY.read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    changed: dict[str, int] = {}
    for index, user in enumerate(data["users"][:limit]):
        with tempfile.TemporaryDirectory(prefix="pmem-currency-") as tmp:
            runtime = _home(Path(tmp), {"sessions": user["sessions"]})
            with runtime:
                changed[user["user"]] = int(runtime.journal.conn.execute("SELECT count(*) FROM facts WHERE valid_to IS NOT NULL").fetchone()[0])
                memory = runtime.memory
                if weights:
                    from dataclasses import replace

                    memory.retriever.weights = replace(memory.retriever.weights, **weights)
                for q in user["questions"]:
                    hits = memory.search(q["q"], K)
                    current, stale = _rank(hits, q["current"]), _rank(hits, q["stale"])
                    rows.append({
                        "user": index, "name": user["user"], "question": q["q"], "current_rank": current, "stale_rank": stale,
                        "above": current is not None and (stale is None or current < stale),
                        "top5": current is not None and current <= 5,
                    })

    def summary(part: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(part)
        return {"n": n, "current_above_stale": round(sum(r["above"] for r in part) / n, 3) if n else None,
                "current_in_top5": round(sum(r["top5"] for r in part) / n, 3) if n else None}

    return {
        "all": summary(rows), "tune (users 0-2)": summary([r for r in rows if r["user"] < 3]),
        "held out (users 3-5)": summary([r for r in rows if r["user"] >= 3]),
        "facts_superseded_by_the_profile": changed, "rows": rows,
    }


SETTINGS = {"off": {"current": 0.0, "superseded": 0.0}, "pmem": {}}
"""Retrieval without its currency step and as pmem runs it, compared on LongMemEval in one pass (each haystack is
imported once and searched both ways)."""


def longmemeval(limit: int | None = None, settings: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    from dataclasses import replace

    settings = settings or {"pmem": {}}
    data = json.loads(gzip.open(LONGMEMEVAL).read())
    questions = data["questions"][:limit]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in settings}
    started = time.perf_counter()
    for i, q in enumerate(questions):
        haystack = data["haystacks"][q["qid"]]
        dates = {s["id"]: s["started_at"] for s in haystack["sessions"]}
        evidence = list(q["evidence_session_ids"])
        with tempfile.TemporaryDirectory(prefix="pmem-lme-") as tmp:
            runtime = _home(Path(tmp), haystack)
            with runtime:
                external = {row[0]: row[1] for row in runtime.journal.conn.execute("SELECT id, external_id FROM sessions")}
                retriever = runtime.memory.retriever
                base = retriever.weights
                for name, weights in settings.items():
                    retriever.weights = replace(base, **weights)
                    order: list[str] = []
                    for hit in runtime.memory.search(q["question"], 50):
                        session = external.get(hit.episode.session_id, hit.episode.session_id)
                        if session not in order:
                            order.append(session)
                    top5 = order[:5]
                    row: dict[str, Any] = {"qid": q["qid"], "type": q["type"], "session_r5": any(e in top5 for e in evidence)}
                    if q["type"] == "knowledge-update":
                        newest = max(evidence, key=lambda e: dates.get(e, ""))
                        older = [e for e in evidence if e != newest]
                        rank = {s: n for n, s in enumerate(order)}
                        row["newest_in_top5"] = newest in top5
                        row["newest_above_older"] = newest in rank and all(rank[newest] < rank.get(o, 10**6) for o in older)
                    rows[name].append(row)
        print(f"\rlongmemeval: {i + 1}/{len(questions)} ({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - started)}
    for name, part_rows in rows.items():
        summary: dict[str, Any] = {}
        for kind in sorted({r["type"] for r in part_rows}):
            part = [r for r in part_rows if r["type"] == kind]
            entry: dict[str, Any] = {"n": len(part), "session_r5": round(sum(r["session_r5"] for r in part) / len(part), 3)}
            if kind == "knowledge-update":
                entry["newest_in_top5"] = round(sum(r["newest_in_top5"] for r in part) / len(part), 3)
                entry["newest_above_older"] = round(sum(r["newest_above_older"] for r in part) / len(part), 3)
            summary[kind] = entry
        out[name] = {"summary": summary, "rows": part_rows}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--longmemeval", action="store_true", help="also LongMemEval-S's development subset (~35 min)")
    parser.add_argument("--compare", action="store_true", help="LongMemEval with each of SETTINGS (one import per haystack)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N users / questions")
    parser.add_argument("--out", type=Path, default=RESULTS / "currency_retrieval.json")
    parser.add_argument("--grid", action="store_true", help="the currency weights measured on users 0-2 (tune) and 3-5")
    parser.add_argument("--off", action="store_true", help="the currency step off (today's ranking before it)")
    args = parser.parse_args()
    if args.grid:
        grid = []
        for current in (0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2):
            for superseded in (0.0, 0.3, 0.6, 1.0):
                c = currency(args.limit, {"current": current, "superseded": superseded})
                grid.append({"current": current, "superseded": superseded, **{k: c[k] for k in ("tune (users 0-2)", "held out (users 3-5)")}})
                print(json.dumps(grid[-1]))
        write_json(RESULTS / "currency_grid.json", {"machine": machine(), "grid": grid})
        return
    off = {"current": 0.0, "superseded": 0.0} if args.off else None
    result: dict[str, Any] = {"machine": machine(), "k": K, "currency_step": "off" if args.off else "on", "currency": currency(args.limit, off)}
    c = result["currency"]
    print(json.dumps({k: v for k, v in c.items() if k != "rows"}, indent=1))
    for row in c["rows"]:
        if not row["above"] or not row["top5"]:
            print(f"  miss: {row['name']}: {row['question']} current {row['current_rank']} stale {row['stale_rank']}")
    if args.longmemeval:
        chosen = SETTINGS if args.compare else {"off" if args.off else "pmem": off or {}}
        result["longmemeval"] = longmemeval(args.limit, chosen)
        print(json.dumps({k: (v["summary"] if isinstance(v, dict) else v) for k, v in result["longmemeval"].items()}, indent=1))
    write_json(args.out, result)


if __name__ == "__main__":
    main()
