"""What the parametric layer adds: base vs adapter vs retrieval vs retrieval + adapter, on held-out questions.

A synthetic user (16 facts, told to pmem across 20 exchanges) lives in a throw-away PMEM_HOME. pmem distils
an adapter from it with its default settings (``DistillService.run``, timed). Then, for each fact, one
question phrased in a way training never used (``dataset.HELD_OUT``) is asked four ways, all through
llama-cpp-python with the default model:

- ``base``: the system prompt and the question, nothing else;
- ``adapter``: the same, with the adapter loaded;
- ``rag``: the prompt pmem's chat builds (profile block + retrieved memories), without the adapter;
- ``rag_adapter``: that prompt with the adapter.

``loglik``: mean log-probability per token of the reference answer ("You live in Utrecht.") after the prompt.
The reference has the shape of the training answers, which favours the adapter on this metric; ``accuracy``
(does the greedy reply contain the fact's value?) has no such bias.

    python -m bench.distill_eval            # writes bench/results/distill_eval.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any
from bench.harness import RESULTS, fresh_home, machine, write_json

FACTS = [
    ("identity.name", "Ada Quist"),
    ("identity.age", "34"),
    ("identity.hometown", "Groningen"),
    ("location.city", "Utrecht"),
    ("work.employer", "Fokker Labs"),
    ("work.job", "a data engineer"),
    ("pets.dog", "Pixel"),
    ("pets.cat", "Mochi"),
    ("people.sister", "Maren"),
    ("people.partner", "Jonas"),
    ("preferences.favourite_colour", "teal"),
    ("preferences.favourite_food", "ramen"),
    ("preferences.favourite_band", "Radiohead"),
    ("health.allergy", "peanuts"),
    ("projects.project", "a sourdough tracker app"),
    ("goals.training_for", "the Rotterdam marathon"),
]
EXCHANGES = [
    ("Hi! I'm Ada Quist, nice to meet you.", "Nice to meet you, Ada!"),
    ("I turned 34 last week, we had cake.", "Happy belated birthday!"),
    ("I grew up in Groningen but moved away for university.", "Groningen is a lovely city."),
    ("These days I live in Utrecht, near the canals.", "Utrecht's canals are beautiful."),
    ("Work at Fokker Labs was hectic today.", "Sorry to hear that; what happened?"),
    ("I'm a data engineer, so pipelines broke and I got paged.", "That sounds stressful."),
    ("My dog Pixel chewed my headphones again.", "Oh no, Pixel!"),
    ("Mochi, my cat, ignores Pixel completely.", "Cats and dogs, a classic."),
    ("My sister Maren is visiting next weekend.", "Have a nice time with Maren."),
    ("Jonas, my partner, is cooking tonight.", "Lucky you!"),
    ("Teal is my favourite colour, I painted the study teal.", "Sounds calming."),
    ("Ramen is the best food in the world, fight me.", "No argument here."),
    ("Radiohead is my favourite band; OK Computer on repeat.", "A classic album."),
    ("I'm allergic to peanuts so I check every label.", "Good habit."),
    ("I'm building a sourdough tracker app in my spare time.", "What will it track?"),
    ("I'm training for the Rotterdam marathon in April.", "Good luck with the training!"),
    ("The weather was grey all day.", "Typical autumn."),
    ("I read a paper about vector databases.", "Interesting, which one?"),
    ("Can you recommend a podcast about history?", "Try 'The Rest Is History'."),
    ("I finally fixed the squeaky door.", "Satisfying!"),
]


def fill_user(rt: Any) -> Any:
    """The benchmark's user in ``rt``'s (fresh) home: the profile facts and the exchanges above, indexed."""
    for key, value in FACTS:
        rt.profile.store.set(key, value)
    session = rt.journal.new_session("about me")
    for user, reply in EXCHANGES:
        u = rt.journal.add_turn(session.id, "user", user)
        a = rt.journal.add_turn(session.id, "assistant", reply)
        rt.memory.remember_exchange(u, a)
    rt.memory.flush()
    rt.memory.index_pending()
    return rt


def mean_loglik(llama: Any, prompt: list[int], answer: list[int]) -> float:
    import numpy as np

    llama.reset()
    llama.eval(prompt + answer)
    scores = np.asarray(llama.scores[: len(prompt) + len(answer)], dtype=np.float64)
    total = 0.0
    for i, token in enumerate(answer):
        row = scores[len(prompt) + i - 1]
        row = row - row.max()
        total += float(row[token] - np.log(np.exp(row).sum()))
    return total / max(1, len(answer))


def greedy(llama: Any, prompt: list[int], stop: list[str]) -> str:
    out = llama.create_completion(prompt=prompt, max_tokens=32, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=stop or None)
    return str(out["choices"][0]["text"])


def _peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=0, help="override distill.epochs")
    parser.add_argument("--out", type=Path, default=RESULTS / "distill_eval.json")
    args = parser.parse_args()

    from pmem.core.engine.llama_compat import import_llama_cpp
    llama_cpp = import_llama_cpp()

    from pmem.core.chat import ChatService
    from pmem.core.distill.dataset import answer_for, held_out_question
    from pmem.core.engine.llama import LlamaCppEngine

    with fresh_home("pmem-distill-eval-") as rt:
        fill_user(rt)
        started = time.perf_counter()
        report = rt.distill.run(epochs=args.epochs or None)
        wall = time.perf_counter() - started
        # The process's peak so far: the memory layers it set up and the training (``pmem distill`` runs the
        # same in one process); read before the evaluation loads llama.cpp models.
        peak_rss_mb = _peak_rss_mb()
        adapter = report.adapter
        assert adapter is not None, report.skipped
        adapter_path = rt.distill.store.path(adapter)
        model_path = rt.distill.model_path
        print(f"trained {report.summary()}", flush=True)

        vocab = LlamaCppEngine(model_path, vocab_only=True)
        service = ChatService(settings=rt.settings, paths=rt.paths, engine=vocab, journal=None, recall=rt.layers)
        service_no_memory_system = rt.settings.chat.system_prompt
        facts = rt.profile.store.current()
        items = []
        for fact in facts:
            question = held_out_question(fact)
            bare = [{"role": "system", "content": service_no_memory_system}, {"role": "user", "content": question}]
            rag = service.build(question).messages
            items.append(
                {
                    "fact": fact.key, "value": fact.value, "question": question,
                    "answer_tokens": vocab.tokenize_text(answer_for(fact)),
                    "prompts": {"bare": vocab.tokenize_prompt(bare), "rag": vocab.tokenize_prompt(rag)},
                }
            )
        stop = list(vocab.template.stop)
        vocab.close()

        threads = min(4, os.cpu_count() or 2)
        loglik: dict[str, float] = {}
        accuracy: dict[str, float] = {}
        replies: dict[str, list[str]] = {}
        for condition, lora, prompt_kind in (
            ("base", None, "bare"), ("adapter", adapter_path, "bare"), ("rag", None, "rag"), ("rag_adapter", adapter_path, "rag"),
        ):
            kwargs: dict[str, Any] = dict(model_path=str(model_path), n_ctx=4096, n_threads=threads, logits_all=True, verbose=False, seed=0)
            if lora is not None:
                kwargs["lora_path"] = str(lora)
            llama = llama_cpp.Llama(**kwargs)
            lls, hits, said = [], 0, []
            for item in items:
                prompt = item["prompts"][prompt_kind]
                lls.append(mean_loglik(llama, prompt, item["answer_tokens"]))
                reply = greedy(llama, prompt, stop)
                said.append(reply.strip())
                hits += item["value"].lower() in reply.lower()
            llama.close()
            loglik[condition] = round(sum(lls) / len(lls), 4)
            accuracy[condition] = round(hits / len(items), 4)
            replies[condition] = said
            print(f"{condition:12s} loglik {loglik[condition]:.3f}  accuracy {accuracy[condition]:.3f}", flush=True)

    result = {
        "loglik": loglik,
        "accuracy": accuracy,
        "train_s": round(adapter.train_s or 0.0, 1),
        "distill_wall_s": round(wall, 1),
        "distill_peak_rss_mb": peak_rss_mb,
        "adapter_mb": round(adapter.bytes / 1e6, 2),
        "examples": adapter.examples,
        "epochs": adapter.epochs,
        "facts": adapter.facts,
        "memories": adapter.episodes,
        "loss": [adapter.first_loss, adapter.final_loss],
        "questions": len(items),
        "samples": [
            {"question": it["question"], "value": it["value"], **{c: replies[c][i] for c in replies}} for i, it in enumerate(items)
        ],
        "machine": machine(),
    }
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("loglik", "accuracy", "train_s", "adapter_mb", "distill_peak_rss_mb")}, indent=2))


if __name__ == "__main__":
    main()
