"""Retrieval latency at scale: p50/p95 of a full search (query embedding + dense + lexical + fusion) at N memories.

Memories are synthetic: N exchanges of sentences whose words follow a Zipf distribution over a
20,000-word vocabulary (like real text: a few very common words, a long tail of rare ones), written
through pmem's journal (so FTS5 indexes them for real), with vectors from the real embedder for a pool
of texts plus small noise (embedding 100k texts would take most of an hour on 2 cores and measures
the embedder, not retrieval). Queries are 3-8 words drawn from the same distribution minus its 150
most common words (the synthetic stand-in for stop words, which pmem drops from queries); each query
is embedded for real on every search.

    python -m bench.retrieval_latency [--sizes 1000 10000 100000] [--queries 200] [--out PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench.harness import RESULTS, bench_embedder, bench_settings, machine, percentile, wall_seconds, write_json

TOPIC_WORDS = (
    "garden kitchen bicycle sister brother mother father dog cat hiking running swimming coffee tea pasta curry "
    "python rust guitar piano concert museum holiday flight train lisbon berlin tokyo utrecht vancouver job manager "
    "meeting project deadline birthday wedding doctor dentist allergy peanuts vegetarian marathon novel poetry film "
    "camera painting pottery yoga chess football tennis climbing skiing sailing budget savings rent apartment house "
    "neighbour friend colleague teacher student exam course degree thesis research startup salary promotion"
).split()



def _vocabulary(n: int = 20_000) -> list[str]:
    """Pronounceable pseudo-words, with real topic words sprinkled in (so embeddings see some meaning)."""
    rng = random.Random(7)
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: list[str] = []
    seen: set[str] = set()
    topic = TOPIC_WORDS
    while len(words) < n:
        if len(words) % 20 == 0 and len(words) // 20 < len(topic):
            word = topic[len(words) // 20]
        else:
            word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


WORDS = _vocabulary()
_WEIGHTS = [1.0 / (rank + 1) ** 1.07 for rank in range(len(WORDS))]
_CUMULATIVE = list(__import__("itertools").accumulate(_WEIGHTS))


def _zipf_words(rng: random.Random, k: int, skip: int = 0) -> list[str]:
    lo = _CUMULATIVE[skip - 1] if skip else 0.0
    return [WORDS[__import__("bisect").bisect_left(_CUMULATIVE, lo + rng.random() * (_CUMULATIVE[-1] - lo))] for _ in range(k)]


def sentence(rng: random.Random) -> str:
    return " ".join(_zipf_words(rng, rng.randint(8, 16))).capitalize() + "."


def query(rng: random.Random) -> str:
    return " ".join(_zipf_words(rng, rng.randint(3, 8), skip=150)) + "?"


def build(n: int, home: str, rng: random.Random, embedder: Any) -> Any:
    from pmem.core.config import resolve_paths
    from pmem.core.memory.episodes import EpisodeTable
    from pmem.core.memory.service import MemoryService
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal
    from pmem.core.transfer import ImportSession, ImportTurn, import_sessions

    paths = resolve_paths({"PMEM_HOME": home})
    paths.ensure_data_dir()
    conn = connect(paths.database)
    memory = MemoryService(bench_settings(), paths, conn, embedder=embedder)
    per_session = 20
    sessions = []
    for s in range(0, n, per_session):
        day = f"2024-{1 + (s // per_session) % 12:02d}-{1 + (s // per_session) % 28:02d}T12:00:00+00:00"
        turns = []
        for _ in range(min(per_session, n - s)):
            turns.append(ImportTurn("user", sentence(rng), day))
            turns.append(ImportTurn("assistant", sentence(rng), day))
        sessions.append(ImportSession("bench", f"b{s}", "", day, turns))
    import_sessions(Journal(conn), "generic", sessions)
    memory.reconcile_episodes()
    pool_texts = [sentence(rng) + " " + sentence(rng) for _ in range(512)]
    pool = embedder.embed(pool_texts)
    table = EpisodeTable(conn)
    # One vector per turn (as pmem indexes), tagged with its episode; vectors from the pool plus noise.
    rows = conn.execute(
        "SELECT t.uid, e.id, e.session_id FROM turns t JOIN episodes e ON e.session_id = t.session_id "
        "AND t.id BETWEEN e.first_turn_id AND e.last_turn_id ORDER BY t.id"
    ).fetchall()
    nprng = np.random.default_rng(0)
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        vecs = pool[nprng.integers(0, len(pool), len(chunk))] + nprng.normal(0, 0.05, (len(chunk), pool.shape[1]))
        vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
        memory.vectors.upsert([r[0] for r in chunk], vecs, [{"episode": r[1], "session": r[2], "created_at": ""} for r in chunk])
    ids = [r[0] for r in conn.execute("SELECT id FROM episodes ORDER BY rowid")]
    for start in range(0, len(ids), 5000):
        conn.execute("BEGIN")
        table.mark_indexed(ids[start : start + 5000])
        conn.execute("COMMIT")
    return memory


def cold_cli_search(home: str, queries: list[str]) -> float:
    """Median wall time of ``pmem memory search`` in a new process on this store (start-up, embedder load,
    Chroma open, search, output): what a user waits for from a shell. One untimed run first: this store was
    built behind pmem's back (vectors written directly), so the first search compares the whole vector store
    with the journal once, as it would after a crash; a store pmem indexed itself skips that."""
    exe = str(Path(sys.executable).parent / "pmem")
    wall_seconds([[exe, "memory", "search", "warm-up"]], home)
    return round(percentile(wall_seconds([[exe, "memory", "search", q] for q in queries], home), 50), 3)


FEWER = 100
"""The candidate count measured beside pmem's own (``Weights.candidates``), on the same store and queries."""


def timed(queries: list[str], search: Callable[[str], object], retriever: Any) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds of each search, whole and its dense and lexical parts (the retriever's own timing)."""
    times, dense, lexical = [], [], []
    for q in queries:
        t = time.perf_counter()
        search(q)
        times.append((time.perf_counter() - t) * 1000)
        dense.append(retriever.last_timing["dense_ms"])
        lexical.append(retriever.last_timing["lexical_ms"])
    return times, dense, lexical


def run(sizes: list[int], queries: int, cold_sizes: tuple[int, ...] = (10000,), cold_runs: int = 3) -> dict[str, Any]:

    embedder = bench_embedder()
    embedder.load()
    rng = random.Random(42)
    out: dict[str, Any] = {"p50_ms": {}, "p95_ms": {}, "build_s": {}, "parts_p50_ms": {}}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="pmem-lat-") as home:
            t0 = time.perf_counter()
            memory = build(n, home, rng, embedder)
            out["build_s"][str(n)] = round(time.perf_counter() - t0, 1)
            qs = [query(rng) for _ in range(queries)]
            for q in qs[:10]:  # warm-up
                memory.search(q, 8)
            times, dense, lexical = timed(qs, lambda q: memory.search(q, 8), memory.retriever)
            out["p50_ms"][str(n)] = round(percentile(times, 50), 2)
            out["p95_ms"][str(n)] = round(percentile(times, 95), 2)
            out["parts_p50_ms"][str(n)] = {"embed+dense": round(percentile(dense, 50), 2), "lexical": round(percentile(lexical, 50), 2)}
            # The same queries with 100 candidates a retriever (as before the 300 dense candidates), on the same store.
            few = timed(qs, lambda q: memory.retriever.search(q, 8, candidates=FEWER), memory.retriever)[0]
            out.setdefault(f"p95_ms_{FEWER}_candidates", {})[str(n)] = round(percentile(few, 95), 2)
            out.setdefault(f"p50_ms_{FEWER}_candidates", {})[str(n)] = round(percentile(few, 50), 2)
            w = memory.retriever.weights
            out["candidates"] = {"dense": w.dense_count, "lexical": w.candidates}
            memory.close()
            memory.conn.close()
            if n in cold_sizes:
                out.setdefault("cli_search_cold_s", {})[str(n)] = cold_cli_search(home, qs[:cold_runs])
            print(f"{n:>7} memories: p50 {out['p50_ms'][str(n)]} ms, p95 {out['p95_ms'][str(n)]} ms with {out['candidates']['dense']} / "
                  f"{out['candidates']['lexical']} dense / BM25 candidates ({out[f'p95_ms_{FEWER}_candidates'][str(n)]} ms with {FEWER} / {FEWER}; built in {out['build_s'][str(n)]} s)", flush=True)
    out["machine"] = machine()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval_latency.json")
    args = parser.parse_args()
    result = run(args.sizes, args.queries)
    write_json(args.out, result)


if __name__ == "__main__":
    main()
