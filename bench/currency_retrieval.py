"""Recall that knows what is current (issue #40): on the frozen currency set (``data/currency_set.json``), does
pmem's retrieval rank the memory of the current fact above the memory of the fact it replaced? (LongMemEval's
knowledge-update questions ask the same of real chat histories: ``longmemeval_retrieval.py``.)

Each user is imported through pmem's own import into a fresh home, then searched as ``pmem memory search`` searches
(k = 10): the rank of the first memory holding the current answer's marker and of the first holding a stale one;
"current above stale" when the current one ranks first (or the stale one is not in the top 10), and "current in the
top 5". Users 0-2 may be tuned on, 3-5 are held out.

``python -m bench.currency_retrieval [--off] [--grid] [--limit N] [--out PATH]`` → ``results/currency_retrieval.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import BENCH, RESULTS, imported_home, machine, write_json

CURRENCY = BENCH / "data" / "currency_set.json"
K = 10


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
            runtime = imported_home(Path(tmp), {"sessions": user["sessions"]})
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


SUBJECT_GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
"""The values of ``Weights.same_subject`` measured (here and on LongMemEval's tune half)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N users / questions")
    parser.add_argument("--out", type=Path, default=RESULTS / "currency_retrieval.json")
    parser.add_argument("--grid", action="store_true", help="the currency weights measured on users 0-2 (tune) and 3-5")
    parser.add_argument("--subject-grid", action="store_true", help="Weights.same_subject measured on users 0-2 and 3-5")
    parser.add_argument("--off", action="store_true", help="the currency step off (today's ranking before it)")
    args = parser.parse_args()
    if args.subject_grid:
        rows = []
        for same_subject in SUBJECT_GRID:
            c = currency(args.limit, {"same_subject": same_subject})
            rows.append({"same_subject": same_subject, **{k: c[k] for k in ("tune (users 0-2)", "held out (users 3-5)")}})
            print(json.dumps(rows[-1]))
        write_json(RESULTS / "currency_subject_grid.json", {"machine": machine(), "grid": rows})
        return
    if args.grid:
        grid = []
        for current in (0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2):
            for superseded in (0.0, 0.3, 0.6, 1.0):
                c = currency(args.limit, {"current": current, "superseded": superseded, "later": 0.0})
                grid.append({"current": current, "superseded": superseded, **{k: c[k] for k in ("tune (users 0-2)", "held out (users 3-5)")}})
                print(json.dumps(grid[-1]))
        write_json(RESULTS / "currency_grid.json", {"machine": machine(), "grid": grid})
        return
    off = {"current": 0.0, "superseded": 0.0, "later": 0.0} if args.off else None
    result: dict[str, Any] = {"machine": machine(), "k": K, "currency_step": "off" if args.off else "on", "currency": currency(args.limit, off)}
    c = result["currency"]
    print(json.dumps({k: v for k, v in c.items() if k != "rows"}, indent=1))
    for row in c["rows"]:
        if not row["above"] or not row["top5"]:
            print(f"  miss: {row['name']}: {row['question']} current {row['current_rank']} stale {row['stale_rank']}")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
